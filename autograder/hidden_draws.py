"""Hidden-draw tests: a notebook's own hidden test cells, run on many draws of their random inputs.

A hidden test sees one draw of its inputs; a tolerance that the answer key passes there by luck
would fail a correct student whose code rounds differently. So every hidden test cell of a source
notebook is run many times against the answer key, each time on another draw, and must pass every
time. Nothing is copied out of the cell: its references, tolerances and checks are the ones graded.

How a cell is redrawn: while its hidden section runs, ``np.random.default_rng(seed)`` returns
``default_rng([seed, draw])`` (draw 0 keeps the cell's own seed), so every generator the section
seeds, and every one the functions it calls seed (``random_params(..., seed=3)``,
``make_recurrent_problem``), gives other numbers on each draw, the same ones for the same seed
within a draw (a test that seeds two generators alike to compare them still can).

What is run: the namespace the mutation suite gives the cell (the setup cells, the answer key's
solution cells and the test cells listed before it, see :mod:`autograder.verdicts`), then the
cell's visible part once, then its hidden section once per draw, all in one namespace, as when the
cell is re-run in the notebook (functions the visible part defines see what the hidden section
binds). The visible part stays out of the draws because it may compare with numbers that hold for
its own seed only. Inputs the hidden section reads from the notebook rather than drawing them are
supplied per draw by a generator (``Drawn(inputs=...)``); ``scope="cell"`` redraws the whole cell.

Which cells are drawn, how often and why not, is declared next to the notebook, in
``source_notebooks/<id>/hidden_draws.py`` (see :class:`Drawn` and :class:`Excused`); every hidden
test cell must be in it, so a new one cannot be skipped silently.
"""

from __future__ import annotations

import contextlib
import functools
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .course import find_course_root
from .pipeline import nbgrader_cells
from .pipeline.static_scan import python_source
from .registry import HIDDEN_DRAWS_FILE
from .verdicts import Suite, _exec, _notebook_context, error_message, load_suite, setup_namespace

FULL = 1000  # draws per cell unless a declaration says why fewer
PLAN_FILE = HIDDEN_DRAWS_FILE


@dataclass(frozen=True)
class Drawn:
    """A hidden cell run on ``draws`` draws of its inputs.

    ``why_fewer`` is required when ``draws < 1000``. ``inputs(rng, namespace) -> {name: value}``
    rebinds names the drawn code reads from the notebook instead of drawing them, before each draw
    but draw 0 (the notebook's own inputs). ``scope="cell"`` redraws the whole cell, for a visible
    part that computes from such inputs what its hidden section checks.
    """

    draws: int = FULL
    why_fewer: str = ""
    scope: str = "hidden"
    inputs: Callable[[np.random.Generator, dict], dict] | None = None


@dataclass(frozen=True)
class Excused:
    """A hidden cell that is not drawn, with the reason (no random input, or what grades it instead)."""

    reason: str


@dataclass(frozen=True)
class Plan:
    """An assignment's ``hidden_draws.py``: ``CELLS`` (grade id -> Drawn or Excused) and optional ``SETUP``."""

    assignment: str
    cells: dict[str, Drawn | Excused]
    setup: tuple[str, ...] | None  # setup cells to run instead of the mutation suite's (None: the suite's)
    path: Path


class DrawFailure(AssertionError):
    """The answer key failed a hidden cell on some draw."""


def plan_path(assignment: str, root: Path | None = None) -> Path:
    return (root or find_course_root()) / "source_notebooks" / assignment / PLAN_FILE


def load_plan(assignment: str, root: Path | None = None) -> Plan:
    """Execute ``source_notebooks/<id>/hidden_draws.py`` (without writing bytecode next to the notebook)."""
    path = plan_path(assignment, root)
    module = types.ModuleType(f"hidden_draws_{assignment}")
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)
    setup = getattr(module, "SETUP", None)
    return Plan(assignment, dict(module.CELLS), None if setup is None else tuple(setup), path)


def _begin(root: Path) -> str:
    """The course's hidden-tests delimiter (nbgrader's ``BEGIN HIDDEN TESTS`` unless nbgrader_config.py says otherwise)."""
    return nbgrader_cells.delimiters(root).begin_hidden_tests


def hidden_cells(suite: Suite, begin: str) -> list[str]:
    """Grade ids of the cells with a hidden section, in notebook order."""
    return [grade_id for grade_id, source in suite.cells.items() if begin in source]


def split_cell(source: str, begin: str) -> tuple[str, str]:
    """(visible part, hidden section) of a test cell, the latter padded with blank lines to keep the cell's line numbers.

    The hidden section runs from the line of ``begin`` to the end of the cell (the end delimiter is a comment).
    """
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if begin in line]
    if len(starts) != 1 or lines[starts[0]][:1].isspace():  # an indented section cannot run on its own
        raise ValueError(f"expected one {begin!r} line, not indented, found {len(starts)}")
    start = starts[0]
    return "\n".join(lines[:start]), "\n" * start + "\n".join(lines[start:])


def problems(plan: Plan, suite: Suite) -> list[str]:
    """Why the plan does not cover the notebook's hidden cells (empty when it does)."""
    hidden = hidden_cells(suite, _begin(plan.path.parents[2]))
    found = [f"{cell}: a hidden test cell that {plan.path.name} neither draws nor excuses" for cell in hidden if cell not in plan.cells]
    for cell, entry in plan.cells.items():
        if cell not in hidden:
            found.append(f"{cell}: declared in {plan.path.name} but not a hidden test cell of the notebook")
        elif isinstance(entry, Excused) and len(entry.reason.split()) < 4:
            found.append(f"{cell}: excused without a reason")
        elif isinstance(entry, Drawn):
            if entry.draws < FULL and len(entry.why_fewer.split()) < 4:
                found.append(f"{cell}: {entry.draws} draws (fewer than {FULL}) without saying why")
            if entry.scope not in ("hidden", "cell"):
                found.append(f"{cell}: scope must be 'hidden' or 'cell', not {entry.scope!r}")
        elif not isinstance(entry, Drawn | Excused):
            found.append(f"{cell}: expected Drawn(...) or Excused(...), got {type(entry).__name__}")
    return found


class _Seeds:
    """Counts the generators the drawn code seeds (a cell declared drawn that seeds none is never redrawn)."""

    def __init__(self):
        self.seeded = 0


@contextlib.contextmanager
def redrawn_generators(draw: int) -> Iterator[_Seeds]:
    """Within the block, ``np.random.default_rng(seed)`` gives ``default_rng([seed, draw])`` (draw 0: unchanged).

    A generator, bit generator or ``None`` passes through: only the seeds written in the code are
    redrawn. Patching numpy's attribute reaches every caller that looks it up (``np.random.default_rng``).
    """
    original = np.random.default_rng
    seeds = _Seeds()

    def default_rng(seed=None):
        if isinstance(seed, int | np.integer):
            seeds.seeded += 1
            return original(seed if draw == 0 else [int(seed), draw])
        if isinstance(seed, list | tuple) and all(isinstance(s, int | np.integer) for s in seed):
            seeds.seeded += 1
            return original(seed if draw == 0 else [*map(int, seed), draw])
        return original(seed)

    np.random.default_rng = default_rng
    try:
        yield seeds
    finally:
        np.random.default_rng = original


_suite = functools.cache(load_suite)


@functools.cache
def _suite_and_base(assignment: str, setup: tuple[str, ...] | None, root: Path) -> tuple[Suite, dict]:
    """The suite and the namespace after its setup cells (or the plan's), built once per process."""
    suite = _suite(assignment, root)
    if setup is not None:
        suite = replace(suite, setup=setup)
    return suite, setup_namespace(suite)


def context_cells(suite: Suite, cell: str) -> tuple[str, ...]:
    """The cells the mutation suite runs before ``cell``: solution cells, then the test cells listed before it."""
    entries = [(case.tests.index(cell), case) for case in suite.cases if cell in case.tests]
    if not entries:
        return ()
    position, case = min(entries, key=lambda entry: entry[0])
    return (*case.solution_cells, *case.tests[:position])


_READS_DATA = re.compile(r"\bload_(fashion_)?mnist\(")


def reads_real_data(assignment: str, cell: str, root: Path | None = None) -> bool:
    """Whether the cells run before ``cell``'s draws load Fashion-MNIST or MNIST (the tests' ``data`` marker)."""
    root = root or find_course_root()
    plan = load_plan(assignment, root)
    suite = _suite(assignment, root)
    before = (*(suite.setup if plan.setup is None else plan.setup), *context_cells(suite, cell), cell)
    return any(_READS_DATA.search(suite.cells[grade_id]) for grade_id in before)


@dataclass
class DrawReport:
    cell: str
    draws: int
    seeded: int  # generators seeded by the drawn code on draw 1 (0 when inputs come from Drawn.inputs)


def run_draws(assignment: str, cell: str, draws: int | None = None, *, plant: str = "", root: Path | None = None) -> DrawReport:
    """Run the hidden cell ``cell`` of ``assignment`` on ``draws`` draws (the plan's count by default).

    ``plant`` is code run after the answer key's cells (a mutation: the test of this harness plants a
    wrong answer key). Raises :class:`DrawFailure` on the first draw that fails, naming it.
    """
    root = root or find_course_root()
    plan = load_plan(assignment, root)
    entry = plan.cells.get(cell)
    if not isinstance(entry, Drawn):
        raise ValueError(f"{assignment}: {cell} is not declared Drawn in {plan.path}")
    suite, base = _suite_and_base(assignment, plan.setup, root)
    draws = entry.draws if draws is None else draws
    label = f"{assignment}:{cell}"
    visible, hidden = split_cell(suite.cells[cell], _begin(root))
    drawn = _compiled(hidden if entry.scope == "hidden" else suite.cells[cell], label)
    # One namespace for the context and every draw, as when the cell is re-run in the notebook: the
    # functions the key and the visible part define read the names the hidden section binds.
    namespace = dict(base)
    seeded_on_draw_1 = 0
    with _notebook_context(suite.notebook_dir):
        before = [(suite.cells[grade_id], f"{assignment}:{grade_id}") for grade_id in context_cells(suite, cell)]
        before += [(plant, f"{label} (planted)")] if plant else []
        before += [(visible, f"{label} (visible part)")] if entry.scope == "hidden" else []
        for source, name in before:
            try:
                _exec(source, namespace, name)
            except Exception as exc:
                raise DrawFailure(f"{name} failed before the draws: {error_message(exc)}") from exc
        for draw in range(draws):
            try:
                if entry.inputs is not None and draw > 0:
                    namespace.update(entry.inputs(np.random.default_rng([draw]), namespace))
                with redrawn_generators(draw) as seeds:
                    exec(drawn, namespace)
            except Exception as exc:
                raise DrawFailure(f"{label} failed on draw {draw} of {draws}: {error_message(exc)}{_how_to_repeat(draw)}") from exc
            if draw == 1:
                seeded_on_draw_1 = seeds.seeded
    return DrawReport(cell, draws, seeded_on_draw_1)


def _compiled(source: str, label: str):
    return compile(python_source(source), f"<{label}>", "exec")


def _how_to_repeat(draw: int) -> str:
    if draw == 0:
        return " (draw 0 is the notebook's own: the cell fails as graded)"
    return f" (on draw {draw}, np.random.default_rng(seed) gave default_rng([seed, {draw}]); inputs= got default_rng([{draw}]))"
