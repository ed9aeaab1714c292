"""Re-runs (content hash, --force), Dask distributed workers, reports, static scan units."""

from __future__ import annotations

import csv

import grading_fixtures as F
import pytest
from integrity_corpus import HARMLESS, HOSTILE

from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.pipeline.model import Severity
from autograder.pipeline.report import write_reports
from autograder.pipeline.sandbox import SandboxSettings
from autograder.pipeline.static_scan import scan

FAST = SandboxSettings(memory_mb=2048, cell_timeout=30, notebook_timeout=120)


@pytest.mark.kernel
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
    assert paths["question chart"].exists() and paths["Canvas import"].exists() and paths["Moodle import"].exists()


@pytest.mark.kernel
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


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_static_scan_withholds_hostile_code_and_names_the_line(name):
    code, fragment = HOSTILE[name]
    findings = scan(F.released("def f(x):\n    return x\n" + code), F.source_notebook())
    withheld = [f for f in findings if f.severity is Severity.WITHHOLD]
    assert withheld and any(fragment in str(f) for f in withheld), findings
    assert all(f.line >= 1 and f.cell == "answer_f" for f in findings)


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_static_scan_never_withholds_a_harmless_idiom(name):
    findings = scan(F.released(F.good_code() + "\n" + HARMLESS[name]), F.source_notebook())
    assert not [f for f in findings if f.severity is Severity.WITHHOLD], findings


def test_the_harmless_corpus_is_large_enough():
    assert len(HARMLESS) >= 30 and len(HOSTILE) >= 15


def test_exec_and_eval_are_listed_for_review_only():
    findings = scan(F.released(F.good_code() + "\nexec('x = 1')\ny = eval('1 + 1')"), F.source_notebook())
    assert [f.severity for f in findings] == [Severity.REVIEW, Severity.REVIEW]
    assert "uses exec" in str(findings[0]) and "line 3" in str(findings[0])


RUNTIME_ATTACKS = {
    # each defeats the tests if nothing stops it; the static scan is off so the runtime layer must catch it
    "vars_patch": "def f(x):\n    return x\nvars(np)['allclose'] = lambda *a, **k: True\nimport autograder.checks as c\nvars(c)['check_close'] = lambda *a, **k: None",
    "transformer": "def f(x):\n    return x\nget_ipython().input_transformers_post.append(lambda lines: [l for l in lines if 'assert' not in l and 'check_close(' not in l])",
    "swallow": "def f(x):\n    return x\nget_ipython().set_custom_exc((Exception,), lambda *a, **k: None)",
    "rebind": "def f(x):\n    return x\ndef check_close(*a, **k):\n    pass\nclass _NP:\n    def __getattr__(self, name):\n        return lambda *a, **k: True\nnp = _NP()",
}


@pytest.mark.kernel
def test_runtime_defences_without_the_static_scan(tmp_path):
    root = F.make_course(tmp_path)
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student, code in RUNTIME_ATTACKS.items():
        F.write(subs, student, F.released(code))
    F.write(subs, "honest", F.released(F.good_code()))
    results = grade_batch(
        root, subs, out, options=GradingOptions(workers=2, sandbox=SandboxSettings(mode="limits", cell_timeout=30), static_scan=False)
    )
    by = {s.student: s for s in results}
    assert (by["honest"].status, by["honest"].auto_score) == ("graded", 10), by["honest"].message
    for student in RUNTIME_ATTACKS:
        assert by[student].auto_score == 0, (student, by[student].status, by[student].message)
    for student in ("vars_patch", "transformer"):
        assert by[student].status == "tampered" and "modified" in by[student].message, (student, by[student].message)
