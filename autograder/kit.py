"""The student kit: the part of the ``autograder`` package that notebooks import and students install.

Students' notebooks and the grading kernel import only these modules (checks,
data loaders, training records, runtime, plots, autodiff, scaling, validate,
handin). The rest of the package (``pipeline``, ``bench``, ``verdicts``, the
example class, the ``dlcourse`` command) is the instructor's grader. This one
list decides both what the grading sandbox mounts of the package
(:mod:`autograder.pipeline.sandbox`) and what the student bundle's wheel holds
(:mod:`autograder.pipeline.kit_wheel`), so the two cannot drift apart.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent

# Paths relative to the package folder: a module file or a whole sub-package.
KIT_MODULES: tuple[str, ...] = (
    "__init__.py",
    "autodiff.py",
    "checks",
    "course.py",
    "data",
    "handin.py",
    "metrics.py",
    "plots.py",
    "runtime.py",
    "scaling.py",
    "training",
    "validate.py",
)

# The kit's commands, installed by its wheel (and by the checkout's own install).
KIT_SCRIPTS: dict[str, str] = {
    "dlcourse-validate": "autograder.validate:main",
    "dlcourse-handin": "autograder.handin:main",
}

# Runtime dependencies a student needs, by their names in pyproject.toml (whose ranges the wheel copies):
# Keras and NumPy for the notebooks, matplotlib for the plots, JupyterLab and ipykernel to run them,
# nbgrader and nbclient for validate (and JupyterLab's Validate button), nbformat for handin's checks.
STUDENT_DEPENDENCIES: tuple[str, ...] = ("keras", "numpy", "matplotlib", "jupyterlab", "ipykernel", "nbgrader", "nbclient", "nbformat")
# The optional extras a student may pick (one TensorFlow build; other Keras backends for 06).
STUDENT_EXTRAS: tuple[str, ...] = ("cpu", "gpu", "jax", "torch")


def kit_paths(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The kit's files and folders inside ``package_dir``, in :data:`KIT_MODULES` order; each must exist."""
    paths = [package_dir / name for name in KIT_MODULES]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"The student kit lists modules that are not in the package: {', '.join(missing)}")
    return paths


def kit_files(package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """Every source file of the kit (Python and data files; no bytecode caches)."""
    files = []
    for path in kit_paths(package_dir):
        if path.is_file():
            files.append(path)
        else:
            files += sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return files
