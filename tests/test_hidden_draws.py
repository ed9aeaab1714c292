"""The answer key passes every hidden test cell of every source notebook on many draws of its inputs.

The cells are the notebooks' own (``autograder.hidden_draws`` redraws their seeds), so the references
and tolerances checked here are the graded ones. Each assignment's ``source_notebooks/<id>/hidden_draws.py``
says which cells are drawn and how often, and why a cell is not; a hidden cell missing from it fails
``test_every_hidden_cell_is_drawn_or_excused``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograder.course import assignment_ids
from autograder.hidden_draws import (
    FULL,
    PLAN_FILE,
    DrawFailure,
    Drawn,
    Excused,
    Plan,
    load_plan,
    problems,
    reads_real_data,
    redrawn_generators,
    run_draws,
    split_cell,
)
from autograder.verdicts import load_suite

ROOT = Path(__file__).resolve().parents[1]


def _drawn_cells():
    for aid in assignment_ids(ROOT):
        plan = load_plan(aid, ROOT)
        for cell, entry in plan.cells.items():
            if isinstance(entry, Drawn):
                marks = [pytest.mark.tensorflow] + ([pytest.mark.data] if reads_real_data(aid, cell, ROOT) else [])
                yield pytest.param(aid, cell, id=f"{aid}:{cell}", marks=marks)


@pytest.mark.parametrize("assignment", assignment_ids(ROOT))
def test_every_hidden_cell_is_drawn_or_excused(assignment):
    assert problems(load_plan(assignment, ROOT), load_suite(assignment, ROOT)) == []


@pytest.mark.parametrize("assignment, cell", list(_drawn_cells()))
def test_the_answer_key_passes_the_hidden_cell_on_every_draw(assignment, cell):
    report = run_draws(assignment, cell, root=ROOT)
    entry = load_plan(assignment, ROOT).cells[cell]
    if report.draws > 1 and entry.inputs is None:
        assert report.seeded, f"{cell} seeds no generator in its drawn code: every draw is the same; give it inputs= or excuse it"


# ------------------------------------------------------------------ the harness itself


def test_a_seed_is_redrawn_per_draw_and_kept_within_one():
    with redrawn_generators(0):
        own = np.random.default_rng(7).random(3)
    with redrawn_generators(5) as seeds:
        first, again, other = (np.random.default_rng(s).random(3) for s in (7, 7, 8))
        given = np.random.default_rng(7)
        assert np.random.default_rng(given) is given  # a generator passes through, not redrawn
    assert np.array_equal(own, np.random.default_rng(7).random(3)), "draw 0 is the notebook's own draw"
    assert np.array_equal(first, again) and not np.array_equal(first, own) and not np.array_equal(first, other)
    assert seeds.seeded == 4


def test_the_hidden_section_keeps_the_cells_line_numbers():
    source = "a = 1\nb = 2\n### BEGIN HIDDEN TESTS\nc = 3\n### END HIDDEN TESTS"
    visible, hidden = split_cell(source, "BEGIN HIDDEN TESTS")
    assert visible == "a = 1\nb = 2"
    assert hidden.splitlines()[3] == "c = 3"


def test_an_undeclared_or_unexplained_hidden_cell_is_a_problem():
    suite = load_suite("01_logistic_regression", ROOT)
    plan = load_plan("01_logistic_regression", ROOT)
    cells = dict(plan.cells)
    del cells["test_softmax"]
    cells["test_sigmoid"] = Excused("random")
    cells["test_bce_loss"] = Drawn(10)
    cells["test_nothing"] = Drawn()
    found = problems(Plan(plan.assignment, cells, plan.setup, plan.path), suite)
    assert [line.split(":")[0] for line in found] == ["test_softmax", "test_sigmoid", "test_bce_loss", "test_nothing"]
    assert "fewer than 1000" in found[2] and FULL == 1000


def test_the_release_leaves_the_draw_plans_out():
    """nbgrader copies every file of an assignment's source folder into the student release."""
    from autograder.pipeline.nbgrader_setup import course_config

    assert PLAN_FILE in course_config(ROOT).CourseDirectory.ignore


@pytest.mark.tensorflow
def test_a_planted_off_by_one_fails_the_hidden_section():
    """conv_backward trimming the padding with [pad:-pad], empty when pad = 0: the visible part (pad 1) passes it."""
    plant = """
_conv_backward = conv_backward
def conv_backward(dout, cache):
    dx, dw, db = _conv_backward(dout, cache)
    pad = cache[4]
    return np.pad(dx, ((0, 0), (pad, pad), (pad, pad), (0, 0)))[:, pad:-pad, pad:-pad, :], dw, db
"""
    with pytest.raises(DrawFailure, match=r"04_cnn:test_conv_backward failed on draw \d+ .*dx, .*pad 0: your gradient has shape"):
        run_draws("04_cnn", "test_conv_backward", draws=5, plant=plant, root=ROOT)


@pytest.mark.tensorflow
def test_the_draws_catch_a_gradient_the_notebooks_own_draw_misses():
    """Back-propagation through the last 8 steps only: the notebook's draw has sequences of 2 to 6 steps, draw 1 one of 9."""
    plant = """
def lstm_backward(dhs, caches):
    B, T, n = dhs.shape
    dh, dc = np.zeros((B, n)), np.zeros((B, n))
    dW, dU, db = 0.0, 0.0, 0.0
    dx = [None] * T
    for t in reversed(range(T)):
        if T - t > 8:
            dx[t] = np.zeros_like(dx[T - 1])
            continue
        dx[t], dh, dc, dW_t, dU_t, db_t = lstm_step_backward(dhs[:, t] + dh, dc, caches[t])
        dW, dU, db = dW + dW_t, dU + dU_t, db + db_t
    return np.stack(dx, axis=1), dh, dc, dW, dU, db
"""
    run_draws("06_lstm", "test_lstm_backward", draws=1, plant=plant, root=ROOT)  # passes as graded
    with pytest.raises(DrawFailure, match=r"failed on draw 1 .*over 9 steps"):
        run_draws("06_lstm", "test_lstm_backward", plant=plant, root=ROOT)


@pytest.mark.tensorflow
def test_the_draws_catch_a_mistake_the_notebooks_own_draw_misses():
    """top_confusions breaking ties by the true class only: the notebook's draw has no tie it decides, draw 17 has."""
    plant = """
def top_confusions(y_true, y_pred, k=3, n_classes=10):
    counts = {}
    for t, p in zip(np.asarray(y_true).tolist(), np.asarray(y_pred).tolist()):
        if t != p:
            counts[(t, p)] = counts.get((t, p), 0) + 1
    return sorted(((t, p, c) for (t, p), c in counts.items()), key=lambda r: (-r[2], r[0]))[:k]
"""
    run_draws("03_mlp", "test_top_confusions", draws=1, plant=plant, root=ROOT)  # passes as graded
    with pytest.raises(DrawFailure, match=r"failed on draw 17 .*wrong result on random labels"):
        run_draws("03_mlp", "test_top_confusions", plant=plant, root=ROOT)
