"""Everything the grader relies on from nbclient, nbconvert, nbgrader and jupyter_client, in one place.

Grading subclasses nbgrader's ``Execute`` (an nbconvert ``ExecutePreprocessor``,
itself an nbclient ``NotebookClient``) and jupyter_client's
``AsyncKernelManager``. Only the names in :data:`CONTRACT` are used: public
methods, hooks and attributes of those libraries, and four undocumented
nbclient names for the figure caps (marked there); ``tests/test_kernel_glue.py``
checks that every one still exists with the parameters we pass, so an upgrade
that changes one fails that test by name instead of breaking grading quietly.
"""

from __future__ import annotations

import signal

# Kernel tracebacks carry terminal colour codes; CSV files, Markdown tables and messages must not: nbconvert's own filter.
from nbconvert.filters.ansi import strip_ansi

__all__ = ["CONTRACT", "describe_exit", "exit_signal", "kernel_exit_code", "strip_ansi"]

INSTANCE_ATTRIBUTE = "<set in the class's code as self.<name>>"

# (module, attribute path, parameters we pass or receive): checked by tests/test_kernel_glue.py
CONTRACT: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("nbclient.client", "NotebookClient.execute_cell", ()),  # run_sync wrapper of async_execute_cell
    ("nbclient.client", "NotebookClient.async_execute_cell", ("cell", "cell_index", "store_history")),
    ("nbclient.client", "NotebookClient.output", ("outs", "msg", "display_id", "cell_index")),
    ("nbclient.client", "NotebookClient.on_cell_executed", ()),  # hook: called with cell, cell_index, execute_reply
    ("nbclient.client", "NotebookClient.error_on_timeout", ()),
    ("nbclient.exceptions", "DeadKernelError", ()),
    ("nbclient.exceptions", "CellTimeoutError", ()),
    ("nbconvert.filters.ansi", "strip_ansi", ("source",)),
    ("nbconvert.preprocessors", "ExecutePreprocessor.preprocess", ("nb", "resources", "km")),
    ("nbconvert.preprocessors", "ExecutePreprocessor.preprocess_cell", ("cell", "resources", "index")),
    ("nbgrader.preprocessors", "Execute.on_cell_executed", ()),
    ("jupyter_client.manager", "AsyncKernelManager.start_kernel", ()),  # called with env=, cwd=, extra_arguments=
    ("jupyter_client.manager", "AsyncKernelManager.format_kernel_cmd", ("extra_arguments",)),
    ("jupyter_client.manager", "AsyncKernelManager.transport", ()),
    ("jupyter_client.manager", "AsyncKernelManager.ip", ()),
    ("jupyter_client.manager", "AsyncKernelManager.connection_file", ()),
    ("jupyter_client.provisioning", "LocalProvisioner.process", ()),
    # Not documented API, used only to cap figures that arrive as display updates or after clear_output(wait=True);
    # the first place to look when an nbclient upgrade fails this contract.
    ("nbclient.client", "NotebookClient.clear_before_next_output", (INSTANCE_ATTRIBUTE,)),
    ("nbclient.client", "NotebookClient.clear_display_id_mapping", ("cell_index",)),
    ("nbclient.client", "NotebookClient._update_display_id", ("display_id", "msg")),
    ("nbclient.client", "NotebookClient._display_id_map", ()),
)


def kernel_exit_code(km) -> int | None:
    """The kernel process's exit status (negative: killed by that signal), or ``None`` while it runs or if unknown."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    try:
        return process.poll() if process is not None else None
    except OSError:
        return None


def exit_signal(code: int) -> str | None:
    """``"SIGKILL"`` etc. for a process killed by a signal (directly, or reported by a shell as 128 + n)."""
    number = -code if code < 0 else code - 128 if code > 128 else None
    if number is None:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return None


def describe_exit(code: int | None) -> str | None:
    if code is None:
        return None
    name = exit_signal(code)
    return f"killed by {name}" if name else f"exit status {code}"
