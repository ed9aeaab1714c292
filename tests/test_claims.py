"""No sentence without a run (issue 15): every figure a notebook's text states is measured somewhere.

A figure in a notebook's markdown (a duration such as "34 s" or "3 minutes", a percentage, an accuracy
such as 0.916) is accepted when

* the cell cites a file in ``benchmarks/`` that exists (and, for a precise figure of three or more
  significant digits, holds that figure), so a reader can see the run, its date and its machine; or
* it is a threshold the notebook's own test cells assert (``0.90`` in a test makes "at least 90 %" a
  requirement, not a claim); or
* it is listed in ``NOT_MEASUREMENTS`` below with the reason it is no measurement (a hyperparameter,
  arithmetic done in the same sentence).

Anything else a run printed belongs in the cell's output, not in the prose around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source_notebooks").iterdir() if p.is_dir())

_NUMBER = r"\d+(?:\.\d+)?"
FIGURE = re.compile(
    rf"(?<![\w.$])(?:"
    rf"(?P<duration>{_NUMBER}(?:\s*(?:–|-|to)\s*{_NUMBER})?\s*(?:s|sec|seconds?|ms|min|minutes?|h|hours?)\b)"
    rf"|(?P<percent>{_NUMBER}\s*%)"
    rf"|(?P<accuracy>\b0\.[5-9]\d{{1,3}}\b)"
    rf")"
)
BENCHMARK_FILE = re.compile(r"benchmarks/[\w./-]+\w")

# (assignment, figure as written): why it is not a measurement.
NOT_MEASUREMENTS = {
    ("03_mlp", "1 %"): "arithmetic in the same sentence: eta = 0.01 times curvature 1 shrinks w1 by 1 % per step",
    ("04_cnn", "10 %"): "a hyperparameter of the augmentation the task asks for (RandomTranslation by 0.1)",
    ("05_regularization", "100 %"): "what memorizing means (every training image right), not a result",
}


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
    nb = nbformat.read(ROOT / "source_notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    tests_source = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    asserted = test_thresholds(tests_source)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        cited = [ROOT / ref for ref in BENCHMARK_FILE.findall(cell.source)]
        missing = [str(p.relative_to(ROOT)) for p in cited if not p.is_file()]
        if missing:
            problems.append(f"cell {index}: cites {', '.join(missing)}, which does not exist")
            continue
        cited_text = "\n".join(p.read_text() for p in cited)
        for figure in figures(cell.source):
            if (assignment, figure.text) in NOT_MEASUREMENTS or any(abs(figure.value - t) < 1e-9 for t in asserted):
                continue
            if cited:
                if figure.significant_digits < 3 or holds(cited_text, figure):
                    continue
                problems.append(f"cell {index}: {figure.text!r} is not in the file it cites ({', '.join(map(str, cited))})")
            else:
                problems.append(f"cell {index}: {figure.text!r} has no run behind it (cite the benchmarks/ file that holds it)")
    return problems


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_figure_in_the_text_is_measured(assignment):
    problems = unbacked_figures(assignment)
    assert not problems, f"{assignment}: figures stated in markdown without a run behind them:\n" + "\n".join(problems)


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
