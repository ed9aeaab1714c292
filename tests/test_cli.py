import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from autograder.cli import app

COMMANDS = ["data", "release", "solve", "grade", "validate", "handin", "bundle", "demo", "bench", "bench-grading", "verdicts", "export"]


def test_the_command_list_above_is_complete():
    registered = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert registered == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: dlcourse " + command in result.output


@pytest.mark.data
def test_data_command_verifies_every_data_set():
    result = CliRunner().invoke(app, ["data", "--no-copy"])
    assert result.exit_code == 0, result.output
    assert "✓ fashion_mnist: verified" in result.output
    if os.environ.get("CI"):  # CI has the course's shared MNIST copy; elsewhere MNIST is optional
        assert "✓ mnist: verified" in result.output
    else:
        assert "✓ mnist: verified" in result.output or "mnist is optional" in result.output


def test_unknown_assignment_is_a_clear_error():
    result = CliRunner().invoke(app, ["release", "99_nothing"])
    assert result.exit_code == 1 and "Unknown assignment(s) 99_nothing" in result.output


def test_grade_missing_folder_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(app, ["grade", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and "does not exist" in result.output


@pytest.mark.slow
def test_validate_fails_on_the_untouched_release_and_passes_on_the_answer_key(root):
    aid = "02_backprop"  # the quickest notebook: validate itself is the same for every assignment
    cmd = [sys.executable, "-m", "autograder.cli", "validate"]
    untouched = subprocess.run(cmd + [str(root / "assignments" / aid / f"{aid}.ipynb")], capture_output=True, text=True, cwd=root)
    assert untouched.returncode == 1
    assert "test failed" in untouched.stdout and "NotImplementedError" in untouched.stdout
    key = subprocess.run(cmd + [str(root / "solutions" / aid / f"{aid}.ipynb")], capture_output=True, text=True, cwd=root)
    assert key.returncode == 0, key.stdout + key.stderr
    assert "every visible test passes" in key.stdout
