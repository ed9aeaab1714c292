"""Every case of the mutation suite (source_notebooks/*/mutations.yaml) as a pytest case.

Correct alternatives must pass every test cell they run; plausible mistakes must fail at least one
(with the expected message when the YAML names one). The setup cells run once per assignment.
"""

from __future__ import annotations

import ast
import functools

import pytest

from autograder.pipeline.static_scan import python_source
from autograder.verdicts import CaseKind, format_result, load_suite, run_case, setup_namespace, suite_ids

ASSIGNMENTS = suite_ids()
SUITES = {aid: load_suite(aid) for aid in ASSIGNMENTS}
CASES = [case for suite in SUITES.values() for case in suite.cases]


@functools.cache
def _base(assignment: str) -> dict:
    return setup_namespace(SUITES[assignment])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case(case):
    result = run_case(SUITES[case.assignment], case, _base(case.assignment))
    assert result.ok, format_result(result)


def test_every_function_has_enough_cases():
    thin = []
    for suite in SUITES.values():
        for function in suite.functions():
            kinds = [c.kind for c in suite.cases if c.function == function]
            n_correct, n_mistakes = kinds.count(CaseKind.CORRECT), kinds.count(CaseKind.MISTAKE)
            if n_correct < 2 or n_mistakes < 3:
                thin.append(f"{suite.assignment}/{function}: {n_correct} correct, {n_mistakes} mistakes")
    assert not thin, "each graded function needs >= 2 correct alternatives and >= 3 mistakes:\n" + "\n".join(thin)


def _defines_function(source: str) -> bool:
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return False
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for node in tree.body)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_is_covered(assignment, root):
    import nbformat

    nb = nbformat.read(root / "source_notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    solution_cells = [
        cell.metadata["nbgrader"]["grade_id"]
        for cell in nb.cells
        if cell.cell_type == "code"
        and cell.metadata.get("nbgrader", {}).get("solution")
        and _defines_function(cell.source)
        and "train_or_restore(" not in cell.source  # training functions: graded by the trained model (tests/test_end_to_end.py)
    ]
    covered = {grade_id for case in SUITES[assignment].cases for grade_id in case.solution_cells}
    missing = [g for g in solution_cells if g not in covered]
    assert not missing, f"{assignment}: solution cells defining functions with no entry in source_notebooks/{assignment}/mutations.yaml: {missing}"
