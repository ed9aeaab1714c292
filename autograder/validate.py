"""A student's self-check: run a notebook top to bottom in a fresh kernel and name every failing test.

Part of the student kit: it needs nbgrader's ``Validator`` (the same check as
JupyterLab's Validate button) but nothing of the grader or the course checkout.
``dlcourse-validate NOTEBOOK`` or ``python -m autograder.validate NOTEBOOK``
exits 1 when a test fails or a read-only cell was edited, 0 otherwise;
``dlcourse validate`` (the instructor's command) reports the same way.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

# Seconds of wall clock per cell. Generous: a CNN's training cell, when a submission comes without its
# weights, takes several times as long beside another kernel as alone. Grading, nbgrader_config.py and
# the student's validate all use this one value.
CELL_TIMEOUT = 1200

# nbgrader's result keys, and what each means to a student.
_PROBLEM_KINDS = (("type_changed", "cell type changed"), ("changed", "a read-only test cell was edited"), ("failed", "test failed"))


@dataclass(frozen=True)
class Problem:
    label: str  # what went wrong, from _PROBLEM_KINDS
    cell: str  # the cell's nbgrader id (``test_sigmoid``), or "" when the notebook no longer has it
    first_line: str  # the cell's first line
    error: str  # the last lines of the error, if the cell raised one


def student_config():
    """nbgrader settings for validating outside the course checkout: the course's execution limits."""
    from traitlets.config import Config

    config = Config()
    config.Execute.timeout = CELL_TIMEOUT
    config.Execute.startup_timeout = 120
    config.Execute.interrupt_on_timeout = True
    return config


def find_problems(notebook: Path, config=None) -> list[Problem]:
    """Run ``notebook`` with nbgrader's Validator (``config``: :func:`student_config` by default); every problem found."""
    import nbformat
    from nbgrader.validator import Validator

    notebook = Path(notebook).resolve()
    results = Validator(config=config if config is not None else student_config()).validate(str(notebook))
    # nbgrader reports a cell by its source; its id is what the notebook and the grade report call the test.
    ids = {cell.source.strip(): cell.metadata.get("nbgrader", {}).get("grade_id", "") for cell in nbformat.read(notebook, as_version=4).cells}
    problems = []
    for kind, label in _PROBLEM_KINDS:
        for item in results.get(kind, []):
            error = "\n".join((item.get("raw_error") or "").strip().splitlines()[-3:])
            problems.append(Problem(label, ids.get(item["source"], ""), (item["source"].splitlines() or [""])[0][:100], error))
    return problems


def problem_lines(problem: Problem) -> list[str]:
    """How a problem is printed: a heading, the cell's first line, the end of its error."""
    lines = [f"✗ {problem.label}: {problem.cell}" if problem.cell else f"✗ {problem.label}:", "    " + problem.first_line]
    if problem.error:
        lines += ["    " + line for line in problem.error.splitlines()]
    return lines


def trained_models_lines(notebook: Path) -> list[str]:
    """What a student should know about the ``trained_models/`` folder beside ``notebook``."""
    from .training import RECORD_DIR, handed_in_summary

    notebook = Path(notebook).resolve()
    folder = notebook.parent / RECORD_DIR
    summary = handed_in_summary(folder)
    if not summary:
        return [f"No trained models in {folder}: the grader will train your models itself (same points, slower feedback)."]
    return [f"Trained models in {folder} (hand them in with the notebook: dlcourse-handin {notebook.name}):"] + [f"    {line}" for line in summary]


def verdict(notebook: Path, problems: list[Problem]) -> str:
    if problems:
        return f"{len(problems)} problem(s) in {Path(notebook).name}: fix them and validate again."
    return f"✓ {Path(notebook).name}: every visible test passes. (Hidden tests are run when it is graded.)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dlcourse-validate",
        description="Run your notebook top to bottom and report every failing test (exit code 1 if any fails).",
        epilog="Example: dlcourse-validate 01_logistic_regression/01_logistic_regression.ipynb",
    )
    parser.add_argument("notebook", type=Path, help="Your completed notebook.")
    args = parser.parse_args(argv)
    if not args.notebook.is_file():
        parser.error(f"{args.notebook} is not a file")
    print(f"Running {args.notebook.name} top to bottom in a fresh kernel (training cells take minutes)…", flush=True)
    problems = find_problems(args.notebook)
    for problem in problems:
        print("\n".join(problem_lines(problem)))
    print("\n".join(trained_models_lines(args.notebook)))
    print(verdict(args.notebook, problems), file=sys.stderr if problems else sys.stdout)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
