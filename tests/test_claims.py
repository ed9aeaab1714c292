"""No sentence without a run: every figure a notebook's text states is measured somewhere.

Students do not have ``benchmarks/``, so the notebooks name no file there and no machine diary; the
instructor's side keeps the source. A figure in a notebook's markdown (a duration such as "34 s" or
"3 minutes", a percentage, an accuracy such as 0.916) is accepted when

* the assignment's ``assignment.toml`` lists it under ``[figures]`` with the ``benchmarks/`` file that
  holds it (which must exist, and hold a precise figure of three or more significant digits), so the
  instructor can see the run, its date and its machine; or
* it is a published figure the assignment's ``[[published.*]]`` rows state (the lecture's, a paper's); or
* it is a threshold the notebook's own test cells assert (``0.90`` in a test makes "at least 90 %" a
  requirement, not a claim); or
* ``[not_measurements]`` gives the reason it is no measurement (a hyperparameter, arithmetic done in
  the same sentence).

Anything else a run printed belongs in the cell's output, not in the prose around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from autograder.registry import assignments, get_assignment

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = [a.id for a in assignments(ROOT)]

_NUMBER = r"\d+(?:\.\d+)?"
FIGURE = re.compile(
    rf"(?<![\w.$])(?:"
    rf"(?P<duration>{_NUMBER}(?:\s*(?:–|-|to)\s*{_NUMBER})?\s*(?:s|sec|seconds?|ms|min|minutes?|h|hours?)\b)"
    rf"|(?P<percent>{_NUMBER}\s*%)"
    rf"|(?P<accuracy>\b0\.[5-9]\d{{1,3}}\b)"
    rf")"
)
BENCHMARK_FILE = re.compile(r"benchmarks/[\w./-]+\w")


@dataclass(frozen=True)
class Figure:
    text: str
    value: float  # as a fraction for percentages, as written otherwise

    @property
    def significant_digits(self) -> int:
        return len(re.sub(r"\D", "", re.match(_NUMBER, self.text).group(0)).lstrip("0"))


def figures(markdown: str) -> list[Figure]:
    """The figures stated in a markdown cell's prose (math and inline code left out)."""
    prose = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$|`[^`]*`", " ", markdown, flags=re.S)
    found = []
    for match in FIGURE.finditer(prose):
        text = match.group(0).strip()
        number = float(re.match(_NUMBER, text).group(0))
        found.append(Figure(text, number / 100 if match.group("percent") else number))
    return found


def holds(text: str, figure: Figure) -> bool:
    """Whether ``text`` holds a number that ``figure`` states, rounded as written (23.39 holds "23.4 s"; 0.9904 holds "99.04 %")."""
    bare = re.match(_NUMBER, figure.text).group(0)
    decimals = len(bare.partition(".")[2])
    stated = float(bare)
    for number in re.findall(r"\d+\.?\d*", text):
        n = float(number)
        if any(abs(candidate - stated) <= 0.5 * 10**-decimals + 1e-9 for candidate in (n, n * 100)):
            return True
    return False


def test_thresholds(source: str) -> set[float]:
    """Every decimal literal in the notebook's test cells (thresholds they assert)."""
    return {float(x) for x in re.findall(r"(?<![\w.])\d*\.\d+(?![\w.])", source)}


test_thresholds.__test__ = False  # a helper, not a test


def unbacked_figures(assignment: str) -> list[str]:
    spec = get_assignment(assignment, ROOT)
    nb = nbformat.read(spec.notebook, as_version=4)
    tests_source = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    asserted = test_thresholds(tests_source)
    published = "\n".join(f"{row.label} {row.accuracy}" for rows in spec.published.values() for row in rows)
    problems = [f"[figures] cites {source}, which does not exist" for source in spec.figures if not (ROOT / source).is_file()]
    sources = {text: ROOT / source for source, texts in spec.figures.items() for text in texts}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for figure in figures(cell.source):
            if figure.text in spec.not_measurements or any(abs(figure.value - t) < 1e-9 for t in asserted) or holds(published, figure):
                continue
            source = sources.get(figure.text)
            if source is None:
                problems.append(
                    f"cell {index}: {figure.text!r} has no run behind it (list it under [figures] with the benchmarks/ file that holds it)"
                )
            elif source.is_file() and figure.significant_digits >= 3 and not holds(source.read_text(), figure):
                problems.append(f"cell {index}: {figure.text!r} is not in {source.relative_to(ROOT)}, which [figures] says holds it")
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_figure_in_the_text_is_measured(assignment):
    problems = unbacked_figures(assignment)
    assert not problems, f"{assignment}: figures stated in markdown without a run behind them:\n" + "\n".join(problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_student_text_names_no_instructor_file_or_machine_diary(assignment):
    """What students read names no benchmarks/ file, no date and no particular machine: they have none of them."""
    nb = nbformat.read(get_assignment(assignment, ROOT).notebook, as_version=4)
    from autograder.pipeline.nbgrader_cells import strip_hidden

    diary = re.compile(r"benchmarks/|\b20\d\d-\d\d-\d\d\b|\b(?:Xeon|EPYC|Ryzen|Core i\d)\b|\bseeds? \d+-\d+")
    found = [(i, m.group(0)) for i, c in enumerate(nb.cells) for m in diary.finditer(strip_hidden(c.source) if c.cell_type == "code" else c.source)]
    assert not found, f"{assignment}: student-visible text names {found}; keep the source in assignment.toml's [figures] or [margins]"


@pytest.mark.parametrize(
    "markdown, expected",
    [
        ("It reaches about 84 % in 18 s.", ["84 %", "18 s"]),
        ("The benchmark lists 0.876 and 0.916; training takes 2–3 seconds an epoch.", ["0.876", "0.916", "2–3 seconds"]),
        ("about 3 minutes, or 45.72 minutes in Theano", ["3 minutes", "45.72 minutes"]),
        ("learning rate 0.05, momentum 0.9, $p = 0.5$, `Dropout(0.25)`, 28 steps of 28 pixels", []),
        ("the 1,000 images of 10 classes in 2 layers", []),
    ],
)
def test_figures_are_recognized(markdown, expected):
    assert [f.text for f in figures(markdown)] == expected


def test_a_precise_figure_must_be_in_the_cited_file():
    figure = figures("an MLP at 0.8833")[0]
    assert figure.significant_digits == 4 and figure.value == 0.8833
    assert figures("about 84 %")[0].significant_digits == 2
    assert holds('{"epoch_s": 23.39}', figures("23.4 s")[0]) and holds("| 0.9904 |", figures("99.04 %")[0])
    assert holds('{"epoch_s": 15.25}', figures("15.3 s")[0]) and not holds('{"epoch_s": 23.46}', figures("23.4 s")[0])
