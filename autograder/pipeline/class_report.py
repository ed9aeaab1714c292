"""What the class got wrong: each test's failures grouped by the mistake the checks named.

``misconceptions.csv`` has one row per assignment, test and mistake: its code and name, how
many students made it and their share of those graded, who, and the section of the notebook to
revisit (the heading above the test cell). ``misconceptions.html`` is the same on one
self-contained page, led by what to re-teach: per assignment, each mistake by the share of the
class that made it anywhere. A failure no check named is grouped by its message, numbers masked.
"""

from __future__ import annotations

import csv
import html
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..checks.diagnoses import Diagnosis
from .intake import Submission
from .nbgrader_cells import grade_id

CSV_COLUMNS = ["assignment", "test", "section", "diagnosis", "name", "count", "share", "students", "example"]
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class Misconception:
    """One mistake on one test: who made it, out of how many graded."""

    assignment: str
    test: str
    section: str
    diagnosis: str  # a Diagnosis code; "" for failures no check named, grouped by message
    name: str
    students: tuple[str, ...]
    graded: int  # submissions of the assignment whose result scores this test
    example: str

    @property
    def count(self) -> int:
        return len(self.students)

    @property
    def share(self) -> float:
        return self.count / self.graded if self.graded else 0.0


def diagnosis_name(code: str) -> str:
    try:
        return Diagnosis(code).title
    except ValueError:  # a code from a newer grader: show it as it is
        return code


def message_group(failure: str) -> str:
    """A failure's message with its numbers masked, so the same mistake with other values groups together."""
    return _NUMBER.sub("#", failure).strip()


def heading_above_each_cell(nb) -> dict[str, str]:
    """grade id -> the nearest markdown heading above that cell."""
    sections, current = {}, ""
    for cell in getattr(nb, "cells", []) or []:
        if cell.get("cell_type") == "markdown":
            for line in cell.get("source", "").splitlines():
                match = _HEADING.match(line)
                if match:
                    current = match.group(0).lstrip("#").strip()
        if grade_id(cell):
            sections[grade_id(cell)] = current
    return sections


def misconceptions(subs: Sequence[Submission]) -> list[Misconception]:
    """Every mistake on every test, most common first within each assignment."""
    graded: dict[tuple[str, str], int] = defaultdict(int)
    groups: dict[tuple[str, str, str, str], list[tuple[str, str]]] = defaultdict(list)  # (assignment, test, code, message group)
    sections: dict[str, dict[str, str]] = {}
    for s in subs:
        if not s.assignment or not s.result.cells:
            continue
        if s.assignment not in sections and s.nb is not None:
            sections[s.assignment] = heading_above_each_cell(s.nb)
        for cell in s.result.cells:
            if not cell.autograded:
                continue
            graded[(s.assignment, cell.grade_id)] += 1
            if cell.failure:
                group = "" if cell.diagnosis else message_group(cell.failure)
                groups[(s.assignment, cell.grade_id, cell.diagnosis, group)].append((s.student, cell.failure))
    found = []
    for (aid, test, code, group), hits in groups.items():
        found.append(
            Misconception(
                assignment=aid,
                test=test,
                section=sections.get(aid, {}).get(test, ""),
                diagnosis=code,
                name=diagnosis_name(code) if code else group,
                students=tuple(sorted({student for student, _ in hits})),
                graded=graded[(aid, test)],
                example=hits[0][1],
            )
        )
    return sorted(found, key=lambda m: (m.assignment, -m.count, m.test, m.name))


def write_csv(found: Sequence[Misconception], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for m in found:
            writer.writerow([m.assignment, m.test, m.section, m.diagnosis, m.name, m.count, f"{m.share:.3f}", "; ".join(m.students), m.example])
    return path


@dataclass(frozen=True)
class Reteach:
    """One mistake across an assignment: the students who made it on any test, and where."""

    assignment: str
    diagnosis: str
    name: str
    students: frozenset[str]
    class_size: int
    tests: tuple[str, ...]
    sections: tuple[str, ...]

    @property
    def share(self) -> float:
        return len(self.students) / self.class_size if self.class_size else 0.0


def reteach(found: Sequence[Misconception], subs: Sequence[Submission]) -> list[Reteach]:
    """The named mistakes per assignment, by the share of its graded students who made them."""
    class_size: dict[str, set[str]] = defaultdict(set)
    for s in subs:
        if s.assignment and s.result.cells:
            class_size[s.assignment].add(s.student)
    merged: dict[tuple[str, str], list[Misconception]] = defaultdict(list)
    for m in found:
        if m.diagnosis:
            merged[(m.assignment, m.diagnosis)].append(m)
    rows = [
        Reteach(
            aid,
            code,
            ms[0].name,
            frozenset(s for m in ms for s in m.students),
            len(class_size[aid]),
            tuple(dict.fromkeys(m.test for m in ms)),
            tuple(dict.fromkeys(m.section for m in ms if m.section)),
        )
        for (aid, code), ms in merged.items()
    ]
    return sorted(rows, key=lambda r: (r.assignment, -len(r.students), r.diagnosis))


def _bars(rows: Sequence[Reteach]) -> str:
    """An inline SVG bar chart of the shares (no script, no network)."""
    bar_h, label_w, bar_w = 22, 300, 320
    height = bar_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 60}" height="{height}" role="img">']
    for i, r in enumerate(rows):
        y = 5 + i * bar_h
        width = max(1.0, bar_w * r.share)
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="13">{html.escape(r.name)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{bar_h - 6}" fill="#c0392b"/>')
        parts.append(f'<text x="{label_w + width + 6:.1f}" y="{y + 15}" font-size="12">{r.share:.0%} ({len(r.students)})</text>')
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2rem}.muted{color:#666;font-size:.9em}"""


def write_html(found: Sequence[Misconception], subs: Sequence[Submission], path: Path) -> Path:
    esc = html.escape
    top = reteach(found, subs)
    body = [
        "<h1>What the class got wrong</h1>",
        "<p>Each failing test, grouped by the mistake the checks recognised (its code in brackets in the message), "
        "and the section of the notebook to revisit. A share is of the students graded on that assignment. "
        "Failures no check named are listed by their message, numbers masked.</p>",
    ]
    for aid in sorted({m.assignment for m in found}):
        rows = [r for r in top if r.assignment == aid]
        body.append(f"<h2>{esc(aid)}</h2>")
        if rows:
            body.append("<h3>What to re-teach</h3>" + _bars(rows))
            body.append("<table><tr><th>mistake</th><th>code</th><th>students</th><th>share</th><th>tests</th><th>sections to revisit</th></tr>")
            for r in rows:
                body.append(
                    f"<tr><td>{esc(r.name)}</td><td><code>{esc(r.diagnosis)}</code></td><td>{len(r.students)}</td><td>{r.share:.0%}</td>"
                    f"<td>{esc(', '.join(r.tests))}</td><td>{esc(' · '.join(r.sections))}</td></tr>"
                )
            body.append("</table>")
        body.append("<h3>Per test</h3><table><tr><th>test</th><th>section</th><th>mistake</th><th>count</th><th>share</th><th>students</th></tr>")
        for m in (m for m in found if m.assignment == aid):
            name = f"{esc(m.name)} <code>{esc(m.diagnosis)}</code>" if m.diagnosis else f'<span class="muted">{esc(m.name[:200])}</span>'
            body.append(
                f"<tr><td>{esc(m.test)}</td><td>{esc(m.section)}</td><td>{name}</td><td>{m.count}</td><td>{m.share:.0%}</td>"
                f"<td>{esc(', '.join(m.students))}</td></tr>"
            )
        body.append("</table>")
    if not found:
        body.append("<p>No test failed.</p>")
    page = f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>What the class got wrong</title><style>{_STYLE}</style></head><body>{"".join(body)}</body></html>'
    path.write_text(page, encoding="utf-8")
    return path


def write_misconception_reports(subs: Sequence[Submission], workdir: Path) -> dict[str, Path]:
    found = misconceptions(subs)
    return {
        "misconceptions": write_csv(found, workdir / "misconceptions.csv"),
        "misconceptions page": write_html(found, subs, workdir / "misconceptions.html"),
    }
