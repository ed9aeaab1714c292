"""The student kit as a wheel: the modules :data:`autograder.kit.KIT_MODULES` names, and nothing else.

The wheel is built offline from a throw-away project that holds only the kit's
files, the data manifest (a student has no course checkout to read it from) and
a ``pyproject.toml`` whose dependency ranges are copied from the course's own,
so a student installs what the course is tested with.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from ..kit import KIT_SCRIPTS, STUDENT_DEPENDENCIES, STUDENT_EXTRAS, kit_files

DISTRIBUTION = "dlcourse-student-kit"
PACKAGE = "autograder"


class KitWheelError(RuntimeError):
    pass


def _name(requirement: str) -> str:
    """``tensorflow[and-cuda]~=2.21.0`` -> ``tensorflow``."""
    return re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement.strip()).group(0).lower()


def student_requirements(project: dict) -> list[str]:
    """The course's requirement strings for :data:`STUDENT_DEPENDENCIES`, in that order."""
    by_name = {_name(req): req for req in project["dependencies"]}
    missing = [name for name in STUDENT_DEPENDENCIES if name not in by_name]
    if missing:
        raise KitWheelError(f"pyproject.toml no longer lists the student kit's dependencies {', '.join(missing)}; update autograder/kit.py")
    return [by_name[name] for name in STUDENT_DEPENDENCIES]


def kit_pyproject(project: dict) -> str:
    """``pyproject.toml`` of the kit's project (TOML written by hand: JSON strings and lists are valid TOML)."""
    extras = project.get("optional-dependencies", {})
    lines = [
        "[build-system]",
        'requires = ["setuptools>=77"]',
        'build-backend = "setuptools.build_meta"',
        "",
        "[project]",
        f"name = {json.dumps(DISTRIBUTION)}",
        f"version = {json.dumps(project['version'])}",
        f"description = {json.dumps('The student kit of ' + project['name'] + ': checks, data loaders, runtime, plots, validate and handin.')}",
        'readme = "README.md"',
        f"requires-python = {json.dumps(project['requires-python'])}",
        f"license = {json.dumps(project['license'])}",
        f"dependencies = {json.dumps(student_requirements(project))}",
        "",
        "[project.optional-dependencies]",
        *(f"{extra} = {json.dumps(extras[extra])}" for extra in STUDENT_EXTRAS if extra in extras),
        "",
        "[project.scripts]",
        *(f"{json.dumps(script)} = {json.dumps(target)}" for script, target in KIT_SCRIPTS.items()),
        "",
        "[tool.setuptools.packages.find]",
        f"include = [{json.dumps(PACKAGE)}, {json.dumps(PACKAGE + '.*')}]",
        "",
        "[tool.setuptools.package-data]",
        f'{json.dumps(PACKAGE + ".data")} = ["manifest.json"]',
        "",
    ]
    return "\n".join(lines)


KIT_README = """\
# {distribution}

The course kit students install: the checks the notebooks' test cells call, the data loaders,
training records, runtime set-up and plots, and two commands:

* `dlcourse-validate NOTEBOOK` runs the notebook top to bottom and names every failing test;
* `dlcourse-handin NOTEBOOK` packs the notebook and its `trained_models/` into the zip to hand in.
"""


def stage_project(root: Path, staging: Path) -> Path:
    """Lay out the kit's project in ``staging``: its modules, the data manifest, pyproject.toml, README."""
    package_dir = root / PACKAGE
    for source in kit_files(package_dir):
        target = staging / PACKAGE / source.relative_to(package_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    shutil.copy2(root / "datasets" / "manifest.json", staging / PACKAGE / "data" / "manifest.json")
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    (staging / "pyproject.toml").write_text(kit_pyproject(project))
    (staging / "README.md").write_text(KIT_README.format(distribution=DISTRIBUTION))
    return staging


def build_wheel(root: Path, out_dir: Path) -> Path:
    """Build the kit's wheel into ``out_dir`` offline (this environment's setuptools); returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="dlcourse-kit-") as scratch:
        staging = stage_project(root, Path(scratch) / "project")
        built = Path(scratch) / "wheels"
        # No index, no isolation: the build uses the setuptools installed here and needs no network.
        offline = ["--no-deps", "--no-build-isolation", "--no-index", "--quiet"]
        cmd = [sys.executable, "-m", "pip", "wheel", *offline, "--wheel-dir", str(built), str(staging)]
        result = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(built.glob("*.whl"))
        if result.returncode != 0 or len(wheels) != 1:
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-8:])
            raise KitWheelError(f"Could not build the student kit's wheel (pip wheel needs setuptools in this environment):\n{tail}")
        target = out_dir / wheels[0].name
        shutil.copy2(wheels[0], target)
    return target
