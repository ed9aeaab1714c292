"""Graded notebooks and feedback keep the students' figures, within a per-figure and a per-notebook cap.

One batch (module fixture) of the toy course: a student who draws three figures
the three usual ways, one who floods the notebook with hundreds of noisy figures
(and one figure too large on its own), and a correct answer without figures.
About half a minute on 2 cores.
"""

from __future__ import annotations

import base64
import re

import grading_fixtures as F
import nbformat
import pytest
from nbformat.v4 import new_code_cell

from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.pipeline.model import EventKind
from autograder.pipeline.sandbox import SandboxSettings

pytestmark = pytest.mark.kernel

SETTINGS = SandboxSettings(memory_mb=2048, cell_timeout=90, notebook_timeout=240, max_output_chars=20_000, threads=1)
MB = 1024 * 1024

THREE_FIGURES = [
    # plt.show()
    "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3], [3, 1, 2])\nplt.title('loss')\nplt.show()",
    # a figure as a cell's value (closed first, so only the display shows it)
    "fig, ax = plt.subplots(figsize=(4, 3))\nax.bar(['a', 'b'], [1, 2])\nplt.close(fig)\nfig",
    # drawn, never shown: Jupyter's inline backend shows it at the end of the cell
    "plt.figure(figsize=(3, 3))\nplt.imshow([[0, 1], [1, 0]])\nplt.colorbar();",
]

FLOOD = [
    # one figure over the per-figure cap on its own (about 3.5 MB as PNG/base64 at 72 dpi)
    "import numpy as np\nimport matplotlib.pyplot as plt\nrng = np.random.default_rng(0)\n"
    "plt.figure(figsize=(16, 16))\nplt.imshow(rng.random((1100, 1100, 3)), interpolation='nearest')\nplt.show()",
    # 200 figures of noise, about 95 KB each: 19 MB in all
    "for i in range(200):\n    plt.figure(figsize=(2.5, 2.5))\n    plt.imshow(rng.random((180, 180, 3)), interpolation='nearest')\n    plt.show()",
]


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("figures")
    root = F.make_course(tmp)
    subs, out = tmp / "subs", tmp / "out"
    good = F.good_code()
    cases = {
        "figures": F.released(good, extra_cells=[new_code_cell(code) for code in THREE_FIGURES]),
        "flood": F.released(good, extra_cells=[new_code_cell(code) for code in FLOOD]),
        "plain": F.released(good),
    }
    for student, nb in cases.items():
        F.write(subs, student, nb)
    results = grade_batch(root, subs, out, options=GradingOptions(workers=2, sandbox=SETTINGS))
    return {"out": out, "by": {s.student: s for s in results}}


def autograded_path(batch, student):
    return batch["out"] / "autograded" / student / F.AID / f"{F.AID}.ipynb"


def feedback_html(batch, student) -> str:
    return (batch["out"] / "feedback" / student / F.AID / f"{F.AID}.html").read_text()


def pngs(nb) -> list[str]:
    return [o["data"]["image/png"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})]


def stdout_of(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_figures_are_kept_in_the_graded_notebook_and_the_feedback(batch):
    sub = batch["by"]["figures"]
    assert (sub.status, sub.auto_score, sub.auto_max_score) == ("graded", 10, 10), sub.message
    nb = nbformat.read(autograded_path(batch, "figures"), 4)
    images = pngs(nb)
    assert len(images) == 3
    for image in images:
        assert base64.b64decode(image).startswith(b"\x89PNG")
    # one figure per cell, each where the student drew it; the bare `fig` is the cell's value
    cells = [c for c in nb.cells if c.cell_type == "code" and any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert [c.source for c in cells] == THREE_FIGURES
    assert cells[1].outputs[-1].output_type == "execute_result"
    # not counted as text: three figures are far more than max_output_chars, and nothing was truncated
    assert sum(len(i) for i in images) > SETTINGS.max_output_chars
    assert "truncated" not in stdout_of(nb) and not any(e.kind is EventKind.OUTPUT_TRUNCATED for e in sub.result.events)
    html = feedback_html(batch, "figures")
    assert len(re.findall(r'<img[^>]+src="data:image/png;base64,', html)) == 3


def test_inline_figures_are_small(batch):
    """Rendered at the grader's resolution (72 dpi): Matplotlib's default 6.4 x 4.8 in figure, cropped tight, is about 400 px wide
    (at Matplotlib's own 100 dpi it would be about 550)."""
    nb = nbformat.read(autograded_path(batch, "figures"), 4)
    first = base64.b64decode(pngs(nb)[0])
    width = int.from_bytes(first[16:20], "big")
    assert 350 <= width <= 470, width
    assert all(len(i) < 100_000 for i in pngs(nb))


def test_a_figure_flood_is_capped_and_the_grade_is_unchanged(batch):
    sub = batch["by"]["flood"]
    assert (sub.status, sub.auto_score, sub.auto_max_score) == ("graded", 10, 10), sub.message
    path = autograded_path(batch, "flood")
    assert path.stat().st_size < SETTINGS.max_notebook_figures_kb * 1024 + MB
    nb = nbformat.read(path, 4)
    kept = pngs(nb)
    assert 10 <= len(kept) < 200
    assert sum(len(i) for i in kept) <= SETTINGS.max_notebook_figures_kb * 1024
    text = stdout_of(nb)
    assert re.search(r"\[figure omitted by the grader: \d+(\.\d)? MB over the 1 MB per-figure cap\]", text), text
    assert re.search(r"\[\d+ figures omitted by the grader: the notebook's figures reached the 5 MB cap\]", text), text
    # recorded as typed events, one per cell that lost figures: a note, not a status
    truncated = [e for e in sub.result.events if e.kind is EventKind.OUTPUT_TRUNCATED]
    assert len(truncated) == 2 and all("figure omitted" in e.detail for e in truncated)
    html = feedback_html(batch, "flood")
    assert html.count("data:image/png;base64,") == len(kept)
    assert len(html) < SETTINGS.max_notebook_figures_kb * 1024 + 2 * MB


def test_a_notebook_without_figures_is_graded_as_before(batch):
    sub = batch["by"]["plain"]
    assert (sub.status, sub.auto_score) == ("graded", 10), sub.message
    assert pngs(nbformat.read(autograded_path(batch, "plain"), 4)) == []


def test_settings_travel_as_plain_data():
    data = SandboxSettings(max_figure_kb=10).to_dict()
    assert data["max_figure_kb"] == 10 and {"figure_dpi", "max_notebook_figures_kb"} <= set(data)
    assert SandboxSettings(**data) == SandboxSettings(max_figure_kb=10)
