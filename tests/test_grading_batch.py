"""A whole class through the real grading path: parallel workers, sandbox, bad and hostile input.

One batch (module fixture) holds a submission per case; each test reads its row.
The notebooks are tiny (numpy only, plus one TensorFlow matmul), so the batch
takes a minute or two on 2 cores.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import grading_fixtures as F
import nbformat
import pytest
from integrity_corpus import HARMLESS
from nbformat.v4 import new_code_cell

import autograder
from autograder.pipeline.grade import GradingOptions, grade_batch
from autograder.pipeline.report import write_reports
from autograder.pipeline.sandbox import SandboxSettings, bwrap_problem

pytestmark = pytest.mark.kernel

PACKAGE = Path(autograder.__file__).resolve().parent
needs_bwrap = pytest.mark.skipif(bwrap_problem() is not None, reason=f"bubblewrap cannot run here: {bwrap_problem()}")


def _server():
    """A TCP server on the host's loopback: the sandbox must not reach it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(5)
    threading.Thread(target=lambda: [srv.accept() for _ in range(100)], daemon=True).start()
    return srv, srv.getsockname()[1]


def _probe_code(paths: dict[str, str], port: int, outside: str, host_tmp_file: str) -> str:
    return f"""
import os, socket
seen = {{}}
for label, path in {paths!r}.items():
    try:
        seen[label] = len(os.listdir(path)) if os.path.isdir(path) else len(open(path).read())
    except Exception as exc:
        seen[label] = type(exc).__name__
try:
    open({outside!r}, "w").write("pwned")
    seen["write_outside"] = "written"
except Exception as exc:
    seen["write_outside"] = type(exc).__name__
for label, addr in (("net_host", ("127.0.0.1", {port})), ("net_internet", ("1.1.1.1", 53))):
    try:
        socket.create_connection(addr, timeout=3).close()
        seen[label] = "connected"
    except Exception as exc:
        seen[label] = type(exc).__name__
open({host_tmp_file!r}, "w").write("x")
seen["math_threads"] = os.environ.get("TF_NUM_INTRAOP_THREADS")
import json
print("PROBE", json.dumps(seen))
"""


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("class")
    root = F.make_course(tmp)
    subs, out = tmp / "subs", tmp / "out"
    good = F.good_code()
    srv, port = _server()
    # unique per run: a file left by a run without bubblewrap must not fail a later one
    host_tmp_file = f"/tmp/dlcourse_private_tmp_probe_{os.getpid()}_{tmp.name}"
    secret_paths = {
        "source_notebooks": str(root / "source_notebooks" / F.AID / f"{F.AID}.ipynb"),
        "solutions": str(root / "solutions"),
        "other_submission": str(subs / "good" / f"{F.AID}.ipynb"),
        "submissions": str(subs),
        "grading_out": str(out),
        "gradebook": str(out / "gradebook.db"),
        "git": str(F.ROOT / ".git"),
        # the package is mounted as the student kit only (autograder/kit.py): not the grader, not the example class
        "grader": str(PACKAGE / "pipeline" / "grade.py"),
        "example_class": str(PACKAGE / "examples"),
    }
    cases = {
        "good": F.released(good),
        "stub": F.released(),
        "notjson": "{this is not json",
        "empty": "",
        "v3": nbformat.writes(nbformat.convert(F.released(good), 3), version=3),
        "wrongassign": nbformat.writes(nbformat.read(root / "source_notebooks" / "toy2" / "toy2.ipynb", 4)),
        "deleted": F.released(good, tweak=lambda nb: nb.cells.pop(3)),
        "duplicated": F.released(good, tweak=lambda nb: nb.cells.append(nbformat.from_dict(nb.cells[3]))),
        "reordered": F.released(good, tweak=lambda nb: nb.cells.__setitem__(slice(3, 5), [nb.cells[4], nb.cells[3]])),
        "edited": F.released(
            "def f(x):\n    return x",
            tweak=lambda nb: [setattr(c, "source", "pass") for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")],
        ),
        "loop": F.released(good, extra_cells=[new_code_cell("while True:\n    pass")]),
        "oom": F.released(good, extra_cells=[new_code_cell("hog = bytearray(8 * 1024**3)")]),
        "exit": F.released(good, extra_cells=[new_code_cell("import os\nos._exit(3)")]),
        "flood": F.released(good, extra_cells=[new_code_cell("for i in range(300000):\n    print('flood', i)")]),
        "tensorflow": F.released(
            good,
            extra_cells=[
                new_code_cell(
                    "from autograder.runtime import quiet\nquiet()\nimport tensorflow as tf\n"
                    "print('matmul', float(tf.reduce_sum(tf.matmul(tf.ones((2, 3)), tf.ones((3, 2))))))"
                )
            ],
        ),
        "hostile": F.released(good, extra_cells=[new_code_cell(_probe_code(secret_paths, port, str(root / "pwned.txt"), host_tmp_file))]),
        "patchnumpy": F.released("def f(x):\n    return x\nnp.allclose = lambda *a, **k: True"),
        "redefine": F.released("def f(x):\n    return x\ndef check_close(*args, **kwargs):\n    pass"),
        # a correct answer with a plot setting in the answer cell, then every harmless idiom in cells of its own
        "idioms": F.released(
            "import matplotlib.pyplot as plt\nplt.rcParams['figure.figsize'] = (8, 4)\n" + good,
            extra_cells=[new_code_cell(code) for code in HARMLESS.values()],
        ),
        # a correct answer that also patches numpy: withheld, and every report must say the same score
        "flagged": F.released(good + "\nnp.allclose = lambda *a, **k: True"),
    }
    for student, content in cases.items():
        F.write(subs, student, content)
    F.write(subs, "renamed", F.released(good), name="my homework (final).ipynb")
    F.write(subs, "twice", F.released(good), name=f"{F.AID}.ipynb")
    F.write(subs, "twice", F.released(), name=f"{F.AID}_v2.ipynb")
    settings = SandboxSettings(memory_mb=2048, cell_timeout=15, notebook_timeout=120, max_output_chars=20_000, threads=1)
    results = grade_batch(root, subs, out, options=GradingOptions(workers=2, sandbox=settings))
    reports = write_reports(results, out, f"sqlite:///{out / 'gradebook.db'}")
    srv.close()
    by_student = {}
    for sub in results:
        by_student.setdefault(sub.student, []).append(sub)
    return {
        "root": root,
        "out": out,
        "subs": subs,
        "results": results,
        "host_tmp_file": host_tmp_file,
        "by": {k: v[0] for k, v in by_student.items()},
        "all": by_student,
        "reports": reports,
    }


def graded_nb(batch, student):
    return nbformat.read(batch["out"] / "autograded" / student / F.AID / f"{F.AID}.ipynb", 4)


def stdout_of(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "stream")


def test_good_and_stub(batch):
    good, stub = batch["by"]["good"], batch["by"]["stub"]
    assert (good.status, good.auto_score, good.auto_max_score) == ("graded", 10, 10), good.message
    assert (stub.status, stub.auto_score) == ("graded", 0)
    assert {g for g, _ in stub.failed_tests} == {"test_f", "test_f_hidden"}


def test_every_student_has_a_row_and_the_batch_went_on(batch):
    assert len(batch["results"]) == 23
    assert all(s.status in {"graded", "timed out", "crashed", "out of memory", "tampered", "invalid"} for s in batch["results"])


@pytest.mark.parametrize("student,fragment", [("notjson", "not JSON"), ("empty", "empty"), ("wrongassign", "wrong assignment")])
def test_invalid_files(batch, student, fragment):
    sub = batch["by"][student]
    assert sub.status == "invalid" and fragment in sub.message


def test_nbformat_v3_is_upgraded_and_graded(batch):
    sub = batch["by"]["v3"]
    assert (sub.status, sub.auto_score) == ("graded", 10), sub.message


def test_renamed_file_is_identified_by_its_cells(batch):
    sub = batch["by"]["renamed"]
    assert (sub.status, sub.auto_score) == ("graded", 10)


def test_two_files_for_one_assignment(batch):
    statuses = sorted(s.status for s in batch["all"]["twice"])
    assert statuses == ["graded", "invalid"]
    assert any("duplicate" in s.message for s in batch["all"]["twice"])


@pytest.mark.parametrize(
    "student,fragment,score",
    [
        ("deleted", "deleted: test_f", 5),
        ("duplicated", "duplicated: test_f", 10),
        ("reordered", "reordered", 10),
        ("edited", "edited: test_f", 0),
    ],
)
def test_changed_test_cells_are_restored_and_reported(batch, student, fragment, score):
    sub = batch["by"][student]
    assert sub.status == "graded", sub.message
    assert fragment in sub.message
    assert sub.auto_score == score, (sub.failed_tests, sub.message)


def test_infinite_loop_times_out_and_the_rest_is_graded(batch):
    sub = batch["by"]["loop"]
    assert sub.status == "timed out" and "time limit" in sub.message
    assert sub.auto_max_score == 10


def test_memory_blowup_is_out_of_memory(batch):
    sub = batch["by"]["oom"]
    assert sub.status == "out of memory", sub.message
    assert sub.auto_score == 10  # the kernel survived the MemoryError; the tests still ran


def test_kernel_exit_is_crashed_and_later_tests_score_zero(batch):
    sub = batch["by"]["exit"]
    assert sub.status == "crashed", sub.message
    assert "kernel died" in sub.message and sub.auto_score == 0


def test_output_flood_is_truncated(batch):
    sub = batch["by"]["flood"]
    assert (sub.status, sub.auto_score) == ("graded", 10), sub.message
    path = batch["out"] / "autograded" / "flood" / F.AID / f"{F.AID}.ipynb"
    assert path.stat().st_size < 200_000
    assert "truncated" in stdout_of(graded_nb(batch, "flood")).lower()


def test_tensorflow_runs_in_the_sandbox(batch):
    sub = batch["by"]["tensorflow"]
    assert (sub.status, sub.auto_score) == ("graded", 10), sub.message
    assert "matmul 12.0" in stdout_of(graded_nb(batch, "tensorflow"))


@needs_bwrap
def test_sandbox_hides_course_files_other_students_and_the_network(batch):
    sub = batch["by"]["hostile"]
    assert (sub.status, sub.auto_score) == ("graded", 10), sub.message
    line = next(text for text in stdout_of(graded_nb(batch, "hostile")).splitlines() if text.startswith("PROBE "))
    seen = json.loads(line[len("PROBE ") :])
    for label in ("source_notebooks", "solutions", "other_submission", "submissions", "grading_out", "gradebook", "git", "grader", "example_class"):
        assert seen[label] in ("FileNotFoundError", "PermissionError"), (label, seen[label])
    # a write may land in the sandbox's private tmpfs; it must never reach the host
    assert not (batch["root"] / "pwned.txt").exists()
    assert not Path(batch["host_tmp_file"]).exists()
    assert seen["math_threads"] == "1", "--threads 1 reaches the kernel inside the sandbox"
    assert seen["net_host"] != "connected" and seen["net_internet"] != "connected"


@pytest.mark.parametrize("student,fragment", [("patchnumpy", "np.allclose"), ("redefine", "check_close")])
def test_monkeypatching_is_caught_and_earns_nothing(batch, student, fragment):
    sub = batch["by"][student]
    assert sub.status == "tampered", sub.message
    assert fragment in sub.message and "line" in sub.message
    assert sub.auto_score == 0


def test_feedback_hides_hidden_tests(batch):
    html = batch["by"]["stub"].feedback.read_text()
    assert "SECRET_HIDDEN_CHECK" not in html and "hidden tests: not shown" in html
    instructor_copy = (batch["out"] / "autograded" / "stub" / F.AID / f"{F.AID}.ipynb").read_text()
    assert "SECRET_HIDDEN_CHECK" in instructor_copy


def test_the_class_gradebook_holds_every_graded_student(batch):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{batch['out'] / 'gradebook.db'}") as gb:
        scores = {s.student.id: s.score for s in gb.find_assignment(F.AID).submissions}
    assert scores["good"] == 10 and scores["stub"] == 0 and scores["patchnumpy"] == 0
    assert "notjson" not in scores


def test_harmless_idioms_keep_full_marks(batch):
    sub = batch["by"]["idioms"]
    assert (sub.status, sub.auto_score, sub.auto_max_score) == ("graded", 10, 10), sub.message
    assert "np.float_" in sub.message and "for review (points kept)" in sub.message  # listed, not punished


def _csv_row(path, **match):
    import csv

    with open(path) as handle:
        return next(r for r in csv.DictReader(handle) if all(r[k] == v for k, v in match.items()))


def test_withheld_score_is_the_same_in_feedback_grades_csv_and_nbgrader_export(batch):
    import re

    sub = batch["by"]["flagged"]
    assert sub.status == "tampered" and "withheld" in sub.message and "np.allclose" in sub.message
    assert (sub.auto_score, sub.auto_max_score) == (0, 10)
    html = sub.feedback.read_text()
    shown = re.search(r"\(Score: ([\d.]+) / ([\d.]+)\)", html)
    assert shown and float(shown.group(1)) == 0 and float(shown.group(2)) == 10, shown
    grades = _csv_row(batch["reports"]["gradebook"], student="flagged")
    assert (float(grades["score"]), float(grades["auto_score"]), grades["status"]) == (0, 0, "tampered")
    export = _csv_row(batch["reports"]["nbgrader export"], student_id="flagged")
    assert (float(export["score"]), export["status"]) == (0, "tampered")
    canvas = _csv_row(batch["reports"]["Canvas import"], **{"SIS Login ID": "flagged"})
    assert float(canvas[sub.assignment]) == 0
    assert float(_csv_row(batch["reports"]["Moodle import"], Username="flagged")[sub.assignment]) == 0
    honest = batch["by"]["good"]  # and an honest submission reads the same everywhere too
    assert float(re.search(r"\(Score: ([\d.]+) /", honest.feedback.read_text()).group(1)) == 10
    assert float(_csv_row(batch["reports"]["nbgrader export"], student_id="good")["score"]) == 10
