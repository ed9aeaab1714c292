"""The README is the user manual: every figure it states is a dated measurement from benchmarks/results/.

Like the notebooks (tests/test_claims.py), a figure in the README's prose (a duration, a percentage, an
accuracy) is accepted when the paragraph or table holding it cites a result file, naming the machine and
the date the index gives that result right after the path ("(`benchmarks/results/x.md`, machine, date)") (autograder.bench.index), and the file holds the figure when it is
precise (three or more significant digits); or when it is a threshold a notebook's tests assert; or a
setting or documented limit listed below as no measurement. A table's rows are backed by the paragraph
right before or right after it. The README names no issue tracker entries.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from test_claims import figures, holds, test_thresholds

from autograder.bench import RESULTS
from autograder.bench.index import results
from autograder.registry import assignments

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CITATION = re.compile(r"benchmarks/results/[\w.-]+\.(?:md|json)")

# figures the README states that no run measured, and why
NOT_MEASUREMENTS = {
    "10 minutes": "Gradescope's documented default timeout",
    "1200 s": "the default of --cell-timeout",
    "3600 s": "the default of --notebook-timeout",
    "26 %": "arithmetic: 1 - 0.95**6, the default audit fraction over six assignments",
}


def blocks(markdown: str) -> list[tuple[str, str]]:
    """(text, the text whose citations back it): paragraphs back themselves, table rows their table's neighbours."""
    markdown = re.sub(r"```.*?```", "", markdown, flags=re.S)
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", markdown) if p.strip()]
    found = []
    for i, paragraph in enumerate(paragraphs):
        if paragraph.startswith("|"):
            neighbours = "\n".join(p for p in paragraphs[max(i - 1, 0) : i + 2] if not p.startswith("|"))
            found += [(row, row + "\n" + neighbours) for row in paragraph.splitlines()]
        else:
            found.append((paragraph, paragraph))
    return found


def unbacked_figures(markdown: str) -> list[str]:
    described = {f"{RESULTS.as_posix()}/{name}": r for r in results(ROOT / RESULTS) for name in r.files}
    asserted = set()
    for a in assignments(ROOT):
        cells = nbformat.read(a.notebook, as_version=4).cells
        asserted |= test_thresholds("\n".join(c.source for c in cells if c.metadata.get("nbgrader", {}).get("grade")))
    problems = []
    for text, backing in blocks(markdown):
        backing = " ".join(backing.split())  # a citation may wrap across lines
        cited = CITATION.findall(backing)
        measured = [f for f in figures(text) if f.text not in NOT_MEASUREMENTS and not any(abs(f.value - t) < 1e-9 for t in asserted)]
        for citation in CITATION.finditer(backing) if measured else []:
            path, where = citation.group(0), backing[citation.end() :].split(")")[0]  # "(`path`, machine, date)"
            result = described.get(path)
            if result is None:
                problems.append(f"{path} is no result in benchmarks/results/")
            elif result.machine not in where or not any(day in where for day in result.dates):
                problems.append(f"{path} is cited without its machine ({result.machine}) and date ({result.date}): {text[:80]!r}")
        for figure in measured:
            if not cited:
                problems.append(f"{figure.text!r} cites no benchmarks/results/ file: {text[:80]!r}")
            elif figure.significant_digits >= 3 and not any((ROOT / p).is_file() and holds((ROOT / p).read_text(), figure) for p in cited):
                problems.append(f"{figure.text!r} is in none of {', '.join(cited)}: {text[:80]!r}")
    return problems


def test_every_figure_in_the_readme_is_a_dated_measurement():
    problems = unbacked_figures(README.read_text())
    assert not problems, "README figures without a result behind them:\n" + "\n".join(problems)


def tracker_entries(markdown: str) -> list[str]:
    return re.findall(r"\bissues? #?\d+|\bPR #?\d+|(?<![\w/&#])#\d+\b", markdown, flags=re.I)


def test_the_readme_names_no_tracker_entries():
    found = tracker_entries(README.read_text())
    assert not found, f"the README is a manual, not a changelog: {found}"
    assert tracker_entries("see #12, issue 13 and nbgrader PR 5; not ## headings or | # | columns") == ["#12", "issue 13", "PR 5"]


def test_the_course_outline_lists_every_assignment_with_its_points():
    rows = [line for line in README.read_text().splitlines() if line.startswith("| 0")]
    for a in assignments(ROOT):
        [row] = [r for r in rows if f"`{a.id}`" in r] or [None]
        assert row, f"the README's course outline has no row for {a.id}"
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert a.title in cells and str(a.points) in cells, f"{a.id}: expected title {a.title!r} and {a.points} points in {cells}"


def test_the_readme_links_only_existing_files():
    links = re.findall(r"\]\(((?!https?:|#)[^)\s]+)\)", README.read_text())
    missing = [link for link in links if not (ROOT / link).exists()]
    assert links and not missing, f"the README links to missing files: {missing}"


@pytest.mark.parametrize(
    "markdown, problem",
    [
        ("It took 24 s.", "cites no benchmarks/results/ file"),
        ("It took 24 s (`benchmarks/results/results.md`).", "without its machine"),
        ("It took 24.7 s (`benchmarks/results/results.md`, Intel Xeon, 2 cores, 2026-12-06).", "is in none of"),
        ("| 41.3 s |\n\nAbove: `benchmarks/results/backend_epochs.md`, AMD EPYC, 2 cores, 2026-12-05.", None),
    ],
)
def test_unbacked_figures_are_found(markdown, problem):
    problems = unbacked_figures(markdown)
    assert (problem is None and not problems) or any(problem in p for p in problems), problems
