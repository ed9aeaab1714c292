"""Our nbgrader preprocessors: small steps that slot into nbgrader's converters."""

from __future__ import annotations

import json
import time
from dataclasses import asdict

from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute
from traitlets import Bool, Instance, List, Unicode

from .kernel_glue import describe_exit, exit_signal, kernel_exit_code
from .model import CellEvent, EventKind
from .nbgrader_cells import grade_id, is_grade
from .sandbox import SandboxedKernelManager, SandboxSettings

EVENTS_KEY = "dlcourse_events"  # notebook metadata: what SandboxExecute saw, for the worker


def _is_figure(mime: str) -> bool:
    return mime.startswith("image/")


def _figure_bytes(output) -> int:
    """What an output's figures weigh in the notebook file (PNG as base64, SVG as text)."""
    return sum(len(value) for mime, value in (output.get("data") or {}).items() if _is_figure(mime))


def _text_size(output) -> int:
    """An output's size for the text cap: its text and every non-figure representation."""
    data = {mime: value for mime, value in (output.get("data") or {}).items() if not _is_figure(mime)}
    return len(str(output.get("text", ""))) + (len(json.dumps(data)) if data else 0)


def _human(nbytes: float) -> str:
    """``2.1 MB``, ``1 MB``, ``640 KB``."""
    if nbytes >= 1024 * 1024:
        return f"{nbytes / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{nbytes / 1024:.0f} KB"


class ProgressExecute(Execute):
    """nbgrader's ``Execute`` with a progress bar over the code cells.

    Grading a training-heavy notebook takes minutes; the bar shows which
    cell is running and how long the cells so far took.
    """

    progress_label = Unicode("executing", help="Text shown before the progress bar").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        from tqdm.auto import tqdm

        total = sum(1 for cell in nb.cells if cell.cell_type == "code")
        label = resources.get("unique_key", self.progress_label) if resources else self.progress_label
        self._bar = tqdm(total=total, desc=label, unit="cell", leave=False, dynamic_ncols=True)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self._bar.close()

    def preprocess_cell(self, cell, resources, index):
        result = super().preprocess_cell(cell, resources, index)
        if cell.cell_type == "code":
            self._bar.update(1)
        return result


def with_progress(owner: type, trait: str) -> list:
    """``owner``'s default preprocessor list for ``trait`` with ``Execute`` swapped for :class:`ProgressExecute`."""
    defaults = owner.class_traits()[trait].default()
    return [ProgressExecute if pp is Execute else pp for pp in defaults]


class SandboxExecute(ProgressExecute):
    """``ProgressExecute`` for untrusted notebooks: sandboxed kernel, guarded test cells, bounded time and output.

    The limits below are the fields of one :class:`.sandbox.SandboxSettings` (the ``settings`` trait).

    * the kernel comes from :class:`.sandbox.SandboxedKernelManager` (configure it there);
    * each test cell gets the read-only cells' imports prepended and a nonce
      printed at its end (:mod:`.integrity`); a test cell whose nonce does not
      come back, or after which the grader's integrity probe finds a change
      since the snapshot taken before the first cell, gets an ``IntegrityError``
      output (so nbgrader gives it 0) and the guard lines are removed again;
    * the whole notebook has ``notebook_timeout`` seconds: each cell's timeout
      is the smaller of ``cell_timeout`` and what is left; cells after the budget is
      spent, or after the kernel died, get an error output instead of running;
    * a cell's output beyond ``max_output_chars`` is dropped with a note;
    * figures are rendered inline as in Jupyter (PNG at ``figure_dpi``); a figure
      larger than ``max_figure_kb``, or one that would take the notebook's figures
      past ``max_notebook_figures_kb``, is replaced by a one-line note (sizes as
      stored in the notebook, i.e. base64). Figures do not count towards
      ``max_output_chars``.

    What happens is recorded twice: as an error output in the cell (so the
    graded notebook and the feedback say it), and as a typed
    :class:`.model.CellEvent` in the notebook's metadata (:data:`EVENTS_KEY`),
    which is what the worker reads to decide a status: no output text is parsed.
    """

    settings = Instance(SandboxSettings, args=(), help="Time, output and figure limits (SandboxSettings: its defaults are the defaults)").tag(
        config=True
    )
    guard_imports = List(Unicode(), help="Import statements prepended to every test cell").tag(config=True)
    integrity = Bool(True, help="Guard test cells and probe the kernel's integrity").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs["kernel_manager_class"] = SandboxedKernelManager
        super().__init__(*args, **kwargs)

    # ---- the run: nbconvert's own loop; our state is set up before it and read after it
    def preprocess(self, nb, resources=None, km=None):
        from . import integrity

        self._nonce = integrity.new_nonce()
        self._deadline = time.monotonic() + self.settings.notebook_timeout
        self._dead: str | None = None
        self._snapshot: dict | None = None
        self._snapshot_taken = False
        self._cell_timeout = self.timeout = self.settings.cell_timeout
        self._events: list[CellEvent] = []
        self._figure_note = None
        self._figures_omitted: list[tuple[str, str]] = []
        if self.settings.figure_dpi > 0:
            arg = "--InlineBackend.print_figure_kwargs=" + repr({"bbox_inches": "tight", "dpi": self.settings.figure_dpi})
            if arg not in self.extra_arguments:
                self.extra_arguments = [*self.extra_arguments, arg]
        nb.metadata.pop(EVENTS_KEY, None)  # whatever a submission brings is not ours
        nb, resources = super().preprocess(nb, resources, km)
        nb.metadata[EVENTS_KEY] = [asdict(e) for e in self._events]
        return nb, resources

    def _event(self, kind: EventKind, index: int, detail: str = "") -> None:
        cell = self.nb.cells[index] if 0 <= index < len(self.nb.cells) else None
        self._events.append(CellEvent(kind, (grade_id(cell) if cell is not None else None) or f"#{index + 1}", detail))

    def _fail(self, cell, index: int, kind: EventKind, ename: str, evalue: str) -> None:
        cell.outputs.append(new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]))
        self._event(kind, index, evalue)

    # ---- output bound
    def output(self, outs, msg, display_id, cell_index):
        if getattr(self, "_probing", False):  # the grader's own probe: never capped (a cut report reads as tampering)
            return super().output(outs, msg, display_id, cell_index)
        if getattr(self, "_dropping", False):
            return None
        if self._omit_figure(outs, msg, cell_index):
            return None
        out = super().output(outs, msg, display_id, cell_index)
        size = sum(_text_size(o) for o in outs)
        if size > self.settings.max_output_chars:
            self._dropping = True
            self._event(EventKind.OUTPUT_TRUNCATED, cell_index, f"more than {self.settings.max_output_chars} characters")
            while outs and sum(_text_size(o) for o in outs) > self.settings.max_output_chars:
                last = outs[-1]
                if last.get("output_type") == "stream" and len(last.text) > 1000:
                    last.text = last.text[: max(0, len(last.text) - (size - self.settings.max_output_chars))]
                    break
                outs.pop()
            outs.append(
                new_output(
                    "stream", name="stdout", text=f"\n[output truncated by the grader: more than {self.settings.max_output_chars} characters]\n"
                )
            )
        return out

    def _figure_over_cap(self, nbytes: int, outs, replacing: int = 0) -> tuple[str, str] | None:
        """Why a figure of ``nbytes`` may not be kept, long and short (``None``: it may).

        ``outs``: the current cell's outputs (left out of the count when a clear is pending);
        ``replacing``: the bytes of the figure it takes the place of (a display update).
        """
        cap = self.settings.max_figure_kb * 1024
        if nbytes > cap:
            return f"{_human(nbytes)} over the {_human(cap)} per-figure cap", f"over the {_human(cap)} per-figure cap"
        pending_clear = outs if getattr(self, "clear_before_next_output", False) else None
        kept = sum(_figure_bytes(o) for cell in self.nb.cells if cell.get("outputs") is not pending_clear for o in cell.get("outputs", []))
        cap = self.settings.max_notebook_figures_kb * 1024
        if kept - replacing + nbytes > cap:
            return f"the notebook's figures reached the {_human(cap)} per-notebook cap", f"the notebook's figures reached the {_human(cap)} cap"
        return None

    def _omit_figure(self, outs, msg, cell_index: int) -> bool:
        """Replace a figure over a cap with a note (one note per cell, counting); ``True`` if it was omitted."""
        if msg["msg_type"] not in ("display_data", "execute_result"):
            return False
        nbytes = _figure_bytes(msg["content"])
        why = self._figure_over_cap(nbytes, outs) if nbytes else None
        if why is None:
            return False
        if getattr(self, "clear_before_next_output", False):  # what nbclient would have done before this output
            outs[:] = []
            self.clear_display_id_mapping(cell_index)
            self.clear_before_next_output = False
        if not self._figures_omitted:
            self._event(EventKind.OUTPUT_TRUNCATED, cell_index, f"figure omitted: {why[0]}")
        self._figures_omitted.append(why)
        n = len(self._figures_omitted)
        if n == 1:
            text = f"[figure omitted by the grader: {why[0]}]\n"
        else:
            reasons = "; ".join(dict.fromkeys(short for _, short in self._figures_omitted))
            text = f"[{n} figures omitted by the grader: {reasons}]\n"
        if self._figure_note is not None and any(o is self._figure_note for o in outs):
            self._figure_note.text = text
        else:
            self._figure_note = new_output("stream", name="stdout", text=text)
            outs.append(self._figure_note)
        return True

    def _update_display_id(self, display_id, msg):
        """``display(..., display_id=...).update(fig)``: the new figure replaces the old one; caps still apply."""
        nbytes = _figure_bytes(msg["content"])
        if nbytes:
            replaced = max(
                (
                    _figure_bytes(self.nb.cells[c].outputs[i])
                    for c, idx in self._display_id_map.get(display_id, {}).items()
                    for i in idx
                    if c < len(self.nb.cells) and i < len(self.nb.cells[c].outputs)
                ),
                default=0,
            )
            why = self._figure_over_cap(nbytes, None, replacing=replaced)
            if why is not None:
                cells = sorted(self._display_id_map.get(display_id, {}))
                self._event(EventKind.OUTPUT_TRUNCATED, cells[0] if cells else -1, f"figure update omitted: {why[0]}")
                content = dict(msg["content"])
                content["data"] = {"text/plain": f"[figure omitted by the grader: {why[0]}]"}
                msg = {**msg, "content": content}
        return super()._update_display_id(display_id, msg)

    # ---- what the kernel replied: nbclient's hook, structured fields only
    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        content = kwargs["execute_reply"]["content"]
        if content.get("status") != "error":
            return
        if content.get("ename") == self.error_on_timeout.get("ename"):
            self._event(EventKind.CELL_TIMED_OUT, kwargs["cell_index"], f"interrupted at the time limit of {self.timeout} s")
        elif content.get("ename") == "MemoryError":
            self._event(EventKind.MEMORY_LIMIT, kwargs["cell_index"], "MemoryError")

    def _probe(self) -> dict | None:
        from . import integrity

        tag = integrity.new_nonce() + ":"
        cell = new_code_cell(integrity.probe_cell_source(tag))
        self.nb.cells.append(cell)  # nbclient writes outputs by index: give the probe its own slot
        try:
            self.timeout = 60
            self._probing = True
            self.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        except Exception:
            return None
        finally:
            self._probing = False
            self.timeout = self._cell_timeout
            self.nb.cells.remove(cell)
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        return integrity.read_probe(text, tag)

    def preprocess_cell(self, cell, resources, index):
        from nbclient.exceptions import DeadKernelError

        from . import integrity

        if cell.cell_type != "code":
            return cell, self.resources
        self._bar.update(1)
        if self.integrity and not self._snapshot_taken:  # the kernel is up; no student cell has run yet
            self._snapshot_taken = True
            self._snapshot = self._probe()
        grade = is_grade(cell)
        if self._dead:
            self._fail(cell, index, EventKind.NOT_RUN, "KernelDied", f"not run: the kernel died earlier ({self._dead})")
            return cell, self.resources
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            self._fail(cell, index, EventKind.NOT_RUN, "NotebookTimeout", f"not run: the notebook used up its {self.settings.notebook_timeout} s")
            return cell, self.resources
        self.timeout = max(1, int(min(self._cell_timeout or remaining, remaining)))
        original = cell.source
        if grade and self.integrity:
            cell.source = integrity.guard_source(original, list(self.guard_imports), self._nonce)
        self._dropping = False
        self._figure_note, self._figures_omitted = None, []
        events_before = len(self._events)
        try:
            cell = self.execute_cell(cell, index, store_history=True)
        except DeadKernelError as exc:
            code = kernel_exit_code(self.km)
            self._dead = describe_exit(code) or str(exc)
            kind = EventKind.CPU_LIMIT if code is not None and exit_signal(code) == "SIGXCPU" else EventKind.KERNEL_DIED
            self._fail(cell, index, kind, "KernelDied", f"the kernel died while running this cell: {self._dead}")
        except TimeoutError:  # nbclient's CellTimeoutError: the kernel ignored the interrupt
            self._dead = "it stopped answering after a timeout"
            self._fail(cell, index, EventKind.CELL_TIMED_OUT, "CellTimeoutError", f"the grader gave up on this cell: {self._dead}")
        except Exception as exc:
            self._dead = f"{type(exc).__name__}: {str(exc)[:200]}"
            self._fail(cell, index, EventKind.KERNEL_DIED, "KernelDied", f"the grader gave up on this cell: {self._dead}")
        finally:
            self.timeout = self._cell_timeout
            cell.source = original
        timed_out = any(e.kind is EventKind.CELL_TIMED_OUT for e in self._events[events_before:])
        if timed_out and self._deadline - time.monotonic() <= 1:
            self._fail(
                cell,
                index,
                EventKind.NOTEBOOK_TIMED_OUT,
                "NotebookTimeout",
                f"interrupted: the notebook used up its {self.settings.notebook_timeout} s",
            )
        if grade and self.integrity and not self._dead:
            nonce_back = integrity.take_nonce(cell, self._nonce)
            has_error = any(o.get("output_type") == "error" for o in cell.outputs)
            if not nonce_back and not has_error:
                self._fail(
                    cell,
                    index,
                    EventKind.MARKER_MISSING,
                    "IntegrityError",
                    "the test cell did not run to its end (its completion marker never came back): no points",
                )
            if self._snapshot is not None:
                changes = integrity.compare(self._snapshot, self._probe())
                if changes:
                    self._fail(
                        cell,
                        index,
                        EventKind.ENVIRONMENT_MODIFIED,
                        "IntegrityError",
                        "the grading environment was modified before this test: " + "; ".join(changes[:5]),
                    )
        return cell, self.resources


def read_events(nb) -> list[CellEvent]:
    """The events :class:`SandboxExecute` recorded in a graded notebook (and removes them from it)."""
    return [CellEvent.from_dict(e) for e in nb.metadata.pop(EVENTS_KEY, [])]
