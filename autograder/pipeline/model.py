"""The grading pipeline's data: what goes to a worker, what comes back, and the words in between.

Everything here is plain, typed data (enums and dataclasses that convert to and
from dicts), so a result travels from a worker process or a Dask worker on
another machine to the coordinator, and into ``grading_state.json``, without
anyone matching strings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING

from ..training import AuditVerdict
from ..training import Outcome as TrainingOutcome

if TYPE_CHECKING:  # the class lives beside the kernel launcher it configures; results and reports do not need it
    from .sandbox import SandboxSettings


class Status(StrEnum):
    """What became of one submission. A ``StrEnum``: it prints, compares and writes to CSV as its value."""

    PENDING = "pending"
    GRADED = "graded"
    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    OUT_OF_MEMORY = "out of memory"
    TAMPERED = "tampered"
    INVALID = "invalid"


# When several apply, the submission gets the most serious: the order an instructor must look at them.
STATUS_PRECEDENCE = (Status.INVALID, Status.TAMPERED, Status.OUT_OF_MEMORY, Status.CRASHED, Status.TIMED_OUT, Status.GRADED)


class EventKind(StrEnum):
    """Something the executing preprocessor saw happen to a cell (recorded as it happens, not read back from output)."""

    CELL_TIMED_OUT = "cell timed out"
    NOTEBOOK_TIMED_OUT = "notebook timed out"
    KERNEL_DIED = "kernel died"
    CPU_LIMIT = "CPU-time limit"
    MEMORY_LIMIT = "memory limit"
    NOT_RUN = "not run"
    OUTPUT_TRUNCATED = "output truncated"
    MARKER_MISSING = "completion marker missing"
    ENVIRONMENT_MODIFIED = "grading environment modified"

    @property
    def status(self) -> Status | None:
        """The submission status this event implies (``None``: it is worth a note, not a status)."""
        return _EVENT_STATUS.get(self)


_EVENT_STATUS = {
    EventKind.CELL_TIMED_OUT: Status.TIMED_OUT,
    EventKind.NOTEBOOK_TIMED_OUT: Status.TIMED_OUT,
    EventKind.CPU_LIMIT: Status.TIMED_OUT,
    EventKind.KERNEL_DIED: Status.CRASHED,
    EventKind.MEMORY_LIMIT: Status.OUT_OF_MEMORY,
    EventKind.MARKER_MISSING: Status.TAMPERED,
    EventKind.ENVIRONMENT_MODIFIED: Status.TAMPERED,
}


@dataclass(frozen=True)
class CellEvent:
    kind: EventKind
    cell: str  # the cell's grade id, or "#<n>" (1-based position) for an ungraded cell
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.cell}: {self.kind}" + (f" ({self.detail})" if self.detail else "")

    @classmethod
    def from_dict(cls, data: dict) -> CellEvent:
        return cls(EventKind(data["kind"]), data["cell"], data.get("detail", ""))


class Severity(StrEnum):
    """How the scorer treats a static-scan finding."""

    WITHHOLD = "withhold"  # a construct with no innocent use in homework: points withheld until someone looks
    REVIEW = "review"  # worth a look; the points stand


@dataclass(frozen=True)
class Finding:
    """One construct the static scan noticed in a cell the student could edit."""

    cell: str
    line: int
    what: str
    code: str
    severity: Severity = Severity.WITHHOLD

    def __str__(self) -> str:
        return f"cell {self.cell}, line {self.line}: {self.what}: {self.code}"

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        return cls(data["cell"], data["line"], data["what"], data["code"], Severity(data["severity"]))


@dataclass(frozen=True)
class CellScore:
    """One graded cell as nbgrader scored it (``points`` is ``None`` while a written answer awaits a person)."""

    grade_id: str
    points: float | None
    max_points: float
    autograded: bool  # a test cell (code); written answers are graded by hand
    failure: str = ""  # first line of the error a failing test cell raised
    diagnosis: str = ""  # the failure's autograder.checks.diagnoses.Diagnosis code, when a check named the mistake


@dataclass(frozen=True)
class FailedTest:
    """What a failing test cell's error output says: its first line, and the mistake it names, if any."""

    message: str
    diagnosis: str = ""


@dataclass(frozen=True)
class TrainingNote:
    """One call of ``train_or_restore`` in the grading kernel."""

    name: str
    outcome: TrainingOutcome
    reason: str = ""
    seconds: float = 0.0
    audit: AuditVerdict | None = None
    audit_detail: str = ""

    @property
    def flagged(self) -> bool:
        return self.audit is AuditVerdict.MISMATCH

    def __str__(self) -> str:
        if self.outcome is TrainingOutcome.AUDITED:
            return f"{self.name}: audit {self.audit}" + (f" ({self.audit_detail})" if self.flagged else "")
        return f"{self.name}: {self.outcome}" + (f" ({self.reason})" if self.reason else "")

    @classmethod
    def from_dict(cls, data: dict) -> TrainingNote:
        audit = data.get("audit")
        if isinstance(audit, dict):  # as the kernel writes it
            verdict, detail = audit.get("verdict"), audit.get("detail", "")
        else:  # as to_dict wrote it
            verdict, detail = audit, data.get("audit_detail", "")
        return cls(
            name=str(data["name"])[:64],
            outcome=TrainingOutcome(data["outcome"]),
            reason=str(data.get("reason", ""))[:300],
            seconds=float(data.get("seconds") or 0.0),
            audit=AuditVerdict(verdict) if verdict else None,
            audit_detail=str(detail)[:500],
        )


@dataclass
class GradingTask:
    """Everything a worker needs to grade one submission (plain data: it may travel to another machine)."""

    student: str
    assignment: str
    notebook_id: str
    submission: str  # the notebook, as JSON text
    source: str  # the instructor's source notebook, as JSON text
    gradebook: bytes  # an empty gradebook with only this assignment registered
    course_root: str
    sandbox: SandboxSettings
    integrity: bool = True
    static_scan: bool = True
    show_hidden_tests: bool = False
    trained_models: dict[str, bytes] = field(default_factory=dict)  # file name -> bytes, from trained_models/
    training_mode: str = "reuse"  # autograder.training.Mode: reuse, train or audit
    keep_trained_models: bool = False  # send back the kernel's trained_models/ (the weights grading trained)


@dataclass
class GradingResult:
    """The outcome of grading one submission: decided once, by :func:`.scoring.final_score`, in the worker."""

    status: Status = Status.PENDING
    message: str = ""
    cells: list[CellScore] = field(default_factory=list)  # the final scores (after any withholding)
    events: list[CellEvent] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. read-only cells the student edited (restored)
    training: list[TrainingNote] = field(default_factory=list)  # each graded model: restored, trained or audited
    autograded: str | None = field(default=None, repr=False)  # the autograded notebook (JSON text)
    feedback_html: str | None = field(default=None, repr=False)
    trained_files: dict[str, bytes] | None = field(default=None, repr=False)  # with keep_trained_models
    seconds: float | None = None
    host: str = ""

    # ---- figures every report takes from here (and nowhere else)
    @property
    def score(self) -> float | None:
        return sum(c.points or 0 for c in self.cells) if self.cells else None

    @property
    def max_score(self) -> float | None:
        return sum(c.max_points for c in self.cells) if self.cells else None

    @property
    def auto_score(self) -> float | None:
        return sum(c.points or 0 for c in self.cells if c.autograded) if self.cells else None

    @property
    def auto_max_score(self) -> float | None:
        return sum(c.max_points for c in self.cells if c.autograded) if self.cells else None

    @property
    def manual_pending(self) -> bool:
        return any(c.points is None and not c.autograded for c in self.cells)

    @property
    def failed_tests(self) -> list[tuple[str, str]]:
        return [(c.grade_id, c.failure) for c in self.cells if c.autograded and c.failure]

    @property
    def audit(self) -> str:
        """The audit column: empty when not audited, else each audited model's verdict ("for review" on a mismatch)."""
        audited = [t for t in self.training if t.outcome is TrainingOutcome.AUDITED]
        if not audited:
            return ""
        if any(t.flagged for t in audited):
            return "for review: the submitted weights do not come from this code: " + "; ".join(
                f"{t.name}: {t.audit_detail}" for t in audited if t.flagged
            )
        return "; ".join(f"{t.name}: {t.audit}" for t in audited)

    @property
    def training_summary(self) -> str:
        """Which models were graded as submitted and which were trained here, and why."""
        return "; ".join(str(t) for t in self.training if t.outcome is not TrainingOutcome.AUDITED)

    def to_dict(self, files: bool = True) -> dict:
        data = asdict(self)
        if not files:
            data.pop("autograded")
            data.pop("feedback_html")
            data.pop("trained_files")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradingResult:
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["status"] = Status(kwargs.get("status", Status.PENDING))
        kwargs["cells"] = [CellScore(**c) for c in kwargs.get("cells", [])]
        kwargs["events"] = [CellEvent.from_dict(e) for e in kwargs.get("events", [])]
        kwargs["findings"] = [Finding.from_dict(f) for f in kwargs.get("findings", [])]
        kwargs["training"] = [TrainingNote.from_dict(t) for t in kwargs.get("training", [])]
        return cls(**kwargs)
