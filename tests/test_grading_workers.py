"""Re-runs (content hash, --force), Dask distributed workers, reports, static scan units."""

from __future__ import annotations

import csv

import pytest

import grading_fixtures as F
from autograder.pipeline import integrity
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.pipeline.report import write_reports
from autograder.pipeline.sandbox import SandboxSettings

FAST = SandboxSettings(memory_mb=2048, cell_timeout=30, notebook_timeout=120)


def test_rerun_skips_unchanged_and_force_regrades(tmp_path):
    root = F.make_course(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "out"
    F.write(subs, "ann", F.released(F.good_code()))
    first = grade_batch(root, subs, out, options=GradingOptions(workers=1, sandbox=FAST))
    assert first[0].status == "graded" and not first[0].skipped
    again = grade_batch(root, subs, out, options=GradingOptions(workers=1, sandbox=FAST))
    assert again[0].skipped and again[0].auto_score == 10 and again[0].feedback.exists()
    F.write(subs, "ann", F.released())  # the student re-uploads: regraded
    changed = grade_batch(root, subs, out, options=GradingOptions(workers=1, sandbox=FAST))
    assert not changed[0].skipped and changed[0].auto_score == 0
    forced = grade_batch(root, subs, out, options=GradingOptions(workers=1, sandbox=FAST, force=True))
    assert not forced[0].skipped and forced[0].auto_score == 0
    paths = write_reports(forced, out, f"sqlite:///{out / 'gradebook.db'}")
    with paths["nbgrader export"].open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["status"] == "graded"
    with paths["question statistics"].open() as handle:
        stats = {r["test"]: r for r in csv.DictReader(handle)}
    assert float(stats["test_f"]["failure_rate"]) == 1.0 and "NotImplementedError" in stats["test_f"]["most_common_failure"]
    assert paths["question chart"].exists() and paths["LMS import"].exists()


def test_dask_distributed_workers_grade_the_batch(tmp_path):
    distributed = pytest.importorskip("distributed")
    root = F.make_course(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "out"
    F.write(subs, "ann", F.released(F.good_code()))
    F.write(subs, "ben", F.released())
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        results = grade_batch(root, subs, out, options=GradingOptions(scheduler=cluster.scheduler_address, sandbox=FAST))
    scores = {s.student: (s.status, s.auto_score) for s in results}
    assert scores == {"ann": ("graded", 10), "ben": ("graded", 0)}
    assert (out / "feedback" / "ann" / F.AID / f"{F.AID}.html").exists()


@pytest.mark.parametrize("code,fragment", [
    ("np.allclose = lambda *a, **k: True", "np.allclose"),
    ("import numpy\nnumpy.testing.assert_allclose = print", "numpy.testing.assert_allclose"),
    ("setattr(np, 'allclose', len)", "setattr"),
    ("import builtins\nbuiltins.AssertionError = Warning", "builtins"),
    ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
    ("get_ipython().input_transformers_post.append(lambda lines: [])", "input transformer"),
    ("import sys\nsys.settrace(lambda *a: None)", "trace hook"),
    ("def check_close(*a, **k):\n    pass", "check_close"),
    ("from math import isclose as check_close", "check_close"),
    ("exec('x = 1')", "exec"),
])
def test_static_scan_names_the_line(code, fragment):
    findings = integrity.scan(F.released("def f(x):\n    return x\n" + code), F.source_notebook())
    assert findings and any(fragment in f for f in findings), findings
    assert all("line" in f for f in findings)


def test_static_scan_passes_ordinary_code():
    code = "import numpy as np\ndef f(x):\n    y = np.asarray(x)\n    y.shape = (-1,)\n    return y * 2.0\nnp.random.seed(0)"
    assert integrity.scan(F.released(code), F.source_notebook()) == []


RUNTIME_ATTACKS = {
    # each defeats the tests if nothing stops it; the static scan is off so the runtime layer must catch it
    "vars_patch": "def f(x):\n    return x\nvars(np)['allclose'] = lambda *a, **k: True\nimport autograder.checks as c\nvars(c)['check_close'] = lambda *a, **k: None",
    "transformer": "def f(x):\n    return x\nget_ipython().input_transformers_post.append(lambda lines: [l for l in lines if 'assert' not in l and 'check_close(' not in l])",
    "swallow": "def f(x):\n    return x\nget_ipython().set_custom_exc((Exception,), lambda *a, **k: None)",
    "rebind": "def f(x):\n    return x\ndef check_close(*a, **k):\n    pass\nclass _NP:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\nnp = _NP()",
}


def test_runtime_defences_without_the_static_scan(tmp_path):
    root = F.make_course(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student, code in RUNTIME_ATTACKS.items():
        F.write(subs, student, F.released(code))
    F.write(subs, "honest", F.released(F.good_code()))
    results = grade_batch(root, subs, out, options=GradingOptions(workers=2, sandbox=SandboxSettings(mode="limits", cell_timeout=30), static_scan=False))
    by = {s.student: s for s in results}
    assert (by["honest"].status, by["honest"].auto_score) == ("graded", 10), by["honest"].message
    for student in RUNTIME_ATTACKS:
        assert by[student].auto_score == 0, (student, by[student].status, by[student].message)
    for student in ("vars_patch", "transformer"):
        assert by[student].status == "tampered" and "modified" in by[student].message, (student, by[student].message)
