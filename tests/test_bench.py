import json

import pytest

from autograder.bench.report import markdown, summarise
from autograder.bench.runner import NotebookRun, attach_training_times


def test_training_time_is_the_last_fit_cell_before_the_metric():
    spans = [("model.fit(a)", 10.0, 20.0), ("print(1)", 20.0, 21.0), ("model.fit(b)", 30.0, 34.0), ("model.fit(c)", 50.0, 60.0)]
    metrics = [{"kind": "accuracy", "name": "acc", "accuracy": 0.9, "time": 40.0, "epochs": 2}]
    attach_training_times(metrics, spans)
    assert metrics[0]["train_s"] == 4.0 and metrics[0]["epoch_s"] == 2.0


def test_summary_aggregates_seeds_and_compares_with_published_rows():
    runs = [
        NotebookRun(
            "03_mlp",
            "fashion_mnist",
            seed,
            100.0,
            [
                {"kind": "accuracy", "name": "final MLP", "accuracy": acc, "train_s": 60.0, "epoch_s": 6.0, "params": 1000},
                {"kind": "accuracy", "name": "a sigmoid MLP", "accuracy": 0.5},
            ],
        )
        for seed, acc in [(0, 0.89), (1, 0.91)]
    ]
    rows = summarise(runs)
    assert rows[0]["values"] == [0.89, 0.91]
    text = markdown({"device": "CPU", "tensorflow": "2", "keras": "3", "date": "today"}, runs, {}, quick=False)
    assert "0.9000 (0.8900–0.9100)" in text  # the median over seeds, with the range
    assert "| final MLP: 0.9000 | MLP 256-128-100: 0.8833 | +0.0167 |" in text  # compared with the model the row names
    assert "a sigmoid MLP: 0.5000 |" not in text
    # a published figure whose data set did not run is still listed: notebooks cite the lecture's figures from here
    assert "| 03_mlp | mnist | not run in this benchmark | lecture: MLP, 1.65% test error after 45 minutes: 0.9835 | – |" in text


@pytest.mark.slow
def test_quick_bench_trains_a_real_model_and_writes_its_files(tmp_path):
    from typer.testing import CliRunner

    from autograder.cli import app

    result = CliRunner().invoke(app, ["bench", "--quick", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "results_quick.json").read_text())
    [run] = record["runs"]
    assert run["assignment"] == "01_logistic_regression" and run["error"] is None
    [metric] = run["metrics"]
    assert metric["params"] == 7850 and metric["epochs"] == 10 and metric["train_s"] > 0
    assert metric["accuracy"] >= 0.82
    assert (tmp_path / "results_quick_accuracy_vs_time.png").stat().st_size > 10000
    assert "scikit-learn LogisticRegression: 0.8420" in (tmp_path / "results_quick.md").read_text()


@pytest.mark.slow
def test_throughput_benchmark_grades_one_batch_the_same_in_every_mode(tmp_path):
    import grading_fixtures as F

    from autograder.bench.throughput import markdown, measure
    from autograder.pipeline.release import release_assignment, solve_assignment

    root = F.make_course(tmp_path)
    release_assignment(root, F.AID)  # the generated class is the release answered from the key (the toy has no example class)
    solve_assignment(root, F.AID)
    record = measure(root, F.AID, 3, [1, 2], nbgrader=True)
    assert [r["mode"] for r in record["runs"]] == ["dlcourse grade, 1 worker", "dlcourse grade, 2 workers", "nbgrader autograde (sequential)"]
    for run in record["runs"]:
        assert run["submissions"] == 3 and run["seconds"] > 0 and run["per_minute"] > 0
        assert run["scores"] == {f"student{i:03d}": 10.0 for i in range(3)}, run["mode"]
    assert record["scores_agree"] and record["speedup_vs_1_worker"]["dlcourse grade, 1 worker"] == 1.0
    text = markdown({"cpu": "test CPU", "cores": 2, "date": "today"}, record)
    assert "| nbgrader autograde (sequential) |" in text and "different autograded score to: nobody" in text
