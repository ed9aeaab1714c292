import os
import subprocess
import sys

import numpy as np
import pytest

from autograder import authoring


@pytest.mark.tensorflow
def test_setup_notebook_is_reproducible_and_silent():
    code = (
        "from autograder.runtime import setup_notebook\n"
        "report = setup_notebook(seed=3)\n"
        "import keras, numpy as np\n"
        "layer = keras.layers.Dense(4); layer.build((None, 5))\n"
        "print('W', float(np.asarray(layer.kernel).sum()), float(np.random.rand()))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
        assert run.stderr == "", f"TensorFlow wrote to stderr (nbgrader would zero a test cell): {run.stderr[:300]}"
        assert "TensorFlow 2." in run.stdout and "CPU:" in run.stdout
    assert runs[0].stdout.splitlines()[-1] == runs[1].stdout.splitlines()[-1]


@pytest.mark.tensorflow
def test_other_backends_report_themselves_and_stay_silent():
    pytest.importorskip("jax")
    code = "from autograder.runtime import setup_notebook\nr = setup_notebook(seed=3)\nprint('backend', r.backend, r.fused_lstm)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "KERAS_BACKEND": "jax"})
    assert run.returncode == 0 and run.stderr == "", run.stderr[:300]
    assert "on JAX 0." in run.stdout and "backend jax False" in run.stdout


@pytest.mark.tensorflow
def test_seed_can_be_overridden_for_benchmarks(monkeypatch):
    code = "from autograder.runtime import setup_notebook\nsetup_notebook(seed=0)\nimport numpy as np\nprint(np.random.rand())"
    default = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.splitlines()[-1]
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**__import__("os").environ, "DLCOURSE_SEED": "1"}
    ).stdout.splitlines()[-1]
    assert default != other and float(default) == np.random.RandomState(0).rand()


def test_run_seed_reads_the_benchmark_override(monkeypatch):
    from autograder.runtime import run_seed

    monkeypatch.delenv("DLCOURSE_SEED", raising=False)
    assert run_seed(0) == 0 and run_seed(5) == 5
    monkeypatch.setenv("DLCOURSE_SEED", "2")
    assert run_seed(0) == 2


def test_graded_training_cells_do_not_pin_the_seed():
    """A solution cell that trains and reseeds with a literal makes every seed of `dlcourse bench` train one model.

    (03's final MLP and 05's final CNN did, so their "median over 3 seeds" was one run repeated.)
    """
    import re
    from pathlib import Path

    import nbformat

    pinned = []
    for path in sorted(Path(__file__).parents[1].glob("source_notebooks/*/*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            if cell.cell_type == "code" and "BEGIN SOLUTION" in cell.source and re.search(r"set_random_seed\(\s*\d+\s*\)", cell.source):
                pinned.append(f"{path.name}: {cell.metadata.get('nbgrader', {}).get('grade_id')}")
    assert not pinned, f"reseed with autograder.runtime.run_seed(n) instead: {pinned}"


def test_authoring_cells_carry_nbgrader_metadata():
    nb = authoring.notebook(
        [
            authoring.md("# Title"),
            authoring.solution("f", "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION"),
            authoring.tests("test_f", 10, "assert f() == 1"),
            authoring.written("why", 5, "Because."),
            authoring.locked_code("setup", "x = 1"),
        ]
    )
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    assert meta[1]["solution"] and not meta[1]["grade"]
    assert meta[2]["grade"] and meta[2]["locked"] and meta[2]["points"] == 10
    assert meta[3]["grade"] and meta[3]["solution"] and nb.cells[3].cell_type == "markdown"
    assert meta[4]["locked"] and not meta[4]["grade"]
    assert authoring.total_points(nb) == 15
    assert nb.metadata["kernelspec"]["name"] == "python3"
