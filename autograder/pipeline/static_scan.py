"""The static scan: what a submission's editable cells do to the things the tests rely on, before anything runs.

Notebook code does odd-looking things all the time (``plt.rcParams[...] = ...``,
``setattr(self, k, v)``, ``globals()`` in a debugging print, ``importlib.reload``),
so the scan sorts what it finds by :class:`.model.Severity`:

``WITHHOLD``, constructs with no innocent use in homework, which
:func:`.scoring.final_score` turns into ``tampered``:

* assigning or deleting an attribute of a module the grading relies on
  (``np.allclose = ...``, ``sys.excepthook = ...``, ``setattr(np, ...)``,
  ``vars(np)[...] = ...``, ``np.__dict__[...] = ...``);
* writing into ``sys.modules`` or ``__builtins__``;
* rebinding a name the test cells take from a read-only cell (``def check_close``,
  ``check_close = ...``, ``from math import isclose as check_close``,
  ``globals()["check_close"] = ...``);
* trace and profile hooks, IPython input/AST transformers, custom exception
  handlers, event callbacks and magics registered by the student's code;
* rewriting a function's ``__code__`` or writing into its ``__globals__``.

``REVIEW``, listed in the message with the points kept: ``exec``, ``eval``,
``compile``, ``__import__``, ``ctypes``, reading ``__globals__`` or ``__builtins__``.

Everything else is not reported. The runtime layers (:mod:`.integrity`) catch
what a scan cannot see, and they alone are evidence enough to withhold points.
"""

from __future__ import annotations

import ast
import importlib
import sys

from .model import Finding, Severity
from .nbgrader_cells import Delimiters, grade_id, is_locked, is_test_cell, strip_hidden

# Modules whose functions the tests, the checks or the grader's probes call: changing them changes a verdict.
GRADED_MODULES = frozenset({"numpy", "builtins", "sys", "math", "autograder", "IPython", "tensorflow", "keras", "threading", "nbgrader"})
CHEAP_TO_IMPORT = frozenset({"numpy", "math", "builtins", "sys", "threading"})  # never TensorFlow, just to scan
HOOKS = {
    "settrace": "installs a trace hook",
    "setprofile": "installs a profile hook",
    "input_transformers_post": "installs an IPython input transformer",
    "input_transformers_cleanup": "installs an IPython input transformer",
    "ast_transformers": "installs an IPython AST transformer",
    "set_custom_exc": "installs a custom exception handler",
    "register_magic_function": "registers a magic",
}
EVENT_METHODS = {"register", "unregister", "callbacks"}
MUTATING_METHODS = {"update", "pop", "popitem", "clear", "setdefault", "__setitem__", "__delitem__"}
REVIEW_CALLS = {"exec": "uses exec", "eval": "uses eval", "compile": "uses compile", "__import__": "calls __import__"}


def python_source(source: str) -> str:
    """A code cell's source as plain Python: IPython-only lines (``%magic``, ``!shell``) blanked, so line numbers still match the cell."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(python_source(source))
    except SyntaxError:
        return None


def is_student_cell(cell) -> bool:
    """A code cell the student may edit (nbgrader restores the locked ones from the source)."""
    return cell.cell_type == "code" and not is_locked(cell)


def imported_names(trees) -> dict[str, str]:
    """Every name an import binds -> the dotted module (or module.object) it stands for."""
    names = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name != "*":
                        names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def names_used_by_tests(source_nb, protected: dict[str, str]) -> set[str]:
    """Names the test cells use that a read-only cell imports (``check_close``, ``np``, ...)."""
    used = set()
    for cell in source_nb.cells:
        if is_test_cell(cell):
            tree = parse(cell.source)
            used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} if tree else set()
    return used & set(protected)


def _root(node) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node


class _Scanner(ast.NodeVisitor):
    def __init__(self, modules: dict[str, str], test_names: set[str], protected: dict[str, str]):
        self.modules, self.test_names, self.protected = modules, test_names, protected
        self.found: list[tuple[ast.AST, str, Severity]] = []

    def add(self, node, what: str, severity: Severity = Severity.WITHHOLD) -> None:
        self.found.append((node, what, severity))

    def graded(self, node) -> bool:
        """Whether ``node`` (a name, or an attribute chain) reaches into a module the grading relies on."""
        root = _root(node)
        if isinstance(root, ast.Name):
            if root.id == "__builtins__":
                return True
            module = self.modules.get(root.id)
            return module is not None and (module.split(".")[0] in GRADED_MODULES or root.id in self.test_names)
        return False

    def exists(self, target: ast.Attribute) -> bool:
        """Whether ``np.allclose``-like ``target`` names something that is already there (assume so when unsure)."""
        chain = []
        node = target
        while isinstance(node, ast.Attribute):
            chain.insert(0, node.attr)
            node = node.value
        module_name = self.modules.get(node.id) if isinstance(node, ast.Name) else None
        if not module_name or module_name.split(".")[0] not in CHEAP_TO_IMPORT | set(sys.modules):
            return True
        try:
            obj = importlib.import_module(module_name)
        except ImportError:
            return True
        for name in chain:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True

    def namespace_of(self, node) -> str | None:
        """``vars(np)``, ``np.__dict__``, ``globals()``, ``sys.modules``, ``__builtins__``: a namespace being written."""
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "globals":
                return "globals()"
            if node.func.id == "vars" and node.args and self.graded(node.args[0]):
                return f"vars({ast.unparse(node.args[0])})"
        if isinstance(node, ast.Attribute) and node.attr == "__dict__" and self.graded(node.value):
            return ast.unparse(node)
        if isinstance(node, ast.Attribute) and node.attr == "modules" and self.modules.get(getattr(_root(node), "id", "")) == "sys":
            return "sys.modules"
        if isinstance(node, ast.Attribute) and node.attr == "__globals__":
            return ast.unparse(node)
        if isinstance(node, ast.Name) and node.id == "__builtins__":
            return "__builtins__"
        return None

    def write(self, target, node) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self.write(element, node)
        elif isinstance(target, ast.Starred):
            self.write(target.value, node)
        elif isinstance(target, ast.Name) and target.id in self.test_names:
            self.add(node, f"rebinds `{target.id}`, which the tests use")
        elif isinstance(target, ast.Attribute):
            if target.attr == "__code__":
                self.add(node, "rewrites a function's code")
            elif self.graded(target.value) and self.exists(target):
                self.add(node, f"changes {ast.unparse(target)}, an attribute of a module the grading relies on")
            elif self.graded(target.value):  # e.g. the NumPy 2 shim `np.float_ = np.float64`: adds, replaces nothing
                self.add(node, f"adds {ast.unparse(target)} to a module the grading relies on", Severity.REVIEW)
        elif isinstance(target, ast.Subscript):
            space = self.namespace_of(target.value)
            key = target.slice.value if isinstance(target.slice, ast.Constant) else None
            if space == "globals()":
                if key in self.test_names:
                    self.add(node, f"rebinds `{key}`, which the tests use, through globals()")
            elif space:
                self.add(node, f"writes into {space}")

    # ---- statements that write
    def visit_Assign(self, node):
        for target in node.targets:
            self.write(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self.write(node.target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self.write(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self.write(target, node)
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        if node.name in self.test_names:
            self.add(node, f"redefines `{node.name}`, which the tests use")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef

    def visit_Import(self, node):
        for alias in node.names:
            bound = alias.asname or alias.name.split(".")[0]
            means = alias.name if alias.asname else alias.name.split(".")[0]
            self._import(node, bound, means, alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        for alias in node.names:
            self._import(node, alias.asname or alias.name, f"{node.module}.{alias.name}", node.module or "")
        self.generic_visit(node)

    def _import(self, node, bound: str, means: str, module: str) -> None:
        if bound in self.test_names and self.protected.get(bound) not in (means, module):
            self.add(node, f"rebinds `{bound}`, which the tests use, to something else")
        if module.split(".")[0] == "ctypes":
            self.add(node, "uses ctypes", Severity.REVIEW)

    # ---- calls and attributes
    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in ("setattr", "delattr") and node.args and (self.graded(node.args[0]) or self.namespace_of(node.args[0])):
                self.add(node, f"uses {func.id} on {ast.unparse(node.args[0])}")
            elif func.id in REVIEW_CALLS:
                self.add(node, REVIEW_CALLS[func.id], Severity.REVIEW)
        elif isinstance(func, ast.Attribute):
            space = self.namespace_of(func.value)
            if func.attr in MUTATING_METHODS and space and space != "globals()":
                self.add(node, f"changes {space} ({func.attr})")
            elif func.attr in EVENT_METHODS and isinstance(func.value, ast.Attribute) and func.value.attr == "events":
                self.add(node, "registers an IPython event hook")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if node.attr in HOOKS:
            self.add(node, HOOKS[node.attr])
        elif node.attr == "__globals__" and isinstance(node.ctx, ast.Load):
            self.add(node, "reaches into a function's globals", Severity.REVIEW)
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == "__builtins__" and isinstance(node.ctx, ast.Load):
            self.add(node, "touches __builtins__", Severity.REVIEW)


def protected_imports(source_nb, marks: Delimiters | None = None) -> tuple[list[str], dict[str, str]]:
    """The import statements of the read-only cells, and the names they bind -> module."""
    statements, names = [], {}
    for cell in source_nb.cells:
        if cell.cell_type != "code" or not is_locked(cell):
            continue
        tree = parse(strip_hidden(cell.source, marks))
        for node in tree.body if tree else []:
            if isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level):
                statements.append(ast.unparse(node))
                for alias in node.names:
                    if alias.name != "*":
                        bound = alias.asname or alias.name.split(".")[0]
                        names[bound] = node.module if isinstance(node, ast.ImportFrom) else alias.name
    return list(dict.fromkeys(statements)), names


def scan(submitted_nb, source_nb, marks: Delimiters | None = None) -> list[Finding]:
    """Findings in the cells the student could edit, each naming the cell, the line and the code."""
    _, protected = protected_imports(source_nb, marks)
    test_names = names_used_by_tests(source_nb, protected)
    student = [(i, c) for i, c in enumerate(submitted_nb.cells) if is_student_cell(c)]
    trees = {i: parse(c.source) for i, c in student}
    everything = [t for t in trees.values() if t] + [t for t in (parse(c.source) for c in source_nb.cells if c.cell_type == "code") if t]
    modules = imported_names(everything)
    findings: list[Finding] = []
    for i, cell in student:
        if trees[i] is None:
            continue
        scanner = _Scanner(modules, test_names, protected)
        scanner.visit(trees[i])
        label = grade_id(cell) or f"#{i + 1}"
        lines = python_source(cell.source).splitlines()
        for node, what, severity in scanner.found:
            line = getattr(node, "lineno", 1)
            snippet = lines[line - 1].strip()[:80] if 0 < line <= len(lines) else ""
            findings.append(Finding(label, line, what, snippet, severity))
    return list(dict.fromkeys(findings))
