"""Grade one assignment's example class into a folder: ``python tests/grade_example_class.py AID FOLDER``.

The test session runs this in the background (see ``conftest.py``) so the answer keys train while
other tests run; the ``example_class`` fixture then reads the graded state back.
"""

from __future__ import annotations

import sys
from pathlib import Path

from autograder.pipeline.examples import build_example_class
from autograder.pipeline.grade import GradingOptions, grade_batch

ROOT = Path(__file__).resolve().parent.parent
# Two workers: while the answer key trains, the other students' notebooks (kernels starting, NumPy on one core) fill
# the gaps the session's foreground tests leave; the prefetch runs at low priority, so the foreground still comes first.
OPTIONS = GradingOptions(keep_trained_models=True, workers=2)


def grade(aid: str, work: Path, options: GradingOptions = OPTIONS):
    """Build and grade the example class of ``aid`` in ``work``; the submissions graded."""
    submissions = work / "submissions"
    if not submissions.exists():
        build_example_class(ROOT, [aid], submissions)
    return grade_batch(ROOT, submissions, work / "grading", options=options)


if __name__ == "__main__":
    grade(sys.argv[1], Path(sys.argv[2]))
