"""The student bundle: everything a student gets, and nothing of the grader.

``dlcourse bundle`` writes one folder: the released notebooks (``assignments/``,
checked again for leaks against ``source_notebooks/``), the student kit as a
wheel (:mod:`.kit_wheel`), an ``nbgrader_config.py`` so that JupyterLab's
Validate button uses the course's limits per cell, and a README saying what to
run. Then it scans the whole folder for the course's secrets (:mod:`.secrets_scan`)
and refuses to leave a bundle that holds one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .kit_wheel import build_wheel
from .leaks import LeakError, verify_release
from .secrets_scan import course_secrets, scan

MARKER = ".dlcourse-student-bundle"  # lets a rebuild replace a folder this command wrote, and no other
WHEEL_DIR = "wheels"

# JupyterLab's nbgrader extension reads nbgrader_config.py from the folder it was started in.
NBGRADER_CONFIG = """\
# JupyterLab's Validate button (nbgrader) reads this file: the course's time limits per cell.
from autograder.validate import student_config

c = get_config()  # noqa: F821  (injected by traitlets)
c.merge(student_config())
"""

README = """\
# Student bundle

What is here:

{notebooks}
* `{wheel}`: the course kit (the checks the test cells call, the data loaders, plots,
  `dlcourse-validate` and `dlcourse-handin`)
* `nbgrader_config.py`: lets JupyterLab's Validate button give training cells the course's time limit

## Set up once (Python 3.11 or 3.12)

```bash
python3 -m venv .venv
.venv/bin/pip install "./{wheel}[cpu]"     # [gpu] on an NVIDIA machine (CUDA TensorFlow)
```

## Work

```bash
.venv/bin/jupyter lab     # open an assignment and fill in the cells marked YOUR CODE HERE
# Run it top to bottom: every failing test by name (exit 1), or "every visible test passes" (exit 0)
.venv/bin/dlcourse-validate {first}
# The zip to hand in: the notebook and the models it trained (its trained_models/ folder)
.venv/bin/dlcourse-handin {first}
```

Run `jupyter lab` from this folder, so the Validate button reads `nbgrader_config.py`. Hand in the
zip of `dlcourse-handin`: it holds your notebook and the models it trained (`trained_models/`),
which the grader grades as trained instead of training them again.

## Data

The notebooks load Fashion-MNIST (and, optionally, MNIST). The loaders verify every file's SHA-256
and look, in order, in `$DLCOURSE_DATA`, the Keras cache (`~/.keras/datasets/`), Debian's
`dataset-fashion-mnist` package (`/usr/share/datasets/fashion-mnist/`), and otherwise download
the files once into the Keras cache (`DLCOURSE_OFFLINE=1` forbids the download).
"""


class BundleError(RuntimeError):
    pass


@dataclass
class Bundle:
    folder: Path
    notebooks: list[Path]
    wheel: Path


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise BundleError(f"{out} is not empty and was not written by `dlcourse bundle`: choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("Written by `dlcourse bundle`; it replaces this folder when run again.\n")


def _copy_release(root: Path, aid: str, out: Path) -> list[Path]:
    release_dir = root / "assignments" / aid
    notebooks = sorted(release_dir.glob("*.ipynb"))
    if not notebooks:
        raise BundleError(f"{release_dir} has no notebook: run `dlcourse release {aid}` first")
    try:
        verify_release(root / "source_notebooks" / aid, release_dir)
    except LeakError as exc:
        raise BundleError(f"{exc}\nRun `dlcourse release {aid}` again.") from exc
    copied = []
    for notebook in notebooks:
        target = out / aid / notebook.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, target)
        copied.append(target)
    return copied


def write_bundle(root: Path, out: Path, assignments: list[str]) -> Bundle:
    """Write the bundle for ``assignments`` into ``out`` (replacing an earlier bundle there); prove it clean."""
    out = out.resolve()
    _prepare(out)
    notebooks = [path for aid in assignments for path in _copy_release(root, aid, out)]
    wheel = build_wheel(root, out / WHEEL_DIR)
    (out / "nbgrader_config.py").write_text(NBGRADER_CONFIG)
    listing = "\n".join(f"* `{path.relative_to(out)}`" for path in notebooks)
    first = notebooks[0].relative_to(out) if notebooks else "NOTEBOOK.ipynb"
    (out / "README.md").write_text(README.format(notebooks=listing, wheel=wheel.relative_to(out), first=first))
    findings = scan([out], course_secrets(root))
    if findings:
        shutil.rmtree(out)
        raise BundleError("The student bundle held course secrets, so it was removed:\n  " + "\n  ".join(findings[:20]))
    return Bundle(out, notebooks, wheel)
