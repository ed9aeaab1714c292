"""Pure pieces of the grading pipeline, each in milliseconds: nonce guards, probes, hashes, CSVs, the sandbox command."""

from __future__ import annotations

import csv
from pathlib import Path

import grading_fixtures as F
import nbformat
from nbformat.v4 import new_code_cell, new_output

import autograder
from autograder.pipeline import integrity, nbgrader_cells
from autograder.pipeline.grade import GradingContext, GradingOptions, content_hash
from autograder.pipeline.intake import Submission
from autograder.pipeline.model import CellScore, GradingResult, Status
from autograder.pipeline.report import summary_table, write_csv
from autograder.pipeline.sandbox import SandboxSettings, bwrap_command, thread_environment

# ---------------------------------------------------------------- nonce guards


def test_a_guarded_test_cell_reimports_and_prints_the_nonce_last():
    nonce = integrity.new_nonce()
    source = integrity.guard_source("check_close(f(1), 2)", ["import numpy as np", "from autograder.checks import check_close"], nonce)
    lines = source.splitlines()
    assert lines.index("import numpy as np") < lines.index("check_close(f(1), 2)") < lines.index(f"print({nonce!r})")
    compile(source, "<test cell>", "exec")  # still valid Python


def test_take_nonce_removes_only_the_marker():
    nonce = integrity.new_nonce()
    cell = new_code_cell("x", outputs=[new_output("stream", name="stdout", text=f"hello\n{nonce}\n")])
    assert integrity.take_nonce(cell, nonce) and cell.outputs[0]["text"] == "hello\n"
    alone = new_code_cell("x", outputs=[new_output("stream", name="stdout", text=f"{nonce}\n")])
    assert integrity.take_nonce(alone, nonce) and alone.outputs == []
    assert not integrity.take_nonce(new_code_cell("x", outputs=[new_output("stream", name="stdout", text="dlcourse-nonce-forged\n")]), nonce)


def test_nonces_are_fresh():
    assert len({integrity.new_nonce() for _ in range(100)}) == 100


# ---------------------------------------------------------------- probes


def test_probe_comparison_names_what_changed_and_ignores_volatile_entries():
    before = {"numpy.allclose": 1, "sys.gettrace": "None", "sys.excepthook": 5, "ip.events": {}, "ip.instance_methods": ["a"]}
    same = dict(before, **{"sys.excepthook": 6, "ip.events": {"post_run_cell": [1]}})
    assert integrity.compare(before, same) == []
    patched = dict(before, **{"numpy.allclose": 2, "ip.instance_methods": ["a", "run_cell"]})
    changes = integrity.compare(before, patched)
    assert "numpy.allclose changed" in changes and any("run_cell" in c for c in changes)
    assert integrity.compare(before, None) and "did not come back" in integrity.compare(before, None)[0]


def test_probe_output_is_read_only_behind_its_tag():
    assert integrity.read_probe('noise\nTAG:{"a": 1}\n', "TAG:") == {"a": 1}
    assert integrity.read_probe("TAG:{broken", "TAG:") is None and integrity.read_probe("nothing", "TAG:") is None


# ---------------------------------------------------------------- read-only cells


def test_changes_to_read_only_cells_are_listed():
    source = F.source_notebook()
    edited = F.released(F.good_code(), tweak=lambda nb: setattr(nb.cells[3], "source", "pass"))
    assert any("edited: test_f" in n for n in integrity.test_cell_changes(edited, source))
    deleted = F.released(F.good_code(), tweak=lambda nb: nb.cells.pop(3))
    assert any("deleted: test_f" in n for n in integrity.test_cell_changes(deleted, source))
    assert integrity.test_cell_changes(F.released(F.good_code()), source) == []


def test_duplicate_graded_cells_lose_their_metadata_after_the_first():
    nb = F.released(F.good_code(), tweak=lambda nb: nb.cells.append(nbformat.from_dict(nb.cells[3])))
    integrity.drop_duplicate_cells(nb)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells].count("test_f") == 1


def test_hidden_tests_are_stripped_for_students_and_redacted_in_feedback():
    source = "visible()\n### BEGIN HIDDEN TESTS\nsecret()\n### END HIDDEN TESTS\n"
    assert nbgrader_cells.strip_hidden(source) == "visible()\n"
    assert nbgrader_cells.redact_hidden(source) == "visible()\n# (hidden tests: not shown)\n"


# ---------------------------------------------------------------- content hash


def _context(root: Path, **options) -> GradingContext:
    return GradingContext(root, root / "out", api=None, source_notebooks={}, options=GradingOptions(**options))


def test_content_hash_changes_with_the_submission_the_source_and_the_settings(tmp_path):
    root = F.make_course(tmp_path)
    path = F.write(tmp_path / "subs", "ann", F.released(F.good_code()))
    sub = Submission("ann", path, assignment=F.AID, notebook_id=F.AID)
    first = content_hash(sub, _context(root))
    assert content_hash(sub, _context(root)) == first
    assert content_hash(sub, _context(root, sandbox=SandboxSettings(cell_timeout=5))) != first
    assert content_hash(sub, _context(root, show_hidden_tests=True)) != first
    F.write(tmp_path / "subs", "ann", F.released())
    assert content_hash(sub, _context(root)) != first


# ---------------------------------------------------------------- reports


def _subs(tmp_path) -> list[Submission]:
    graded = Submission("ann", tmp_path / "ann.ipynb", F.AID, F.AID)
    graded.result = GradingResult(
        Status.GRADED,
        cells=[CellScore("test_f", 5, 5, True), CellScore("test_g", 0, 5, True, "AssertionError: x"), CellScore("essay", None, 2, False)],
    )
    tampered = Submission("ben", tmp_path / "ben.ipynb", F.AID, F.AID)
    tampered.result = GradingResult(
        Status.TAMPERED,
        "autograded points withheld (set to 0) for review; static scan: ...",
        cells=[CellScore("test_f", 0, 5, True), CellScore("test_g", 0, 5, True), CellScore("essay", None, 2, False)],
    )
    invalid = Submission("cat", tmp_path / "cat.ipynb")
    invalid.reject(Status.INVALID, "cat.ipynb is empty:\nblank")
    return [graded, tampered, invalid]


def test_grades_csv_has_a_row_per_submission_with_its_status(tmp_path):
    rows = list(csv.DictReader(write_csv(_subs(tmp_path), tmp_path / "grades.csv").open()))
    assert [(r["student"], r["status"], r["score"], r["auto_score"], r["manual_grading_pending"]) for r in rows] == [
        ("ann", "graded", "5", "5", "yes"),
        ("ben", "tampered", "0", "0", "yes"),
        ("cat", "invalid", "", "", "no"),
    ]
    assert rows[0]["failed_tests"] == "test_g" and "|" in rows[2]["message"] and "\n" not in rows[2]["message"]


def test_summary_table_names_failing_tests(tmp_path):
    table = summary_table(_subs(tmp_path))
    assert "test_g" in table and "tampered" in table and "5/10" in table


# ---------------------------------------------------------------- sandbox command line


def test_bwrap_command_allow_lists_mounts_and_hides_the_course(tmp_path, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    root = F.make_course(tmp_path)
    cmd = bwrap_command(["python", "-m", "ipykernel_launcher"], tmp_path / "kernel", SandboxSettings(), root)
    joined = " ".join(cmd)
    for flag in ("--unshare-all", "--die-with-parent", "--tmpfs /tmp", "--proc /proc"):
        assert flag in joined
    assert cmd[cmd.index("--") + 1 :] == ["python", "-m", "ipykernel_launcher"]
    ro = {cmd[i + 1] for i, part in enumerate(cmd) if part == "--ro-bind"}
    assert str(root / "solutions") not in ro and str(root) not in ro
    assert str(root / "source_notebooks") not in ro  # only an empty folder of that name is created
    package = Path(autograder.__file__).resolve().parent
    assert str(package / "checks") in ro and str(package / "runtime.py") in ro  # the student kit, file by file
    assert not {str(package), str(package / "pipeline"), str(package / "examples"), str(package / "cli.py")} & ro
    assert ["--bind", str(tmp_path / "kernel"), str(tmp_path / "kernel")] == cmd[cmd.index("--bind") : cmd.index("--bind") + 3]
    assert cmd[cmd.index("JPY_PARENT_PID") + 1] == "1"


def test_thread_caps_cover_every_math_library():
    env = thread_environment(2)
    assert set(env.values()) == {"2"} and {"TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"} <= set(env)


def test_new_gradebooks_are_stamped_with_the_revision_alembic_itself_reports(tmp_path):
    import subprocess

    import sqlalchemy
    from nbgrader.api import Gradebook
    from nbgrader.dbutil import _temp_alembic_ini

    from autograder.pipeline.nbgrader_setup import alembic_head, expose_environment_scripts, read_alembic_head_in_process

    expose_environment_scripts()
    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'unused.db'}") as ini:  # what nbgrader would ask for
        reported = subprocess.check_output(["alembic", "-c", ini, "heads"], text=True).split()[0]
    assert alembic_head() == reported
    read_alembic_head_in_process()
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db):
        pass
    with sqlalchemy.create_engine(db).connect() as conn:
        assert conn.execute(sqlalchemy.text("SELECT version_num FROM alembic_version")).scalar_one() == reported
