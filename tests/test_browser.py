"""The real clients: a student in JupyterLab and an instructor in nbgrader's formgrader, in headless Chromium.

Both start ``jupyter lab`` from this environment (loopback port, random token)
and drive Debian's ``chromium`` through ``chromium-driver`` with Selenium.
Screenshots of every step go to ``build/browser-artifacts/<test>/`` (printed). The README's screenshots
are README-sized copies of some of them: ``DLCOURSE_SCREENSHOTS=docs/screenshots`` writes them there.
Without Chromium these tests skip, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import csv
import shutil
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml
from browser_support import ARTIFACTS, NotebookPage, browser_binaries, chromium_driver, jupyter_lab, shot, wait

from autograder.registry import get_assignment

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.browser]

AID = "01_logistic_regression"


@pytest.fixture
def artifacts(request) -> Path:
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"\nscreenshots and logs: {folder}")
    return folder


@pytest.fixture
def browser(artifacts):
    chromium, driver = browser_binaries()
    session = chromium_driver(chromium, driver, artifacts / "chromedriver.log")
    yield session
    session.quit()


def _grade_ids(nb) -> dict[str, int]:
    return {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id")}


def _answer(root: Path, grade_id: str) -> str:
    """The answer key's code for one cell, as a student would type it (no solution markers)."""
    key = nbformat.read(root / "solutions" / AID / f"{AID}.ipynb", as_version=4)
    source = key.cells[_grade_ids(key)[grade_id]].source
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def _mistake(root: Path, function: str, case: str) -> tuple[str, str]:
    """A planted mistake from the mutation suite: its code and the fragment its failure message must contain."""
    spec = yaml.safe_load(get_assignment(AID, root).mutations.read_text())
    mistake = spec["functions"][function]["mistakes"][case]
    return mistake["code"], mistake["message"]


def _open_notebook(browser, base: str, token: str, path: str, n_cells: int) -> NotebookPage:
    browser.get(f"{base}/lab/tree/{path}?reset&token={token}")
    page = NotebookPage(browser)
    page.wait_ready(n_cells)
    _fold_file_browser(browser)
    return page


def _fold_file_browser(browser) -> None:
    """Click the file browser's tab in the left bar to fold it away: the main area gets the width."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    tab = wait(browser, EC.element_to_be_clickable((By.CSS_SELECTOR, ".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")))
    tab.click()
    wait(browser, EC.invisibility_of_element_located((By.ID, "filebrowser")), message="the file browser stayed open")


def test_student_answers_runs_tests_and_validates_in_jupyterlab(root, tmp_path, browser, artifacts):
    """Type the answer key's sigmoid: its test cell passes; type the overflowing one: the check says so; Validate."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    start = time.monotonic()
    course = tmp_path / "course"  # what a student has: the release and the course's nbgrader_config.py
    shutil.copytree(root / "assignments" / AID, course / "assignments" / AID)
    shutil.copy(root / "nbgrader_config.py", course)
    release = nbformat.read(course / "assignments" / AID / f"{AID}.ipynb", as_version=4)
    ids = _grade_ids(release)
    first = next(i for i, c in enumerate(release.cells) if "YOUR CODE HERE" in c.source and c.cell_type == "code")
    assert first == ids["sigmoid"], "the first answer cell of 01 is no longer sigmoid: update this test"
    correct = _answer(root, "sigmoid")
    wrong, diagnosis = _mistake(root, "sigmoid", "naive_overflows")

    with jupyter_lab(course, tmp_path / "home", artifacts / "jupyterlab.log") as (base, token):
        page = _open_notebook(browser, base, token, f"assignments/{AID}/{AID}.ipynb", len(release.cells))
        shot(browser, artifacts, "1_notebook", docs_name="jupyterlab_student_notebook")

        page.run(ids["setup"])
        assert not page.errors(ids["setup"]), page.errors(ids["setup"])

        page.type_code(ids["sigmoid"], correct)
        assert page.source(ids["sigmoid"]) == correct.rstrip("\n"), "the editor holds something else than what was typed"
        page.run(ids["sigmoid"])
        page.run(ids["test_sigmoid"])
        page.show(ids["test_sigmoid"], "end")
        shot(browser, artifacts, "2_test_passes", docs_name="jupyterlab_student_test_passes")
        assert not page.errors(ids["test_sigmoid"]), f"the answer key's sigmoid failed in JupyterLab:\n{page.errors(ids['test_sigmoid'])}"
        assert "✓ sigmoid at -1000 and 1000" in page.output(ids["test_sigmoid"])

        page.type_code(ids["sigmoid"], wrong)
        page.run(ids["sigmoid"])
        page.run(ids["test_sigmoid"])
        page.show(ids["test_sigmoid"], "end")
        shot(browser, artifacts, "3_test_fails", docs_name="jupyterlab_student_test_fails")
        message = page.errors(ids["test_sigmoid"])
        assert diagnosis in message, f"the overflowing sigmoid's test output lacks {diagnosis!r}:\n{message}"

        browser.find_element(By.CSS_SELECTOR, "jp-button.validate-button").click()
        dialog = wait(
            browser,
            EC.visibility_of_element_located((By.CSS_SELECTOR, ".nbgrader-ErrorDialog, .nbgrader-SuccessDialog")),
            message="nbgrader's Validate gave no verdict",
        )
        assert "nbgrader-ErrorDialog" in dialog.get_attribute("class"), "Validate passed a notebook with failing cells"
        wait(browser, lambda _: dialog.text.strip(), message="the verdict dialog stayed empty")
        verdict = dialog.text
        shot(browser, artifacts, "4_validate_verdict", docs_name="jupyterlab_validate_verdict")
        (artifacts / "validate_verdict.txt").write_text(verdict)
        assert "The following cell failed" in verdict, f"Validate did not report the failing cells:\n{verdict[:2000]}"
        assert diagnosis in verdict, f"Validate's verdict does not show the sigmoid's overflow:\n{verdict[:2000]}"
        assert "NotImplementedError" in verdict  # the cells still unanswered
    print(f"student test: {time.monotonic() - start:.0f} s")


def _dlcourse(root: Path, *args: str, cwd: Path) -> str:
    import os
    import subprocess
    import sys

    command = [str(Path(sys.executable).with_name("dlcourse")), *args]
    done = subprocess.run(command, cwd=cwd, env=dict(os.environ, DLCOURSE_ROOT=str(root)), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _row(path: Path, **match) -> dict:
    with path.open() as handle:
        rows = [r for r in csv.DictReader(handle) if all(r.get(k) == v for k, v in match.items())]
    assert len(rows) == 1, f"{path.name}: {len(rows)} rows for {match}"
    return rows[0]


def _manual_grade(db: str, student: str, grade_id: str):
    from nbgrader.api import Gradebook

    with Gradebook(db) as gb:
        nb = gb.find_submission_notebook(AID, AID, student)
        grade = next(g for g in nb.grades if g.name == grade_id)
        comment = next(c for c in nb.comments if c.name == grade_id)
        return grade.manual_score, comment.manual_comment


def test_instructor_grades_a_written_answer_in_the_formgrader(root, tmp_path, browser, artifacts):
    """`dlcourse grade` one student; the formgrader lists the submission; a hand score and comment reach the reports."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC

    from autograder.pipeline.examples import build_submission, example_students
    from autograder.pipeline.nbgrader_setup import db_url

    start = time.monotonic()
    alice = next(ex for ex in example_students(AID) if ex.student == "alice")  # the answer key: every autograded point
    build_submission(root, alice, tmp_path / "submissions")
    grading = tmp_path / "grading"
    _dlcourse(root, "grade", str(tmp_path / "submissions"), "--out", str(grading), "--workers", "1", cwd=tmp_path)
    before = _row(grading / "grades.csv", student="alice")
    assert before["manual_grading_pending"] == "yes", before
    auto = float(before["score"])
    print(f"graded in {time.monotonic() - start:.0f} s: alice {before['score']}/{before['max_score']}, written answers pending")

    db = db_url(grading)
    assert db in (grading / "nbgrader_config.py").read_text(), "dlcourse grade writes the formgrader's config beside the gradebook"
    points, comment = 4, "Convexity: right (H is a Gram matrix). Newton: say why the steps are few (quadratic convergence)."

    with jupyter_lab(grading, tmp_path / "home", artifacts / "jupyterlab.log") as (base, token):
        # JupyterLab shows the formgrader in an iframe: its pages must let the same origin frame them
        # (under JupyterHub >= 4.1 they do not, nbgrader #1870: open <server>/formgrader in a tab there)
        with urllib.request.urlopen(f"{base}/formgrader/gradebook?token={token}", timeout=60) as reply:
            assert "frame-ancestors 'self'" in reply.headers.get("Content-Security-Policy", ""), dict(reply.headers)
        browser.set_window_size(1280, 1000)
        browser.get(f"{base}/lab?reset&token={token}")
        _fold_file_browser(browser)
        menu = (By.XPATH, "//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='Nbgrader']")
        wait(browser, EC.element_to_be_clickable(menu), message="no Nbgrader menu: the lab extension did not load").click()
        wait(browser, EC.element_to_be_clickable((By.CSS_SELECTOR, "li[data-command='nbgrader:open-formgrader']"))).click()
        wait(browser, EC.frame_to_be_available_and_switch_to_it((By.CSS_SELECTOR, "iframe")), message="no formgrader iframe")

        def follow(text: str) -> None:
            wait(browser, EC.element_to_be_clickable((By.LINK_TEXT, text)), message=f"no link {text!r} in the formgrader").click()

        follow("Manual Grading")
        follow(AID)  # the assignment
        follow(AID)  # its notebook
        wait(browser, EC.presence_of_element_located((By.LINK_TEXT, "Submission #1")), message="the formgrader lists no submission")
        wait(browser, EC.element_to_be_clickable((By.ID, "toggle_names"))).click()  # "Show All Names"
        names = wait(browser, EC.visibility_of_all_elements_located((By.CSS_SELECTOR, "a.name-shown")), message="no student names")
        assert [a.text for a in names] == ["alice"], [a.text for a in names]
        browser.switch_to.default_content()
        shot(browser, artifacts, "1_formgrader_submissions", docs_name="formgrader_submissions")
        browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe"))
        names[0].click()

        score = wait(browser, EC.element_to_be_clickable((By.CSS_SELECTOR, "input.score#written_convexity")), message="no score box")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", score)
        score.clear()
        score.send_keys(str(points), Keys.TAB)  # the formgrader saves a score on change
        box = browser.find_element(By.CSS_SELECTOR, "textarea.comment#written_convexity-comment")
        box.clear()
        box.send_keys(comment, Keys.TAB)
        wait(browser, lambda _: _manual_grade(db, "alice", "written_convexity") == (points, comment), message="the formgrader did not save")
        # the whole page, the graded answer in the middle (a screenshot of an element inside the iframe is cropped
        # at the wrong place: its coordinates are the frame's)
        cell = score.find_element(By.XPATH, "./ancestor::div[contains(@class, 'nbgrader_cell')]")
        browser.execute_script("document.activeElement.blur(); arguments[0].scrollIntoView({block: 'center'});", cell)
        time.sleep(0.5)
        browser.switch_to.default_content()
        shot(browser, artifacts, "2_manual_grade", docs_name="formgrader_manual_grade")

    # the next report: `dlcourse grade` again (nothing changed, nothing is regraded) re-reads the gradebook
    _dlcourse(root, "grade", str(tmp_path / "submissions"), "--out", str(grading), "--workers", "1", cwd=tmp_path)
    export = _row(grading / "nbgrader_grades.csv", student_id="alice")
    assert float(export["score"]) == auto + points, f"nbgrader's export: {export}"
    after = _row(grading / "grades.csv", student="alice")
    assert float(after["score"]) == auto + points, f"grades.csv does not show the formgrader's hand grade: {after}"
    print(f"instructor test: {time.monotonic() - start:.0f} s")


def test_the_class_pages_open_in_a_browser(root, tmp_path, browser, artifacts):
    """The instructor's two pages after grading, as a browser shows them (offline: everything is inline)."""
    from selenium.webdriver.common.by import By
    from test_class_reports import similarity_class, synthetic_class

    from autograder.pipeline.class_report import write_misconception_reports
    from autograder.pipeline.similarity_report import write_similarity_report

    misconceptions = write_misconception_reports(synthetic_class()[0], tmp_path)["misconceptions page"]
    similarity = write_similarity_report(similarity_class(root), tmp_path, root)
    for page, expected in ((misconceptions, "batch mean"), (similarity, "not evidence of misconduct")):
        browser.get(page.as_uri())
        body = wait(browser, lambda b: b.find_element(By.TAG_NAME, "body"))
        assert expected in body.text, f"{page.name}: {body.text[:300]}"
        images = browser.find_elements(By.TAG_NAME, "img")
        assert all(browser.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images), f"{page.name}: a chart did not load"
        browser.set_window_size(1280, max(900, min(2400, browser.execute_script("return document.body.scrollHeight"))))
        shot(browser, artifacts, page.stem, docs_name=f"class_{page.stem}_page")
