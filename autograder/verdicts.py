"""The mutation suite: alternative correct answers and plausible mistakes, run against the test cells.

A test cell is only as good as the verdicts it gives. ``source_notebooks/<id>/mutations.yaml`` keeps, for every
graded function, implementations that are correct but written differently from the answer key (they
must pass every test) and plausible mistakes (each must fail at least one test, ideally with a message
naming the mistake). This module runs them in-process, without nbgrader or a kernel, so the whole
suite takes seconds: the source notebook's ``setup`` cells run once per assignment, then every case
gets a fresh copy of that namespace, the answer key's solution cells, the case's code and the test
cells (hidden tests included).

    python -m autograder.verdicts 02_backprop --function softmax_cross_entropy
"""

from __future__ import annotations

import contextlib
import enum
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from .course import find_course_root
from .pipeline import nbgrader_cells
from .pipeline.kernel_glue import strip_ansi
from .pipeline.static_scan import python_source
from .registry import assignments, get_assignment


class MutationSuiteError(RuntimeError):
    """The YAML file or the notebook is inconsistent (unknown grade id, a setup cell that raises...)."""


class CaseKind(enum.Enum):
    CORRECT = "correct"
    MISTAKE = "mistake"


@dataclass(frozen=True)
class Case:
    """One implementation to try: ``code`` is executed after the function's solution cells."""

    assignment: str
    function: str
    kind: CaseKind
    name: str
    code: str
    tests: tuple[str, ...]
    solution_cells: tuple[str, ...]
    message: str | None = None  # mistakes only: a fragment some failing test's message must contain
    skip_reason: str | None = None

    @property
    def id(self) -> str:
        return f"{self.assignment}::{self.function}::{self.kind.value}::{self.name}"


@dataclass(frozen=True)
class TestOutcome:
    test: str
    passed: bool
    message: str = ""  # "ExceptionType: first line" when it failed


@dataclass
class CaseResult:
    case: Case
    outcomes: list[TestOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[TestOutcome]:
        return [o for o in self.outcomes if not o.passed]

    @property
    def ok(self) -> bool:
        """Whether the tests behaved as the suite expects for this case."""
        if self.case.skip_reason:
            return True
        if self.case.kind is CaseKind.CORRECT:
            return not self.failed
        if not self.failed:
            return False
        if self.case.message:
            return any(self.case.message.lower() in o.message.lower() for o in self.failed)
        return True

    @property
    def expected(self) -> str:
        if self.case.kind is CaseKind.CORRECT:
            return "passes every test"
        return "fails a test" + (f" with {self.case.message!r}" if self.case.message else "")


@dataclass
class Suite:
    """An assignment's YAML file joined with its source notebook's cells."""

    assignment: str
    setup: tuple[str, ...]
    cells: dict[str, str]  # grade_id -> source of every code cell with a grade id
    cases: list[Case]
    notebook_dir: Path

    def functions(self) -> list[str]:
        return list(dict.fromkeys(c.function for c in self.cases))


def suite_ids(root: Path | None = None) -> list[str]:
    """Every assignment: each folder holds its mutation file (the registry refuses one without)."""
    return [a.id for a in assignments(root)]


def notebook_cells(path: Path) -> dict[str, str]:
    """grade_id -> source of every code cell that has one (the answer key: solution markers are comments)."""
    nb = nbformat.read(path, as_version=4)
    cells = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and nbgrader_cells.grade_id(cell):
            cells[nbgrader_cells.grade_id(cell)] = cell.source
    return cells


def load_suite(assignment: str, root: Path | None = None) -> Suite:
    root = root or find_course_root()
    found = get_assignment(assignment, root)
    path = found.mutations
    spec = yaml.safe_load(path.read_text())
    if spec.get("assignment", assignment) != assignment:
        raise MutationSuiteError(f"{path}: says assignment {spec.get('assignment')!r}, expected {assignment!r}")
    notebook = found.notebook
    cells = notebook_cells(notebook)
    setup = tuple(spec.get("setup") or ())
    cases: list[Case] = []
    for function, entry in (spec.get("functions") or {}).items():
        solution_cells = tuple(entry.get("solution_cells") or ())
        tests = tuple(entry.get("tests") or ())
        for grade_id in (*setup, *solution_cells, *tests):
            if grade_id not in cells:
                raise MutationSuiteError(f"{path}: {function}: no code cell with grade_id {grade_id!r} in {notebook.name}")
        for kind, group in ((CaseKind.CORRECT, "correct"), (CaseKind.MISTAKE, "mistakes")):
            for name, body in (entry.get(group) or {}).items():
                if isinstance(body, str):
                    body = {"code": body}
                case_tests = tuple(body.get("tests") or tests)
                for grade_id in case_tests:
                    if grade_id not in cells:
                        raise MutationSuiteError(f"{path}: {function}/{name}: no test cell {grade_id!r} in {notebook.name}")
                cases.append(
                    Case(assignment, function, kind, name, body["code"], case_tests, solution_cells, body.get("message"), body.get("skip_reason"))
                )
    return Suite(assignment, setup, cells, cases, notebook.parent)


def _exec(source: str, namespace: dict, label: str) -> None:
    exec(compile(python_source(source), f"<{label}>", "exec"), namespace)


def error_message(exc: BaseException) -> str:
    lines = strip_ansi(str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


@contextlib.contextmanager
def _notebook_context(folder: Path):
    """Run as a notebook would: from its folder, plots off-screen, cell output swallowed."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with contextlib.chdir(folder), contextlib.redirect_stdout(io.StringIO()):
        yield
        try:
            import matplotlib.pyplot as plt

            plt.close("all")
        except ImportError:  # pragma: no cover
            pass


def setup_namespace(suite: Suite) -> dict:
    """Execute the setup cells once; the cases copy the result."""
    namespace: dict = {"__name__": "__main__"}
    with _notebook_context(suite.notebook_dir):
        for grade_id in suite.setup:
            try:
                _exec(suite.cells[grade_id], namespace, f"{suite.assignment}:{grade_id}")
            except Exception as exc:
                raise MutationSuiteError(f"{suite.assignment}: setup cell {grade_id!r} raised {error_message(exc)}") from exc
    return namespace


def run_case(suite: Suite, case: Case, base: dict) -> CaseResult:
    """Solution cells, then the case's code, then each test in a shallow copy of ``base``."""
    result = CaseResult(case)
    if case.skip_reason:
        return result
    namespace = dict(base)
    with _notebook_context(suite.notebook_dir):
        for grade_id in case.solution_cells:
            try:
                _exec(suite.cells[grade_id], namespace, f"{suite.assignment}:{grade_id}")
            except Exception as exc:
                raise MutationSuiteError(f"{case.id}: answer-key cell {grade_id!r} raised {error_message(exc)}") from exc
        try:
            _exec(case.code, namespace, case.id)
        except Exception as exc:  # a case that cannot even be defined fails every test
            result.outcomes = [TestOutcome(t, False, f"case code raised {error_message(exc)}") for t in case.tests]
            return result
        for test in case.tests:
            try:
                _exec(suite.cells[test], namespace, f"{suite.assignment}:{test}")
                result.outcomes.append(TestOutcome(test, True))
            except Exception as exc:
                result.outcomes.append(TestOutcome(test, False, error_message(exc)))
    return result


def run_suite(assignment: str, function: str | None = None, root: Path | None = None) -> list[CaseResult]:
    suite = load_suite(assignment, root)
    base = setup_namespace(suite)
    return [run_case(suite, c, base) for c in suite.cases if function is None or c.function == function]


@dataclass
class Summary:
    """One row of benchmarks/results/verdicts.md."""

    assignment: str
    functions: int
    alternatives: int
    mistakes: int
    false_failures: list[str]  # correct cases that fail a test
    surviving_mistakes: list[str]  # mistakes that pass every test (or fail without the expected message)


def summarize(assignment: str, results: list[CaseResult]) -> Summary:
    correct = [r for r in results if r.case.kind is CaseKind.CORRECT]
    mistakes = [r for r in results if r.case.kind is CaseKind.MISTAKE]
    return Summary(
        assignment,
        len({r.case.function for r in results}),
        len(correct),
        len(mistakes),
        [f"{r.case.function}/{r.case.name}" for r in correct if not r.ok],
        [f"{r.case.function}/{r.case.name}" for r in mistakes if not r.ok],
    )


def markdown(summaries: list[Summary], machine: dict) -> str:
    """The table of benchmarks/results/verdicts.md."""
    lines = [
        "# Verdicts of the test cells on the mutation suite",
        "",
        f"Machine: {machine.get('cpu', '?')}, {machine.get('cores', '?')} cores · TensorFlow {machine.get('tensorflow', '?')}"
        f" · {machine.get('date', '')}. Produced by `dlcourse verdicts` from `source_notebooks/*/mutations.yaml`.",
        "",
        "A *false failure* is a correct alternative that fails a test; a *surviving mistake* is a planted mistake that",
        "passes every test (or fails without the expected message). Both should be 0.",
        "",
        "| assignment | graded functions | correct alternatives | mistakes | false failures | surviving mistakes |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(f"| {s.assignment} | {s.functions} | {s.alternatives} | {s.mistakes} | {len(s.false_failures)} | {len(s.surviving_mistakes)} |")
    lines.append(
        f"| **total** | {sum(s.functions for s in summaries)} | {sum(s.alternatives for s in summaries)} | "
        f"{sum(s.mistakes for s in summaries)} | {sum(len(s.false_failures) for s in summaries)} | "
        f"{sum(len(s.surviving_mistakes) for s in summaries)} |"
    )
    problems = [
        (s.assignment, kind, name)
        for s in summaries
        for kind, names in (("false failure", s.false_failures), ("surviving mistake", s.surviving_mistakes))
        for name in names
    ]
    if problems:
        lines += ["", "## Cases to fix", ""] + [f"- {a}: {kind} `{name}`" for a, kind, name in problems]
    return "\n".join(lines) + "\n"


def format_result(r: CaseResult) -> str:
    verdict = "ok" if r.ok else "UNEXPECTED"
    lines = [f"[{verdict}] {r.case.kind.value} {r.case.function}/{r.case.name} (expected: {r.expected})"]
    if r.case.skip_reason:
        lines.append(f"    skipped: {r.case.skip_reason}")
    for o in r.outcomes:
        lines.append(f"    {'PASS' if o.passed else 'FAIL'} {o.test}" + (f": {o.message}" if o.message else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m autograder.verdicts", description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment")
    parser.add_argument("--function", help="only this graded function's cases")
    args = parser.parse_args(argv)
    results = run_suite(args.assignment, args.function)
    for r in results:
        print(format_result(r))
    s = summarize(args.assignment, results)
    print(
        f"{len(results)} cases ({s.alternatives} correct, {s.mistakes} mistakes): "
        f"{len(s.false_failures)} false failures, {len(s.surviving_mistakes)} surviving mistakes"
    )
    return 1 if s.false_failures or s.surviving_mistakes else 0


if __name__ == "__main__":
    raise SystemExit(main())
