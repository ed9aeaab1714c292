"""SIGTERM to a running `dlcourse grade`: workers and kernels stop with it, and the next run keeps what was graded."""

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from autograder.pipeline.examples import build_example_class

pytestmark = [pytest.mark.slow, pytest.mark.kernel]


def _graded_so_far(state_file):
    try:
        return [k for k in json.loads(state_file.read_text()) if "/" in k]
    except (OSError, ValueError):
        return []


def test_sigterm_stops_every_child_and_the_rerun_keeps_what_was_graded(root, tmp_path):
    build_example_class(root, ["02_backprop"], tmp_path / "submissions")
    students = sorted(p.name for p in (tmp_path / "submissions").iterdir())
    assert len(students) >= 3, students
    out = tmp_path / "grading"
    command = [sys.executable, "-m", "autograder.cli", "grade", str(tmp_path / "submissions"), "--out", str(out), "--workers", "1"]
    grading = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    state = out / "grading_state.json"
    deadline = time.monotonic() + 600
    while not _graded_so_far(state) and time.monotonic() < deadline and grading.poll() is None:
        time.sleep(0.5)
    assert _graded_so_far(state), "no submission was graded within 10 minutes"
    children = psutil.Process(grading.pid).children(recursive=True)
    assert children, "the worker (and its kernel) should be running"
    os.kill(grading.pid, signal.SIGTERM)
    output, _ = grading.communicate(timeout=120)
    assert grading.returncode != 0
    assert "Grading interrupted" in output and "run the same command again" in output, output[-2000:]
    _, alive = psutil.wait_procs(children, timeout=15)
    assert not alive, f"still running after SIGTERM: {[p.cmdline()[:3] for p in alive]}"
    graded = _graded_so_far(state)
    assert 0 < len(graded) < len(students), graded
    rerun = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1200)
    assert rerun.returncode == 0, rerun.stdout[-2000:] + rerun.stderr[-2000:]
    assert f"({len(graded)} unchanged since the last run, reused)" in rerun.stdout
