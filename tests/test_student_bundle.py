"""Two audiences: students get the bundle (release notebooks, the kit's wheel, what to run), graded kernels see the kit only.

The slow test installs the bundle's wheel into a fresh virtual environment (the course's heavy
dependencies made visible by a .pth file, the checkout's own ``autograder`` not), validates the
blank release of 01 there (exit 1, failing tests named) and its answer key (exit 0). The scans
prove that neither the bundle nor the grading sandbox's mounts hold a solution line, a hidden
test, a planted edit of the example class or an answer key.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import autograder
from autograder.kit import KIT_MODULES, KIT_SCRIPTS, kit_paths
from autograder.pipeline.sandbox import SYSTEM_DIRS, SandboxSettings, _python_dirs, bwrap_command
from autograder.pipeline.secrets_scan import course_secrets, scan
from autograder.pipeline.student_bundle import BundleError, write_bundle

AID = "01_logistic_regression"  # the lightest assignment that loads the real data, through the kit's packaged manifest
PACKAGE = Path(autograder.__file__).resolve().parent


@pytest.fixture(scope="module")
def secrets(root):
    return course_secrets(root)


@pytest.fixture(scope="module")
def bundle(root, tmp_path_factory):
    return write_bundle(root, tmp_path_factory.mktemp("bundle") / "student_bundle", [AID, "02_backprop"])


def test_the_kit_is_what_notebooks_import_and_not_the_grader():
    names = {path.name for path in kit_paths()}
    assert {"checks", "data", "runtime.py", "plots.py", "autodiff.py", "training", "validate.py"} <= names
    assert not names & {"pipeline", "bench", "examples", "cli.py", "verdicts.py", "authoring.py"}


def test_the_checkout_installs_the_kit_commands_too(root):
    import tomllib

    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert KIT_SCRIPTS.items() <= scripts.items()


def test_the_sandbox_mounts_only_the_kit_of_the_package_and_no_secret(root, secrets, monkeypatch):
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/" + name)
    cmd = bwrap_command(["python", "-m", "ipykernel_launcher"], root / "build" / "kernel", SandboxSettings(), root)
    mounted = [Path(cmd[i + 1]) for i, part in enumerate(cmd) if part == "--ro-bind"]
    in_package = [path for path in mounted if path.is_relative_to(PACKAGE)]
    assert sorted(in_package) == sorted(PACKAGE / name for name in KIT_MODULES)
    python = {Path(p) for p in _python_dirs()}
    hidden = [root / "source_notebooks", root / "solutions", PACKAGE / "pipeline", PACKAGE / "examples", root / "tests"]
    for path in mounted:  # nothing mounted holds what the kernel must not see, not even as a parent folder
        assert not any(secret.is_relative_to(path) for secret in hidden), path
    # The system and Python installation folders hold no course file (checked above); every other mount is read.
    course_mounts = [p for p in mounted if p not in python and not any(p.is_relative_to(d) for d in (*SYSTEM_DIRS, "/sys"))]
    assert course_mounts, "the scan would have nothing to read"
    assert scan(course_mounts, secrets) == []


def test_the_scan_finds_what_the_answer_keys_the_example_class_and_the_mutation_suite_would_leak(root, secrets):
    """The scan is not vacuous: the answer keys, the source notebooks and the grader's own cases are caught."""
    assert any("a copy of the answer key" in finding for finding in scan([root / "solutions" / AID], secrets))
    leaked = scan([root / "source_notebooks" / AID], secrets)
    assert any("solution or hidden-test line" in finding for finding in leaked)
    examples = [*(root / "autograder" / "examples").glob("*.json"), *(root / "source_notebooks").glob("*/example_class.json")]
    if examples:
        assert any("planted edit of the example class" in finding for finding in scan(examples, secrets))
    suites = [*(root / "tests" / "mutations").glob("*.yaml"), *(root / "source_notebooks").glob("*/mutations.yaml")]
    assert any("a case of the mutation suite" in finding for finding in scan(suites, secrets))


def test_the_bundle_holds_the_release_the_wheel_and_the_instructions_and_no_secret(root, bundle, secrets):
    files = sorted(p.relative_to(bundle.folder).as_posix() for p in bundle.folder.rglob("*") if p.is_file())
    assert f"{AID}/{AID}.ipynb" in files and "README.md" in files and "nbgrader_config.py" in files
    assert (bundle.folder / AID / f"{AID}.ipynb").read_bytes() == (root / "assignments" / AID / f"{AID}.ipynb").read_bytes()
    with zipfile.ZipFile(bundle.wheel) as wheel:
        names = wheel.namelist()
    assert "autograder/data/manifest.json" in names and "autograder/checks/gradient.py" in names
    assert not [n for n in names if n.startswith(("autograder/pipeline", "autograder/bench", "autograder/examples")) or n == "autograder/cli.py"]
    readme = (bundle.folder / "README.md").read_text()
    assert "pip install" in readme and "dlcourse-validate" in readme and "jupyter lab" in readme and "dlcourse-handin" in readme
    assert scan([bundle.folder], secrets) == []


def test_a_bundle_never_replaces_a_folder_it_did_not_write(root, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="not written by `dlcourse bundle`"):
        write_bundle(root, tmp_path, [AID])
    assert (tmp_path / "notes.txt").read_text() == "mine"


def _fresh_venv(folder: Path) -> Path:
    """A new virtual environment that sees this one's installed libraries but not the checkout's ``autograder``."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True, capture_output=True, text=True)
    # Paths a .pth file adds are not site folders: the editable install's own .pth (the checkout) is not run.
    Path(purelib.stdout.strip(), "course_stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python


def _student_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "DLCOURSE_", "JUPYTER", "VIRTUAL_ENV"))}
    from autograder.data import locate

    # The course's data, wherever this machine keeps it, named as a student would (no course checkout to look in).
    env.update(HOME=str(home), DLCOURSE_DATA=str(locate("fashion_mnist").directory), DLCOURSE_OFFLINE="1", JUPYTER_PLATFORM_DIRS="1")
    return env


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.data
def test_the_bundle_installs_in_a_fresh_environment_and_validates_without_the_checkout(root, bundle, tmp_path):
    python = _fresh_venv(tmp_path / "venv")
    env = _student_environment(tmp_path / "home")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(bundle.wheel)], check=True, env=env)
    where = subprocess.run(
        [python, "-c", "import autograder, importlib.util; print(autograder.__file__); print(importlib.util.find_spec('autograder.pipeline'))"],
        capture_output=True,
        text=True,
        env=env,
        cwd=bundle.folder,
    )
    kit_file, grader = where.stdout.split()
    assert Path(kit_file).is_relative_to(tmp_path / "venv"), kit_file
    assert grader == "None", "the grader is importable in the student's environment"
    validate = tmp_path / "venv" / "bin" / "dlcourse-validate"

    blank = subprocess.run([validate, f"{AID}/{AID}.ipynb"], capture_output=True, text=True, env=env, cwd=bundle.folder)
    assert blank.returncode == 1, blank.stdout + blank.stderr
    assert "NotImplementedError" in blank.stdout
    assert "✗ test failed: test_sigmoid" in blank.stdout and "✗ test failed: test_softmax" in blank.stdout, "the failing tests are not named"
    assert "problem(s) in" in blank.stderr

    key = tmp_path / "key" / f"{AID}.ipynb"
    key.parent.mkdir()
    key.write_bytes((root / "solutions" / AID / f"{AID}.ipynb").read_bytes())
    passed = subprocess.run([validate, str(key)], capture_output=True, text=True, env=env, cwd=bundle.folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "every visible test passes" in passed.stdout
