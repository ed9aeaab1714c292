"""Handing in trained models: `dlcourse handin` packs them, intake finds them beside the notebook or in a zip, within caps."""

import json
import zipfile

import nbformat
from typer.testing import CliRunner

from autograder.cli import app
from autograder.pipeline import handed_in_models
from autograder.pipeline.audit import choose_audits
from autograder.pipeline.intake import collect, read_notebook
from autograder.pipeline.model import GradingResult, TrainingNote

RECORD = {"format": 1, "name": "small_cnn", "epoch": [0, 1], "seconds": 12.0, "machine": {"device": "CPU (test, 2 cores)"}, "history": {}}


def student_folder(tmp_path, name="alice"):
    folder = tmp_path / "submissions" / name
    (folder / "trained_models").mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), folder / "04_cnn.ipynb")
    (folder / "trained_models" / "small_cnn.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + b"0" * 100)
    (folder / "trained_models" / "small_cnn.json").write_text(json.dumps(RECORD))
    (folder / "trained_models" / "notes.txt").write_text("not a model file")
    return folder


def test_handin_packs_the_notebook_and_its_model_files_only(tmp_path):
    folder = student_folder(tmp_path)
    result = CliRunner().invoke(app, ["handin", str(folder / "04_cnn.ipynb")])
    assert result.exit_code == 0, result.output
    assert "small_cnn: 2 epochs, trained in 12 s" in result.output
    with zipfile.ZipFile(folder / "04_cnn.zip") as bundle:
        assert sorted(bundle.namelist()) == ["04_cnn.ipynb", "trained_models/small_cnn.json", "trained_models/small_cnn.weights.h5"]


def test_handin_without_models_says_the_grader_will_train(tmp_path):
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "01.ipynb")
    result = CliRunner().invoke(app, ["handin", str(tmp_path / "01.ipynb")])
    assert result.exit_code == 0 and "the grader will train your models itself" in result.output


def test_intake_finds_models_beside_the_notebook_and_in_a_zip(tmp_path):
    folder = student_folder(tmp_path)
    CliRunner().invoke(app, ["handin", str(folder / "04_cnn.ipynb"), "--out", str(tmp_path / "submissions" / "bob.zip")])
    subs = {s.student: s for s in collect(tmp_path / "submissions", tmp_path / "scratch")}
    for student in ("alice", "bob"):
        found = handed_in_models.read_folder(subs[student].trained_models)
        assert sorted(found.files) == ["small_cnn.json", "small_cnn.weights.h5"], student
    assert any("notes.txt" in line for line in handed_in_models.read_folder(subs["alice"].trained_models).left_out)


def test_a_zip_cannot_write_outside_its_folder_or_smuggle_large_files(tmp_path, monkeypatch):
    monkeypatch.setattr(handed_in_models, "MAX_FILE_BYTES", 1000)
    bundle = tmp_path / "submissions" / "mallory.zip"
    bundle.parent.mkdir()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("04_cnn.ipynb", nbformat.writes(nbformat.v4.new_notebook()))
        archive.writestr("../trained_models/evil.json", "{}")
        archive.writestr("trained_models/huge.weights.h5", b"\x89HDF\r\n\x1a\n" + b"0" * 5000)
        archive.writestr("trained_models/fine.json", "{}")
        archive.writestr("trained_models/run.py", "print('hi')")
    [sub] = collect(tmp_path / "submissions", tmp_path / "scratch")
    assert sorted(handed_in_models.read_folder(sub.trained_models).files) == ["fine.json"]
    assert not (tmp_path / "scratch" / "trained_models").exists()


def test_the_audit_draws_at_least_one_per_assignment_with_a_printed_seed(tmp_path):
    for name in ("a", "b", "c", "d"):
        student_folder(tmp_path, name)
    (tmp_path / "submissions" / "e").mkdir()
    nbformat.write(nbformat.v4.new_notebook(), tmp_path / "submissions" / "e" / "01.ipynb")  # no models: never drawn
    subs = collect(tmp_path / "submissions", tmp_path / "scratch")
    for sub in subs:
        read_notebook(sub)
        sub.assignment = "04_cnn" if sub.path.name == "04_cnn.ipynb" else "01"
    plan = choose_audits(subs, fraction=0.05, seed=11)
    assert plan.candidates == {"04_cnn": 4} and len(plan.chosen) == 1
    assert [s.student for s in subs if s.audit] == [c.split("/")[0] for c in plan.chosen]
    again = collect(tmp_path / "submissions", tmp_path / "scratch2")
    for sub in again:
        read_notebook(sub)
        sub.assignment = "04_cnn" if sub.path.name == "04_cnn.ipynb" else "01"
    assert choose_audits(again, fraction=0.05, seed=11).chosen == plan.chosen, "the same seed draws the same sample"
    assert "seed 11" in str(plan)
    assert len(choose_audits(again, fraction=1.0, seed=1).chosen) == 4
    assert choose_audits(again, fraction=0.0, seed=1, named=["b", "e"]).chosen == ["b/04_cnn", "e/01"]


def test_the_audit_column_says_for_review_only_on_a_mismatch():
    ok = GradingResult(training=[TrainingNote.from_dict({"name": "cnn", "outcome": "audited", "audit": {"verdict": "bit-equal", "detail": ""}})])
    assert ok.audit == "cnn: bit-equal"
    bad = GradingResult(
        training=[TrainingNote.from_dict({"name": "cnn", "outcome": "audited", "audit": {"verdict": "mismatch", "detail": "loss 0.1 vs 0.3"}})]
    )
    assert bad.audit.startswith("for review: the submitted weights do not come from this code") and "loss 0.1 vs 0.3" in bad.audit
    restored = GradingResult(training=[TrainingNote.from_dict({"name": "cnn", "outcome": "restored"})])
    assert restored.audit == "" and restored.training_summary == "cnn: restored"
    assert GradingResult.from_dict(bad.to_dict(files=False)).audit == bad.audit


def test_model_names_are_unique_across_the_course(root):
    """One folder of notebooks shares one trained_models/: no two assignments may save under the same name."""
    import re

    from autograder.registry import assignments

    owner: dict[str, str] = {}
    for aid in (a.id for a in assignments(root) if a.trains):
        nb = nbformat.read(root / "source_notebooks" / aid / f"{aid}.ipynb", as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        names = re.findall(r'train_or_restore\(\s*f?"([^"]+)"', code) + re.findall(r"train_or_restore\(\s*\"?([a-z_]+)\"? ?\+", code)
        assert names, f"{aid} trains a model but no train_or_restore name was found"
        for name in names:
            stem = name.split("{")[0]
            assert owner.setdefault(stem, aid) == aid, f"{stem!r} is used by {owner[stem]} and {aid}"
