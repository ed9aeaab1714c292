"""Which submissions are trained again to check that their handed-in weights come from their code.

A sample per assignment (at least one), drawn with a seed that is printed and
kept, plus every submission of the students the instructor names. An audited
submission's kernel trains as it would without weights and compares the
result with what was handed in (``autograder.training``); a mismatch is
reported "for review" and never changes a score.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import handed_in_models
from .intake import Submission
from .model import Status

PLAN_FILE = "audit.json"
# One submission in twenty trained again: a student who hands in weights their code did not produce
# is caught with that chance per assignment, six times a semester (1 - 0.95**6 = 26 %), at a cost of
# one full grading per twenty (benchmarks/results/grading_projection.md); instructors name the ones they doubt.
DEFAULT_AUDIT_FRACTION = 0.05


@dataclass
class AuditPlan:
    seed: int
    fraction: float
    chosen: list[str] = field(default_factory=list)  # "<student>/<assignment>"
    candidates: dict[str, int] = field(default_factory=dict)  # assignment -> submissions with weights

    def __str__(self) -> str:
        if not self.candidates:
            return "Audit: no submission handed in trained weights, so every model was trained here."
        total = sum(self.candidates.values())
        return (
            f"Audit: {len(self.chosen)} of {total} submissions with trained weights re-trained and compared "
            f"(fraction {self.fraction:g}, at least one per assignment, seed {self.seed}; `--audit-seed {self.seed}` repeats the draw)"
        )

    def write(self, workdir: Path) -> Path:
        path = workdir / PLAN_FILE
        path.write_text(json.dumps(asdict(self), indent=1))
        return path


def has_weights(sub: Submission) -> bool:
    return any(name.endswith(".weights.h5") for name in handed_in_models.read_folder(sub.trained_models).files)


def choose_audits(subs: Sequence[Submission], fraction: float, seed: int | None, named: Iterable[str] = ()) -> AuditPlan:
    """Mark ``sub.audit`` on a seeded sample of the pending submissions that handed in weights, and on the named students'.

    The sample is ``ceil(fraction * n)`` of each assignment's ``n`` such submissions, at least one
    (none when ``fraction`` is 0).
    """
    seed = secrets.randbelow(2**31) if seed is None else seed
    plan = AuditPlan(seed=seed, fraction=fraction)
    named = set(named)
    by_assignment: dict[str, list[Submission]] = defaultdict(list)
    for sub in subs:
        sub.audit = sub.status is Status.PENDING and bool(sub.assignment) and sub.student in named
        if sub.status is not Status.PENDING or not sub.assignment:
            continue
        if has_weights(sub):
            by_assignment[sub.assignment].append(sub)
    rng = random.Random(seed)
    for assignment in sorted(by_assignment):
        pool = sorted(by_assignment[assignment], key=lambda s: s.student)
        plan.candidates[assignment] = len(pool)
        if fraction <= 0:
            continue
        count = len(pool) if fraction >= 1 else min(len(pool), max(1, math.ceil(fraction * len(pool))))
        for sub in rng.sample(pool, count):
            sub.audit = True
    plan.chosen = sorted(f"{s.student}/{s.assignment}" for s in subs if s.audit)
    return plan
