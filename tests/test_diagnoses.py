"""The checks' diagnosis codes: raised with the failure, read back from a notebook's error output, kept in the results."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from autograder.checks import check_close, check_gradient
from autograder.checks.diagnoses import DiagnosedFailure, Diagnosis, read_diagnosis, tagged
from autograder.pipeline.model import CellScore, GradingResult, Status
from autograder.pipeline.workers import failure_messages


def _raised(fn) -> AssertionError:
    with pytest.raises(AssertionError) as info:
        fn()
    return info.value


def _loss_and_grad(batch: int, scale: float, transpose: bool = False):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(batch, 4)), rng.normal(size=(4, 4))

    def loss(w_):
        return float(np.sum((x @ w_) ** 2) / batch)

    grad = 2 * x.T @ (x @ w) / batch
    return loss, w, (grad.T if transpose else grad) * scale


@pytest.mark.parametrize(
    ("scale", "transpose", "code"),
    [
        (16.0, False, Diagnosis.BATCH_MEAN_MISSING),
        (1 / 16, False, Diagnosis.BATCH_MEAN_TWICE),
        (-1.0, False, Diagnosis.SIGN),
        (1.0, True, Diagnosis.TRANSPOSE),
    ],
)
def test_a_gradient_mistake_carries_its_code_through_the_error_text(scale, transpose, code):
    loss, w, grad = _loss_and_grad(16, scale, transpose)
    exc = _raised(lambda: check_gradient(loss, w, grad, batch_size=16, quiet=True))
    assert isinstance(exc, DiagnosedFailure) and exc.diagnosis is code
    first_line = str(exc).splitlines()[0]
    assert first_line.endswith(f"[{code}]")
    assert read_diagnosis(type(exc).__name__, str(exc)) is code  # all the grader sees


def test_existing_wording_is_kept_and_the_code_is_added():
    loss, w, grad = _loss_and_grad(16, 16.0)
    exc = _raised(lambda: check_gradient(loss, w, grad, batch_size=16, quiet=True))
    assert "16x too large (the batch size): the mean over the batch is missing. [batch-mean-missing]" in str(exc)


def test_array_checks_name_shape_none_and_nan():
    assert _raised(lambda: check_close(np.zeros((2, 3)), np.zeros((3, 2)), quiet=True)).diagnosis is Diagnosis.SHAPE
    assert _raised(lambda: check_close(None, np.zeros(2), quiet=True)).diagnosis is Diagnosis.NOTHING_RETURNED
    assert _raised(lambda: check_close(np.array([np.inf]), np.zeros(1), quiet=True)).diagnosis is Diagnosis.NAN_OR_INF
    plain = _raised(lambda: check_close(np.ones(2), np.zeros(2), quiet=True))
    assert plain.diagnosis is None and "[" not in str(plain)


def test_the_tag_goes_on_the_first_line_of_a_long_message():
    assert tagged("layer 1 differs\n  table", Diagnosis.LAYER_TYPE) == "layer 1 differs [layer-type]\n  table"
    assert tagged("unchanged", None) == "unchanged"


def test_a_failure_survives_pickling_with_its_code():
    import pickle

    loss, w, grad = _loss_and_grad(8, -1.0)
    exc = pickle.loads(pickle.dumps(_raised(lambda: check_gradient(loss, w, grad, quiet=True))))
    assert exc.diagnosis is Diagnosis.SIGN and str(exc).count("[sign]") == 1


def test_python_errors_that_name_a_mistake():
    assert read_diagnosis("NotImplementedError", "") is Diagnosis.NOT_ANSWERED
    assert read_diagnosis("FloatingPointError", "overflow encountered in exp") is Diagnosis.OVERFLOW
    assert read_diagnosis("AssertionError", "something [no-such-code]") is None
    assert read_diagnosis("AssertionError", "plain message") is None


def test_every_diagnosis_has_a_distinct_name():
    titles = [d.title for d in Diagnosis]
    assert all(titles) and len(set(titles)) == len(titles)


def _graded_notebook(errors: dict[str, tuple[str, str]]):
    cells = []
    for grade_id, (ename, evalue) in errors.items():
        cell = new_code_cell("check()", metadata={"nbgrader": {"grade": True, "grade_id": grade_id, "points": 1, "solution": False}})
        cell.outputs = [new_output("error", ename=ename, evalue=evalue, traceback=[])]
        cells.append(cell)
    return nbformat.from_dict(new_notebook(cells=cells))


def test_the_grader_reads_the_code_into_the_cell_result_and_keeps_it():
    loss, w, grad = _loss_and_grad(16, 16.0)
    exc = _raised(lambda: check_gradient(loss, w, grad, batch_size=16, quiet=True))
    graded = _graded_notebook(
        {
            "test_grad": (type(exc).__name__, "\x1b[31m" + str(exc) + "\x1b[0m"),
            "test_stub": ("NotImplementedError", ""),
            "test_plain": ("AssertionError", "wrong value"),
        }
    )
    failures = failure_messages(graded)
    assert failures["test_grad"].diagnosis == "batch-mean-missing"
    assert failures["test_grad"].message.startswith("GradientCheckError: ")
    assert failures["test_stub"].diagnosis == "not-answered"
    assert failures["test_plain"].diagnosis == "" and failures["test_plain"].message == "AssertionError: wrong value"

    cells = [CellScore(g, 0, 1, True, f.message, f.diagnosis) for g, f in failures.items()]
    result = GradingResult(Status.GRADED, cells=cells)
    back = GradingResult.from_dict(json.loads(json.dumps(result.to_dict(files=False))))
    assert [c.diagnosis for c in back.cells] == ["batch-mean-missing", "not-answered", ""]
    old = result.to_dict(files=False)
    for cell in old["cells"]:
        cell.pop("diagnosis")  # a result recorded before diagnoses existed
    assert GradingResult.from_dict(old).cells[0].diagnosis == ""
