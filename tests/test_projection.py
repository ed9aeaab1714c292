"""The class-scale grading projection (benchmarks/results/grading_projection.md) from measured times."""

from __future__ import annotations

import json

import pytest

from autograder.bench import RESULTS
from autograder.bench.projection import audited_count, project, project_with_weights, render, saving, write_projection


def test_core_hours_and_wall_time_follow_the_stated_model():
    rows = {r.assignment: r for r in project({"01_logistic_regression": 36.0, "04_cnn": 360.0}, bench_cores=2, pair_speedup=1.8, students=300)}
    # 300 x 36 s x 2 cores / 1.8 (a light notebook gains from the second worker) = 3.33 core-hours
    assert rows["01_logistic_regression"].core_hours == pytest.approx(300 * 36 * 2 / 1.8 / 3600)
    # a CNN notebook saturates both cores: no gain from a second worker
    assert rows["04_cnn"].core_hours == pytest.approx(300 * 360 * 2 / 3600)
    # one 2-core machine grades one at a time; 16 cores run 8 at once; 4 such machines 32 at once
    wall = rows["04_cnn"].wall_hours
    assert wall["1 x 2 cores"] == pytest.approx(300 * 360 / 3600)
    assert wall["1 x 16 cores"] == pytest.approx(38 * 360 / 3600)  # ceil(300 / 8) rounds
    assert wall["4 x 16 cores"] == pytest.approx(10 * 360 / 3600)  # ceil(300 / 32)
    hours = list(wall.values())
    assert hours == sorted(hours, reverse=True)


def test_the_committed_projection_is_current(root, tmp_path):
    results = root / RESULTS
    for name in ("results.json", "grading_throughput.json", "grading_baseline.json", "grading_with_weights.json"):
        if (results / name).exists():
            (tmp_path / name).write_text((results / name).read_text())
    fresh = write_projection(tmp_path).read_text()
    assert fresh == (results / "grading_projection.md").read_text(), "run `python -m autograder.bench.projection`"
    payload = json.loads((tmp_path / "grading_projection.json").read_text())
    assert {r["assignment"] for r in payload["rows"]} == set(json.loads((results / "results.json").read_text())["grading_s"])


def test_render_lists_every_assignment_and_a_total():
    rows = project({"01_logistic_regression": 10.0, "04_cnn": 20.0}, bench_cores=2, pair_speedup=1.5, students=10)
    text = render(rows, machine={"cpu": "X", "cores": 2, "date": "2026-01-01"}, pair_speedup=1.5, students=10)
    assert "| 01_logistic_regression |" in text and "| 04_cnn |" in text and "| all | 30 |" in text


def test_the_saving_compares_at_one_machine_speed():
    # the baseline machine was twice as fast (yardstick 5 s against 10 s today): its 100 s are 200 s today
    baseline = {"machine": {"date": "2026-01-01"}, "yardstick_s": 5.0, "grading_s": {"04_cnn": 100.0}}
    before = saving(baseline, yardstick_s=10.0, bench_cores=2, pair_speedup=1.5, students=300)
    assert before.time_scale == pytest.approx(2.0)
    assert before.before_core_hours["04_cnn"] == pytest.approx(300 * 200 * 2 / 3600)
    now = project({"04_cnn": 150.0}, bench_cores=2, pair_speedup=1.5, students=300)
    assert before.saved(now) == pytest.approx(300 * 50 * 2 / 3600)
    text = render(now, machine={"cpu": "X", "cores": 2, "date": "2026-02-01"}, pair_speedup=1.5, students=300, before=before)
    assert "saves 8.3 core-hours" in text and "(25% of 33.3)" in text


def test_grading_from_weights_pays_full_price_only_for_the_audited_sample():
    assert [audited_count(300, f) for f in (0.0, 0.001, 0.05, 1.0)] == [0, 1, 15, 300]
    measured = {"04_cnn": {"with_weights_s": 20.0, "trained_s": 260.0}}
    [cnn, backprop] = sorted(
        project_with_weights(measured, {"04_cnn": 260.0, "02_backprop": 25.0}, fraction=0.05, bench_cores=2, pair_speedup=1.75, students=300),
        key=lambda r: r.assignment,
        reverse=True,
    )
    assert cnn.audited == 15
    assert cnn.core_hours == pytest.approx((285 * 20.0 / 1.75 + 15 * 260.0) * 2 / 3600)
    assert backprop.audited == 0 and backprop.core_hours == pytest.approx(300 * 25.0 / 1.75 * 2 / 3600)
