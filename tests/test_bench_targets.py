"""The bench targets of the assignments' assignment.toml judged against a bench run: the yardstick scales time targets, medians decide."""

from autograder.bench.runner import NotebookRun
from autograder.bench.targets import course_targets, grading_overhead, judge, markdown, yardstick


def _run(aid, seed, wall, metrics, dataset="fashion_mnist"):
    return NotebookRun(aid, dataset, seed, wall, metrics)


def _lenet(epoch_s):
    return {"kind": "accuracy", "name": "LeNet-5 test accuracy", "accuracy": 0.89, "train_s": 5 * epoch_s, "epoch_s": epoch_s}


def _cnn(acc, train_s):
    return {"kind": "accuracy", "name": "small CNN test accuracy", "accuracy": acc, "train_s": train_s, "epoch_s": train_s / 6}


def test_time_targets_scale_with_the_days_lenet_epoch():
    # a day twice as slow: LeNet's epoch 9.9 s, so the CNN's 90 s target becomes 180 s
    runs = [_run("04_cnn", s, 350.0, [_lenet(9.9), _cnn(acc, t)]) for s, (acc, t) in enumerate([(0.926, 170.0), (0.930, 175.0), (0.920, 400.0)])]
    assert yardstick(runs) == 9.9
    scale, verdicts = judge(runs)
    assert scale == 2.0
    by_what = {v.what.split(": ", 1)[1]: v for v in verdicts if v.what.startswith("04_cnn small CNN")}
    assert by_what["accuracy (median of 3)"].met and by_what["accuracy (median of 3)"].measured == "0.9260"  # median, not the mean 0.9253
    assert by_what["training s (median)"].met and "≤ 180" in by_what["training s (median)"].target  # 175 s median, one slow seed ignored
    notebook = next(v for v in verdicts if v.what.startswith("04_cnn: notebook"))
    assert notebook.met is False and notebook.target == "≤ 300"  # 350 s against 150 s × 2


def test_missed_and_unmeasured_targets_are_said():
    runs = [
        _run("04_cnn", 0, 100.0, [_lenet(4.95), _cnn(0.91, 60.0)]),
        _run("03_mlp", 0, 80.0, [{"kind": "accuracy", "name": "final MLP", "accuracy": 0.905}]),
    ]
    scale, verdicts = judge(runs)
    assert scale == 1.0
    cnn = next(v for v in verdicts if "small CNN" in v.what and "accuracy" in v.what)
    assert cnn.met is False and cnn.mark == "**missed**"
    unmeasured = [v for v in verdicts if v.met is None]
    assert {v.what.split()[0] for v in unmeasured} == {aid for aid, _ in course_targets()} - {"04_cnn", "03_mlp"}
    text = "\n".join(markdown(runs, {"04_cnn": 115.0}))
    assert "scaled by 1.00" in text and "| 04_cnn | 1.15 |" in text


def test_without_04_nothing_is_scaled_and_overhead_needs_a_plain_run():
    scale, _ = judge([_run("03_mlp", 0, 80.0, [])])
    assert scale is None
    assert grading_overhead([_run("01_logistic_regression", 1, 20.0, [])], {"01_logistic_regression": 25.0}) == {}  # seed 0 only
    assert grading_overhead([_run("01_logistic_regression", 0, 20.0, [])], {"01_logistic_regression": 25.0}) == {"01_logistic_regression": 1.25}
