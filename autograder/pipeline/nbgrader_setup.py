"""Build an nbgrader API object from the course's ``nbgrader_config.py`` plus overrides."""

from __future__ import annotations

import functools
import logging
import os
import shutil
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from ..course import MARKER


def db_url(folder: Path) -> str:
    """The SQLite URL of the gradebook in ``folder`` (every gradebook here lives in a folder of its own)."""
    return f"sqlite:///{Path(folder) / 'gradebook.db'}"


FORMGRADER_CONFIG = """\
# Written by `dlcourse grade`: run `jupyter lab` in this folder and open Nbgrader > Formgrader
# to grade the written answers in this class gradebook; rerun `dlcourse grade` to refresh the reports.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "dlcourse"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = {source!r}
c.CourseDirectory.db_url = {db!r}
"""


def write_formgrader_config(workdir: Path, root: Path) -> Path:
    """``nbgrader_config.py`` in a grading folder, so the formgrader started there reads its class gradebook."""
    path = Path(workdir) / "nbgrader_config.py"
    path.write_text(FORMGRADER_CONFIG.format(root=str(workdir), source=str(Path(root) / "source_notebooks"), db=db_url(workdir)))
    return path


def course_config(root: Path, **overrides: dict) -> Config:
    """The course's nbgrader config with ``overrides`` (``{"Section": {"key": value}}``) merged on top."""
    config = PyFileConfigLoader(MARKER, path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    for section, values in overrides.items():
        for key, value in values.items():
            setattr(config[section], key, value)
    return config


def expose_environment_scripts() -> None:
    """nbgrader runs ``alembic`` (gradebook migrations) as a subprocess: make this environment's scripts findable."""
    scripts = os.path.dirname(sys.executable)
    if shutil.which("alembic") is None and scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = scripts + os.pathsep + os.environ.get("PATH", "")


@functools.cache
def alembic_head() -> str:
    """The revision of nbgrader's gradebook schema, read from its migration scripts in this process."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def read_alembic_head_in_process() -> None:
    """Make nbgrader stamp a new gradebook with :func:`alembic_head`.

    nbgrader learns this constant by starting an ``alembic heads`` process each
    time it creates a gradebook, twice per grading run (the class gradebook and
    the workers' template): seconds of start-up that a batch of one pays in full
    (``benchmarks/results/grading_overhead.md`` has the measurement).
    """
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head


def make_api(config: Config):
    """An ``NbGraderAPI`` that logs only warnings (its info lines would drown our progress bars)."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    expose_environment_scripts()
    read_alembic_head_in_process()
    coursedir = CourseDirectory(config=config)
    api = NbGraderAPI(coursedir=coursedir, config=config)
    api.log.setLevel(logging.WARNING)
    return api


def result_error(result: dict) -> str:
    """The useful last lines of a failed nbgrader call's log and traceback."""
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-8:]) or "nbgrader reported a failure without a message"


def grading_environment() -> dict[str, str]:
    """Environment for kernels that execute graded notebooks (inherited by the kernel process)."""
    return {
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "DLCOURSE_GRADING": "1",
        "PYTHONWARNINGS": "ignore",
        # figures inline as in Jupyter (PNG; SandboxExecute sets the resolution and caps their size).
        # Explicit, not left to ipykernel's default: the grader's own process may have MPLBACKEND=Agg.
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "TQDM_DISABLE": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JUPYTER_PLATFORM_DIRS": os.environ.get("JUPYTER_PLATFORM_DIRS", "1"),
    }


@contextmanager
def gradebook_warnings_silenced():
    """nbgrader's gradebook code trips SQLAlchemy autoflush warnings that tell an instructor nothing."""
    from sqlalchemy.exc import SAWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SAWarning)
        yield
