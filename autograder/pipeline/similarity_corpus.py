"""Pairs to calibrate the similarity threshold on: honest answers that differ, and disguised copies.

Honest pairs come from the mutation suite (``source_notebooks/<id>/mutations.yaml``): the correct
alternatives of a graded function are different honest answers to the same task, and so is the
answer key's own version of it. A copy is a version passed through :func:`disguise`, which does
what someone hiding a copy does: renames the variables, reorders the functions, removes and
adds comments, re-wraps long lines and adds blank lines.
"""

from __future__ import annotations

import ast
import builtins
import io
import keyword
import random
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .nbgrader_cells import grade_id
from .similarity import AnswerCell

SOLUTION_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class Version:
    """One honest answer to one graded function."""

    assignment: str
    function: str
    name: str  # "answer key" or the alternative's name in the mutation suite
    source: str
    starter: str  # the released starter of the function's answer cells (its lines are not the student's)

    def cell(self, source: str | None = None) -> AnswerCell:
        return AnswerCell(self.function, self.source if source is None else source, self.starter)


def _defined_names(code: str) -> set[str]:
    names = set()
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def _key_segments(key_source: str, names: set[str]) -> str:
    """The top-level definitions of ``names`` in the answer key's cells, as written there."""
    tree = ast.parse(key_source)
    lines = key_source.splitlines()
    parts = []
    for node in tree.body:
        defined = {node.name} if isinstance(node, ast.FunctionDef | ast.ClassDef) else set()
        if isinstance(node, ast.Assign):
            defined = {t.id for t in node.targets if isinstance(t, ast.Name)}
        if defined & names:
            start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            parts.append("\n".join(lines[start - 1 : node.end_lineno]))
    return "\n\n\n".join(parts)


def _cells(path: Path) -> dict[str, str]:
    nb = nbformat.read(path, as_version=4)
    return {grade_id(c): c.source for c in nb.cells if grade_id(c)}


def honest_versions(root: Path, assignment: str) -> dict[str, list[Version]]:
    """Per graded function with at least one correct alternative: the answer key's version and every alternative."""
    from ..verdicts import CaseKind, load_suite, python_source

    suite = load_suite(assignment, root)
    release = _cells(root / "assignments" / assignment / f"{assignment}.ipynb")
    found: dict[str, list[Version]] = {}
    for function in suite.functions():
        cases = [c for c in suite.cases if c.function == function and c.kind is CaseKind.CORRECT]
        if not cases:
            continue
        solution_cells = cases[0].solution_cells
        starter = "\n".join(release.get(g, "") for g in solution_cells)
        key = "\n".join(
            "\n".join(line for line in python_source(suite.cells[g]).splitlines() if not SOLUTION_MARKER.match(line)) for g in solution_cells
        )
        names = set().union(*(_defined_names(c.code) for c in cases))
        versions = [Version(assignment, function, "answer key", _key_segments(key, names) or key, starter)]
        versions += [Version(assignment, function, c.name, c.code, starter) for c in cases]
        found[function] = versions
    return found


# ---------------------------------------------------------------- disguises

_KEEP = set(dir(builtins)) | set(keyword.kwlist) | {"np", "tf", "keras", "self", "cls", "plt", "math", "layers"}


def _assigned_names(code: str) -> set[str]:
    """Local variables and parameters: what a copier renames (function names stay: the tests call them)."""
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names - _KEEP


def rename_variables(code: str, rng: random.Random) -> str:
    names = sorted(_assigned_names(code))
    mapping = {n: f"{rng.choice(['val', 'tmp', 'res', 'my', 'q', 'data'])}_{n[::-1]}{rng.randint(0, 99)}" for n in names}
    out, previous = [], ""
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        renamed = tok.type == tokenize.NAME and previous != "."
        out.append((tok.type, mapping.get(tok.string, tok.string) if renamed else tok.string, tok.start, tok.end, tok.line))
        previous = tok.string
    return _untokenize(code, out)


def _untokenize(code: str, tokens) -> str:
    """Rebuild ``code`` with each token's text replaced, keeping every other character where it was."""
    lines = code.splitlines(keepends=True)
    edits: dict[int, list] = {}
    for kind, text, start, end, _ in tokens:
        if kind == tokenize.NAME and start[0] == end[0]:
            edits.setdefault(start[0], []).append((start[1], end[1], text))
    for row, changes in edits.items():
        line = lines[row - 1]
        for begin, finish, text in sorted(changes, reverse=True):
            line = line[:begin] + text + line[finish:]
        lines[row - 1] = line
    return "".join(lines)


def reorder_functions(code: str, rng: random.Random) -> str:
    tree = ast.parse(code)
    lines = code.splitlines()
    blocks, cursor = [], 0
    for node in tree.body:
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        blocks.append("\n".join(lines[cursor:start] + lines[start : node.end_lineno]))
        cursor = node.end_lineno
    movable = [i for i, n in enumerate(tree.body) if isinstance(n, ast.FunctionDef)]
    shuffled = movable[:]
    rng.shuffle(shuffled)
    order = list(range(len(blocks)))
    for slot, index in zip(movable, shuffled, strict=True):
        order[slot] = index
    return "\n\n".join(blocks[i] for i in order) + "\n" + "\n".join(lines[cursor:])


def change_comments(code: str, rng: random.Random) -> str:
    """Drop every comment and docstring, then add a few comments of one's own."""
    kept = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.COMMENT:
            kept.append((tok.start, tok.end))
    lines = code.splitlines()
    for (row, col), _ in sorted(kept, reverse=True):
        lines[row - 1] = lines[row - 1][:col].rstrip()
    out = []
    for line in lines:
        if line.strip() and rng.random() < 0.2:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}# {rng.choice(['compute it', 'step', 'as in the lecture', 'helper', 'TODO check'])}")
        out.append(line)
    text = "\n".join(out)
    tree = ast.parse(text)
    docstrings = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.body and isinstance(node.body[0], ast.Expr):
            value = node.body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and len(node.body) > 1:
                docstrings.append((node.body[0].lineno, node.body[0].end_lineno))
    lines = text.splitlines()
    for first, last in sorted(docstrings, reverse=True):
        del lines[first - 1 : last]
    return "\n".join(lines)


def rewrap_lines(code: str, rng: random.Random) -> str:
    """Break lines after commas inside brackets (and join nothing): the statement stays the same."""
    breaks: dict[int, list[int]] = {}
    depth = 0
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            depth -= 1
        elif tok.type == tokenize.OP and tok.string == "," and depth > 0 and rng.random() < 0.5:
            breaks.setdefault(tok.start[0], []).append(tok.end[1])
    lines = code.splitlines()
    for row, columns in breaks.items():
        line = lines[row - 1]
        indent = " " * (len(line) - len(line.lstrip()) + 8)
        for col in sorted(columns, reverse=True):
            line = line[:col] + "\n" + indent + line[col:].lstrip()
        lines[row - 1] = line
    return "\n".join(lines)


def add_blank_lines(code: str, rng: random.Random) -> str:
    out = []
    for line in code.splitlines():
        out.append(line)
        if rng.random() < 0.25:
            out.append("")
    return "\n".join(out)


DISGUISES = (rename_variables, reorder_functions, change_comments, rewrap_lines, add_blank_lines)


def disguise(code: str, rng: random.Random) -> str:
    """``code`` with every disguise applied (a step that would break the code is left out)."""
    for step in DISGUISES:
        try:
            changed = step(code, rng)
            ast.parse(changed)
        except (SyntaxError, tokenize.TokenError, IndentationError, ValueError):
            continue
        code = changed
    return code
