"""The contract with nbclient, nbconvert, nbgrader and jupyter_client: fails by name when an upgrade breaks it."""

from __future__ import annotations

import importlib
import inspect

import pytest

from autograder.pipeline.kernel_glue import CONTRACT, INSTANCE_ATTRIBUTE


@pytest.mark.parametrize("module,path,params", CONTRACT, ids=[f"{m}:{p}" for m, p, _ in CONTRACT])
def test_what_grading_relies_on_still_exists(module, path, params):
    obj = importlib.import_module(module)
    if params == (INSTANCE_ATTRIBUTE,):
        owner, name = path.rsplit(".", 1)
        cls = getattr(obj, owner)
        assert f"self.{name} =" in inspect.getsource(cls), f"{module}.{owner} no longer sets self.{name}"
        return
    for name in path.split("."):
        assert hasattr(obj, name), f"{module}.{path}: {name} is gone; grading relies on it (see autograder/pipeline/kernel_glue.py)"
        obj = getattr(obj, name)
    if params:
        signature = inspect.signature(obj)
        missing = [p for p in params if p not in signature.parameters]
        assert not missing, f"{module}.{path} no longer takes {missing}: {signature}"


def test_our_subclasses_override_only_contract_methods():
    from autograder.pipeline.preprocessors import SandboxExecute
    from autograder.pipeline.sandbox import SandboxedKernelManager

    allowed = {name.split(".")[-1] for _, name, _ in CONTRACT} | {"preprocess", "preprocess_cell"}
    ours = {"_event", "_fail", "_probe", "_omit_figure", "_figure_over_cap"}  # private helpers of our own, not overrides
    for cls, base in ((SandboxExecute, "nbgrader.preprocessors.Execute"), (SandboxedKernelManager, "jupyter_client.manager.AsyncKernelManager")):
        module, name = base.rsplit(".", 1)
        parent = getattr(importlib.import_module(module), name)
        overridden = {k for k in vars(cls) if callable(getattr(cls, k)) and hasattr(parent, k) and not k.startswith("__")}
        assert overridden - ours <= allowed, f"{cls.__name__} overrides {sorted(overridden - allowed - ours)}, not in the contract"
