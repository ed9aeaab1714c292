"""The instructor's class pages from synthetic results (no kernels): what the class got wrong, and who handed in alike work."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.checks.diagnoses import Diagnosis
from autograder.pipeline import similarity as S
from autograder.pipeline.class_report import heading_above_each_cell, message_group, misconceptions, reteach, write_misconception_reports
from autograder.pipeline.examples import answered_release
from autograder.pipeline.intake import Submission
from autograder.pipeline.model import CellScore, GradingResult, Status
from autograder.pipeline.report import write_reports
from autograder.pipeline.similarity_corpus import disguise, honest_versions
from autograder.pipeline.similarity_report import answer_cells, same_weights, similar_pairs, starter_cells

TESTS = {"test_affine": "### B.1 The affine layer", "test_sigmoid": "### B.2 Activations", "test_loss": "## C. The loss"}
PLANTED = {
    "test_affine": [Diagnosis.BATCH_MEAN_TWICE, Diagnosis.TRANSPOSE],
    "test_sigmoid": [Diagnosis.OVERFLOW, Diagnosis.SIGN],
    "test_loss": [Diagnosis.BATCH_MEAN_MISSING, Diagnosis.NOT_ANSWERED],
}


def _notebook():
    cells = [new_markdown_cell("# Backprop\nintro")]
    for grade_id, heading in TESTS.items():
        cells += [new_markdown_cell(f"{heading}\nSome text.\n"), new_code_cell("pass", metadata={"nbgrader": {"grade": True, "grade_id": grade_id}})]
    return nbformat.from_dict(new_notebook(cells=cells))


def synthetic_class(n: int = 34, seed: int = 3):
    """Students with planted mistakes; returns the submissions and (test, code) -> the students who got it."""
    rng = random.Random(seed)
    planted: dict[tuple[str, str], set[str]] = {}
    subs = []
    nb = _notebook()
    for i in range(n):
        student = f"s{i:02d}"
        cells = []
        for test, codes in PLANTED.items():
            pick = rng.random()
            if pick < 0.45:
                code = codes[0] if pick < 0.3 else codes[1]
                planted.setdefault((test, code), set()).add(student)
                cells.append(CellScore(test, 0, 2, True, f"GradientCheckError: {test}: error {rng.random():.4f}. [{code}]", code))
            elif pick < 0.55:  # a failure no check named: grouped by its message, numbers masked
                planted.setdefault((test, "unnamed"), set()).add(student)
                cells.append(CellScore(test, 0, 2, True, f"AssertionError: expected 7 rows, got {rng.randint(1, 6)}"))
            else:
                cells.append(CellScore(test, 2, 2, True))
        cells.append(CellScore("essay", None, 3, False))
        subs.append(
            Submission(
                student, Path(f"{student}/02_backprop.ipynb"), "02_backprop", "02_backprop", nb=nb, result=GradingResult(Status.GRADED, cells=cells)
            )
        )
    subs.append(Submission("late", Path("late.ipynb"), "02_backprop", nb=None, result=GradingResult(Status.INVALID, "not a notebook")))
    return subs, planted


def test_sections_are_the_headings_above_each_test():
    assert heading_above_each_cell(_notebook()) == {test: heading.lstrip("#").strip() for test, heading in TESTS.items()}


def test_each_planted_mistake_appears_under_its_code_with_the_right_count():
    subs, planted = synthetic_class()
    found = misconceptions(subs)
    seen = {(m.test, m.diagnosis or "unnamed"): m for m in found}
    assert set(seen) == set(planted)
    for key, students in planted.items():
        m = seen[key]
        assert set(m.students) == students and m.count == len(students)
        assert m.graded == 34 and m.share == pytest.approx(len(students) / 34)
        assert m.section == TESTS[m.test].lstrip("#").strip()
        if m.diagnosis:
            assert m.name == Diagnosis(m.diagnosis).title
        else:
            assert m.name == "AssertionError: expected # rows, got #"


def test_reteach_counts_each_student_once_per_mistake_across_tests():
    subs, planted = synthetic_class()
    rows = {r.diagnosis: r for r in reteach(misconceptions(subs), subs)}
    expected: dict[str, set[str]] = {}
    for (_, code), students in planted.items():
        if code != "unnamed":
            expected.setdefault(code, set()).update(students)
    assert {code: set(r.students) for code, r in rows.items()} == expected
    assert rows["batch-mean-missing"].sections == ("C. The loss",)
    assert all(r.class_size == 34 for r in rows.values())


def test_the_csv_and_the_self_contained_page(tmp_path):
    subs, planted = synthetic_class()
    paths = write_misconception_reports(subs, tmp_path)
    with paths["misconceptions"].open() as handle:
        rows = list(csv.DictReader(handle))
    counts = Counter()
    for row in rows:
        counts[(row["test"], row["diagnosis"] or "unnamed")] += int(row["count"])
        assert len(row["students"].split("; ")) == int(row["count"])
    assert counts == Counter({key: len(students) for key, students in planted.items()})
    page = paths["misconceptions page"].read_text()
    assert "<svg" in page and "<script" not in page and 'src="http' not in page and "<link" not in page
    assert "batch mean taken twice" in page and "B.1 The affine layer" in page


def test_message_groups_mask_numbers_only():
    assert message_group("dW: max relative error 1.2e-03, worst (0, 1)") == "dW: max relative error #, worst (#, #)"


# ---------------------------------------------------------------- similarity


def _versions(root: Path, aid: str = "02_backprop"):
    return honest_versions(root, aid)


def test_fingerprints_ignore_names_comments_layout_and_the_order_of_functions():
    code = 'def f(a, b):\n    """Doc."""\n    total = a @ b  # product\n    return total.sum(axis=0)\n\n\ndef g(x):\n    return np.maximum(x, 0), x\n'
    other = "def g(q):\n    return np.maximum(q,\n                      0), q\n\n\n# mine\ndef f(m, n):\n    r = m @ n\n\n    return r.sum(axis=1)\n"
    assert S.fingerprint([S.AnswerCell("c", code)]).keys() == S.fingerprint([S.AnswerCell("c", other)]).keys()
    different = "def f(a, b):\n    return np.einsum('ij,jk->k', a, b)\n"
    assert S.score_pair(S.fingerprint([S.AnswerCell("c", code)]).keys(), S.fingerprint([S.AnswerCell("c", different)]).keys())[0] < S.THRESHOLD


def test_starter_statements_are_not_the_students_work():
    starter = 'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
    answer = 'def f(x):\n    """Doc."""\n    return x + 1\n'
    texts = [t.text for t in S.normalized_tokens(S.AnswerCell("c", answer, starter))]
    assert texts == ["return", "N", "+", "0"]


def test_winnowing_keeps_a_fingerprint_in_every_window():
    tokens = [S.Token(str(i % 7), "c", i) for i in range(60)]
    chosen = S.winnow(tokens, k=5, window=4)
    positions = [p for _, p in chosen]
    assert all(b - a <= 4 for a, b in zip(positions, positions[1:], strict=False))
    assert positions == sorted(set(positions))


def test_disguised_copies_are_listed_and_honest_alternatives_are_not(root):
    rng = random.Random(1)
    found = honest_flagged = honest = copies = 0
    for versions in _versions(root).values():
        prints = [S.fingerprint([v.cell()]).keys() for v in versions]
        for v, p in zip(versions, prints, strict=True):
            score, shared = S.score_pair(p, S.fingerprint([v.cell(disguise(v.source, rng))]).keys())
            if len(p) < S.MIN_SHARED:  # a one-line answer is no evidence of copying, copied or not: never listed
                assert not S.is_alike(score, len(shared)), v
                continue
            copies += 1
            found += S.is_alike(score, len(shared))
        for i in range(len(versions)):
            for j in range(i + 1, len(versions)):
                score, shared = S.score_pair(prints[i], prints[j])
                honest += 1
                honest_flagged += S.is_alike(score, len(shared))
    assert copies >= 20 and honest >= 20
    assert found / copies >= 0.9
    assert honest_flagged / honest <= 0.05


def _student_notebook(root: Path, replace: dict[str, str] | None = None):
    nb = answered_release(root, "02_backprop")
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if replace and grade_id in replace:
            cell.source = replace[grade_id]
    return nb


def similarity_class(root: Path) -> list[Submission]:
    """The answer key (ann), a disguised copy of it (bob) and two honest classmates (cem, dia) of 02_backprop."""
    rng = random.Random(5)
    key = _student_notebook(root)
    solution_ids = [
        c.metadata["nbgrader"]["grade_id"] for c in key.cells if c.get("metadata", {}).get("nbgrader", {}).get("solution") and c.cell_type == "code"
    ]
    copy = _student_notebook(root)
    for cell in copy.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") in solution_ids:
            cell.source = disguise(cell.source, rng)
    release = starter_cells(root, "02_backprop", "02_backprop")
    # Honest classmates: each answer cell is the release's starter plus a different correct alternative.
    versions = [vs for vs in _versions(root).values()]
    honest = []
    for n in range(1, 3):
        chosen = {}
        for vs in versions:
            grade_id = _answer_cell_of(vs[0], release)
            if grade_id and len(vs) > n:
                chosen[grade_id] = chosen.get(grade_id, release[grade_id]) + "\n\n" + vs[n].source
        honest.append(_student_notebook(root, chosen))
    return [
        Submission(name, Path(f"{name}/02_backprop.ipynb"), "02_backprop", "02_backprop", nb=nb, result=GradingResult(Status.GRADED))
        for name, nb in (("ann", key), ("bob", copy), ("cem", honest[0]), ("dia", honest[1]))
    ]


def test_the_page_lists_a_disguised_copy_and_not_honest_classmates(root, tmp_path):
    subs = similarity_class(root)
    pairs, compared = similar_pairs(subs, root)
    assert compared == {"02_backprop": 4}
    assert [(p.first.student, p.second.student) for p in pairs] == [("ann", "bob")]
    assert pairs[0].score.score >= S.THRESHOLD
    paths = write_reports(subs, tmp_path, f"sqlite:///{tmp_path / 'gradebook.db'}", root)
    page = paths["similarity page"].read_text()
    assert "not evidence of misconduct" in page and "never changes a score" in page
    assert "ann and bob" in page and "<mark>" in page and "cem and" not in page
    assert paths["misconceptions page"].exists() and paths["misconceptions"].exists()


def _answer_cell_of(version, release: dict[str, str]) -> str | None:
    """The release's answer cell whose starter defines the first function of ``version``."""
    import ast

    names = {n.name for n in ast.parse(version.source).body if isinstance(n, ast.FunctionDef)}
    return next((g for g, src in release.items() if any(f"def {name}(" in src for name in names)), None)


def test_answer_cells_leave_out_what_the_release_gives(root):
    release = starter_cells(root, "02_backprop", "02_backprop")
    untouched = Submission(
        "x", Path("x.ipynb"), "02_backprop", nb=nbformat.read(root / "assignments" / "02_backprop" / "02_backprop.ipynb", as_version=4)
    )
    assert S.fingerprint(answer_cells(untouched.nb, release)).keys() == set()


def test_identical_weight_files_make_a_pair(tmp_path):
    def handed_in(student: str, data: bytes) -> Submission:
        folder = tmp_path / student
        (folder / "trained_models").mkdir(parents=True)
        (folder / "trained_models" / "mlp.weights.h5").write_bytes(data)
        return Submission(student, folder / "03_mlp.ipynb", "03_mlp", nb=_notebook(), result=GradingResult(Status.GRADED))

    subs = [handed_in("ann", b"weights-1"), handed_in("bob", b"weights-1"), handed_in("cem", b"weights-2")]
    found = same_weights(subs)
    assert [(w.students, w.files) for w in found] == [(("ann", "bob"), ("mlp.weights.h5",))]


def test_the_recorded_calibration_is_for_the_shipped_rule(root):
    import json

    recorded = json.loads((root / "benchmarks" / "results" / "similarity_calibration.json").read_text())
    assert recorded["rule"] == {
        "k": S.K,
        "window": S.WINDOW,
        "threshold": S.THRESHOLD,
        "min_shared": S.MIN_SHARED,
        "score": recorded["rule"]["score"],
    }
    assert recorded["one_function"]["honest_pairs"] + recorded["one_function"]["copy_pairs"] >= 200
