"""benchmarks/README.md lists every result with its title, machine and date, and is generated, never edited."""

from __future__ import annotations

import shutil

import pytest

from autograder.bench import RESULTS
from autograder.bench.index import ResultError, describe_machine, results, write_index


def test_the_committed_benchmarks_readme_is_current(root, tmp_path):
    shutil.copytree(root / RESULTS, tmp_path / "results")
    shutil.copytree(root / "benchmarks" / "scripts", tmp_path / "scripts")
    fresh = write_index(tmp_path).read_text()
    assert fresh == (root / "benchmarks" / "README.md").read_text(), "run `python -m autograder.bench.index`"


def test_every_result_names_its_machine_and_date(root):
    found = results(root / RESULTS)
    assert {r.name for r in found} >= {"results", "verdicts", "grading_projection"}
    for r in found:
        assert r.title and r.machine and r.dates, r
    listed = {name for r in found for name in r.files}
    assert listed == {p.name for p in (root / RESULTS).iterdir()}, "a result file is missing from the index"


def test_benchmarks_holds_only_the_index_scripts_and_results(root):
    assert sorted(p.name for p in (root / "benchmarks").iterdir()) == ["README.md", "results", "scripts"]
    assert all(p.suffix == ".py" for p in (root / "benchmarks" / "scripts").iterdir() if p.is_file())


@pytest.mark.parametrize(
    "written, machine",
    [
        ("x86_64 CPU (Intel(R) Xeon(R) Processor, 2 cores), Python 3.11.7", "Intel Xeon, 2 cores"),
        ("Machine: AMD EPYC, 2 cores · TensorFlow 2.21.0 · 2026-12-05.", "AMD EPYC, 2 cores"),
        ("NVIDIA H100 80GB HBM3, driver 580.159.04, 16 CPU threads", "NVIDIA H100 80GB HBM3, 16 CPU cores"),
        ("a laptop", ""),
    ],
)
def test_machines_are_named_one_way(written, machine):
    assert describe_machine(written) == machine


def test_a_result_without_machine_or_date_is_refused(tmp_path):
    (tmp_path / "timing.md").write_text("# A timing\n\nIt took 3 s.\n")
    with pytest.raises(ResultError, match="timing.md: no machine and date"):
        results(tmp_path)
    (tmp_path / "timing.md").write_text("# A timing\n\nAMD EPYC, 2 cores · 2026-01-02\n")
    (tmp_path / "stray.json").write_text("{}")
    with pytest.raises(ResultError, match="stray.json belongs to no result"):
        results(tmp_path)
    (tmp_path / "stray.json").unlink()
    [only] = results(tmp_path)
    assert (only.title, only.machine, only.date) == ("A timing", "AMD EPYC, 2 cores", "2026-01-02")
