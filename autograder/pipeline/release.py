"""Student releases (``assignments/``) and answer keys (``solutions/``) from ``source_notebooks/``."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .leaks import verify_release
from .nbgrader_setup import course_config, db_url, make_api, result_error
from .preprocessors import ProgressExecute


class PipelineError(RuntimeError):
    pass


def release_assignment(root: Path, assignment_id: str) -> Path:
    """Generate ``assignments/<id>/`` with nbgrader, then prove it leaks nothing."""
    api = make_api(course_config(root))
    result = api.generate_assignment(assignment_id, force=True)
    if not result["success"]:
        raise PipelineError(f"nbgrader could not release {assignment_id}:\n{result_error(result)}")
    release_dir = root / "assignments" / assignment_id
    verify_release(root / "source_notebooks" / assignment_id, release_dir)
    return release_dir


def solve_assignment(root: Path, assignment_id: str, execute: bool = False) -> Path:
    """Generate the answer key ``solutions/<id>/`` (executed, with outputs, when ``execute``)."""
    from nbgrader.converters import GenerateSolution
    from nbgrader.preprocessors import ClearMarkScheme, ClearOutput, IncludeHeaderFooter, LockCells

    with tempfile.TemporaryDirectory(prefix="dlcourse-solve-") as scratch:
        # GenerateSolution insists the assignment is in a gradebook: use a throw-away one.
        config = course_config(
            root,
            CourseDirectory={"db_url": db_url(Path(scratch)), "release_directory": f"{scratch}/release"},
        )
        api = make_api(config)
        result = api.generate_assignment(assignment_id, force=True)
        if not result["success"]:
            raise PipelineError(f"nbgrader could not read {assignment_id}:\n{result_error(result)}")
        steps = [IncludeHeaderFooter, LockCells, ClearOutput, ClearMarkScheme]
        if execute:
            steps.append(ProgressExecute)
        config.GenerateSolution.preprocessors = steps
        api.coursedir.assignment_id = assignment_id
        converter = GenerateSolution(coursedir=api.coursedir, parent=api)
        converter.force = True
        try:
            converter.start()
        except Exception as exc:  # nbgrader raises its own exception type after logging
            raise PipelineError(f"nbgrader could not generate the answer key for {assignment_id}: {exc}") from exc
    return root / "solutions" / assignment_id
