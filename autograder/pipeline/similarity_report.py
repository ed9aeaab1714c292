"""``similarity.html``: pairs of submissions whose own code, or whose trained weights, are unusually alike.

The code compared is what each student wrote in the answer cells (nbgrader ``solution: true``),
less the statements of the released starter of that cell (:mod:`.similarity` does the rest).
Handed-in ``trained_models/*.weights.h5`` files that are byte for byte the same (SHA-256) are
listed as pairs as well. The page is a prompt to look, never a verdict, and changes no score.
"""

from __future__ import annotations

import hashlib
import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat

from . import handed_in_models
from .intake import Submission
from .model import Status
from .nbgrader_cells import grade_id, is_solution
from .similarity import MIN_SHARED, THRESHOLD, AnswerCell, Fingerprints, PairScore, fingerprint, score_class


def starter_cells(root: Path | None, assignment: str, notebook_id: str | None) -> dict[str, str]:
    """grade id -> source of each answer cell of the released student notebook (empty when it cannot be found)."""
    if root is None:
        return {}
    folder = root / "assignments" / assignment
    candidates = [folder / f"{notebook_id or assignment}.ipynb", *sorted(folder.glob("*.ipynb"))]
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        return {}
    nb = nbformat.read(path, as_version=4)
    return {grade_id(c): c.source for c in nb.cells if is_solution(c)}


def answer_cells(nb, starter: dict[str, str]) -> list[AnswerCell]:
    cells = []
    for cell in nb.cells:
        if is_solution(cell) and cell.get("cell_type") == "code" and grade_id(cell):
            cells.append(AnswerCell(grade_id(cell), cell.source, starter.get(grade_id(cell), "")))
    return cells


@dataclass(frozen=True)
class SimilarPair:
    assignment: str
    first: Submission
    second: Submission
    score: PairScore
    first_prints: Fingerprints
    second_prints: Fingerprints


@dataclass(frozen=True)
class SameWeights:
    assignment: str
    students: tuple[str, str]
    files: tuple[str, ...]  # the file names each handed in with those bytes
    sha256: str


def _comparable(subs: Sequence[Submission]) -> dict[str, list[Submission]]:
    by_assignment: dict[str, list[Submission]] = defaultdict(list)
    for s in subs:
        if s.assignment and s.nb is not None and s.status is not Status.INVALID:
            by_assignment[s.assignment].append(s)
    return by_assignment


def similar_pairs(subs: Sequence[Submission], root: Path | None) -> tuple[list[SimilarPair], dict[str, int]]:
    """The listed pairs, highest score first, and how many submissions each assignment compared."""
    listed, compared = [], {}
    for aid, group in sorted(_comparable(subs).items()):
        starter = starter_cells(root, aid, group[0].notebook_id)
        prints = [fingerprint(answer_cells(s.nb, starter)) for s in group]
        compared[aid] = len(group)
        for pair in score_class(prints):
            if pair.flagged:
                listed.append(SimilarPair(aid, group[pair.first], group[pair.second], pair, prints[pair.first], prints[pair.second]))
    return sorted(listed, key=lambda p: -p.score.score), compared


def same_weights(subs: Sequence[Submission]) -> list[SameWeights]:
    """Pairs of students of one assignment who handed in a weights file with identical bytes."""
    holders: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (assignment, sha256) -> (student, file)
    for aid, group in sorted(_comparable(subs).items()):
        for s in group:
            for name, data in handed_in_models.read_folder(s.trained_models).files.items():
                if name.endswith(".weights.h5"):
                    holders[(aid, hashlib.sha256(data).hexdigest())].append((s.student, name))
    found = []
    for (aid, digest), owners in sorted(holders.items()):
        students = sorted({student for student, _ in owners})
        for i, a in enumerate(students):
            for b in students[i + 1 :]:
                files = tuple(sorted({name for student, name in owners if student in (a, b)}))
                found.append(SameWeights(aid, (a, b), files, digest))
    return found


def _passages(sub: Submission, prints: Fingerprints, shared: frozenset[int]) -> dict[str, set[int]]:
    """grade id -> the lines of this submission that the shared fingerprints cover."""
    lines: dict[str, set[int]] = defaultdict(set)
    for value in shared:
        for cell, first, last in prints.hashes.get(value, []):
            lines[cell].update(range(first, last + 1))
    return lines


def _cell_sources(sub: Submission) -> dict[str, str]:
    return {grade_id(c): c.source for c in sub.nb.cells if is_solution(c)}


def _excerpt(source: str, marked: set[int]) -> str:
    """The marked lines (shared passages, highlighted) with a line of context, gaps shown as ``…``."""
    lines = source.splitlines()
    keep = {n for m in marked for n in (m - 1, m, m + 1) if 1 <= n <= len(lines)}
    out, last = [], 0
    for n in sorted(keep):
        if last and n > last + 1:
            out.append('<span class="gap">…</span>')
        text = html.escape(lines[n - 1]) or " "
        out.append(f"<mark>{text}</mark>" if n in marked else text)
        last = n
    return "\n".join(out)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:90rem;margin:2rem auto;padding:0 1rem;color:#222}
.notice{border:2px solid #b9770e;background:#fef5e7;padding:.75rem 1rem;margin-bottom:1.5rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}pre{margin:0;font-size:12px;white-space:pre-wrap}mark{background:#fde3a7}.gap{color:#999}code{background:#f6f6f6}"""


def write_html(pairs: Sequence[SimilarPair], compared: dict[str, int], weights: Sequence[SameWeights], path: Path, starter_found: bool) -> Path:
    esc = html.escape
    body = [
        "<h1>Similar submissions</h1>",
        '<div class="notice"><p><strong>This page is not evidence of misconduct, and it never changes a score.</strong> '
        "It lists pairs of submissions whose own code is unusually alike, so that a person can look. Small tasks have few "
        "ways to be solved, so honest code often looks alike; students may also have worked together as allowed, or "
        "started from the same lecture example. Identical trained weights can come from identical code trained with the "
        "same seed.</p>"
        f"<p>Compared: the answer cells only, without the lines of the released starter{'' if starter_found else ' (the starter was not found, so its lines count too)'}; "
        "identifiers, literals, comments, docstrings and layout do not matter, and neither does the order of functions. "
        f"A pair is listed when its score (the Jaccard index of its winnowed fingerprints) is at least {THRESHOLD} "
        f"and it shares at least {MIN_SHARED} fingerprints; code that more than half of a class of ten or more wrote alike is ignored. "
        "See <code>benchmarks/results/similarity_calibration.md</code> for how often this lists disguised copies and honest answers.</p></div>",
        "<p>Submissions compared: " + ", ".join(f"{esc(a)}: {n}" for a, n in compared.items()) + ".</p>",
    ]
    body.append(f"<h2>Code ({len(pairs)} pair{'s' if len(pairs) != 1 else ''})</h2>")
    if not pairs:
        body.append("<p>No pair above the threshold.</p>")
    for pair in pairs:
        a, b = pair.first, pair.second
        body.append(
            f"<h3>{esc(pair.assignment)}: {esc(a.student)} and {esc(b.student)}: score {pair.score.score:.2f}, "
            f"{len(pair.score.shared)} shared fingerprints</h3>"
        )
        marks_a, marks_b = _passages(a, pair.first_prints, pair.score.shared), _passages(b, pair.second_prints, pair.score.shared)
        sources_a, sources_b = _cell_sources(a), _cell_sources(b)
        body.append(f"<table><tr><th>cell</th><th>{esc(a.student)}</th><th>{esc(b.student)}</th></tr>")
        for cell in sorted(set(marks_a) | set(marks_b), key=lambda g: list(sources_a).index(g) if g in sources_a else 1_000):
            left = _excerpt(sources_a.get(cell, ""), marks_a.get(cell, set()))
            right = _excerpt(sources_b.get(cell, ""), marks_b.get(cell, set()))
            body.append(f"<tr><td><code>{esc(cell)}</code></td><td><pre>{left}</pre></td><td><pre>{right}</pre></td></tr>")
        body.append("</table>")
    body.append(f"<h2>Trained weights ({len(weights)} pair{'s' if len(weights) != 1 else ''})</h2>")
    if weights:
        body.append("<table><tr><th>assignment</th><th>students</th><th>files</th><th>SHA-256</th></tr>")
        for w in weights:
            body.append(
                f"<tr><td>{esc(w.assignment)}</td><td>{esc(' and '.join(w.students))}</td><td>{esc(', '.join(w.files))}</td><td><code>{w.sha256[:16]}…</code></td></tr>"
            )
        body.append("</table>")
    else:
        body.append("<p>No two students handed in identical weight files.</p>")
    page = f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Similar submissions</title><style>{_STYLE}</style></head><body>{"".join(body)}</body></html>'
    path.write_text(page, encoding="utf-8")
    return path


def write_similarity_report(subs: Sequence[Submission], workdir: Path, root: Path | None) -> Path:
    pairs, compared = similar_pairs(subs, root)
    starter_found = root is not None and (root / "assignments").is_dir()
    return write_html(pairs, compared, same_weights(subs), workdir / "similarity.html", starter_found)
