"""What decides a model's trained weights, as SHA-256 digests: the training code, the architecture, the data, the seed.

The code's digest covers the training function's source and, by name, every notebook function,
constant, array and Keras object (by its config, or the arguments it was made with) it uses, and
the methods of a model class written in the notebook (its own ``train_step``), so a change to any
of them after training is seen; layer names that Keras numbers by what else the
session built are left out of the architecture's.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import types


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def array_digest(array) -> str:
    import numpy as np

    array = np.ascontiguousarray(np.asarray(array))
    digest = hashlib.sha256(f"{array.dtype.str}{array.shape}".encode())
    digest.update(memoryview(array).cast("B") if array.size else b"")
    return digest.hexdigest()


def _without_names(value):
    """A Keras config without the auto-numbered names (``dense_3``) that change with what else the session built."""
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items() if k not in ("name", "keras_history")}
    if isinstance(value, list | tuple):
        return [_without_names(v) for v in value]
    return value


def _layers(model) -> list:
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        found += _layers(layer)
    return found


def architecture_summary(model) -> list[dict]:
    """Per layer, in order: its class, its configuration (names left out) and the shapes of its weights."""
    return [
        {
            "class": type(layer).__name__,
            "config": _without_names(layer.get_config()),
            "weights": [list(w.shape) for w in layer.weights],
        }
        for layer in _layers(model)
    ]


def _code_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def describe(value, seen: set[int], depth: int = 0) -> str | None:
    """A stable text for a value the training code uses, or ``None`` for what does not shape training (modules, classes)."""
    import numpy as np

    if depth > 4:
        return None
    if isinstance(value, functools.partial):
        return f"partial({describe(value.func, seen, depth + 1)}, {[describe(a, seen, depth + 1) for a in value.args]}, {sorted((k, describe(v, seen, depth + 1)) for k, v in value.keywords.items())})"
    if isinstance(value, types.FunctionType):
        if value.__module__ not in ("__main__", None) and not value.__module__.startswith("__main__"):
            return None  # a library's function: its version is recorded, not its source
        if id(value) in seen:
            return f"<recursion {value.__name__}>"
        seen.add(id(value))
        return _function_text(value, seen, depth + 1)
    if value is None or isinstance(value, bool | int | float | complex | str | bytes):
        return repr(value)
    if isinstance(value, np.ndarray | np.generic):
        return f"array {array_digest(value)}"
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return f"{type(value).__name__}[{', '.join(str(describe(v, seen, depth + 1)) for v in list(items)[:1000])}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v, seen, depth + 1)}" for k, v in list(value.items())[:1000]) + "}"
    if isinstance(value, type | types.ModuleType):
        return None
    if hasattr(value, "get_config"):
        try:
            config = value.get_config()
        except Exception:  # an object whose config needs it built, or a custom class without one
            return type(value).__name__
        return f"{type(value).__name__}{json.dumps(_without_names(config), sort_keys=True, default=str)}"
    return _by_constructor(value, seen, depth)


def _by_constructor(value, seen: set[int], depth: int) -> str | None:
    """An object without a config (a Keras callback) by the arguments it was made with, kept as attributes of the same name."""
    try:
        parameters = inspect.signature(type(value).__init__).parameters
    except (TypeError, ValueError):
        return None
    described = {}
    for name in parameters:
        if name not in ("self", "args", "kwargs") and name in getattr(value, "__dict__", {}):
            described[name] = describe(getattr(value, name), seen, depth + 1)
    return f"{type(value).__name__}{described}" if described else None


def _function_text(fn, seen: set[int], depth: int = 0) -> str:
    """The function's source, then every notebook function, constant and array it uses, by name."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):  # defined where no source is kept (exec of a string)
        source = fn.__code__.co_code.hex()
    lines = [source]
    namespace = getattr(fn, "__globals__", {})
    for name in sorted(_code_names(fn.__code__)):
        if name in namespace:
            text = describe(namespace[name], seen, depth)
            if text is not None:
                lines.append(f"{name} = {text}")
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=False):
        try:
            lines.append(f"{name} = {describe(cell.cell_contents, seen, depth)}")
        except ValueError:  # an empty closure cell
            pass
    if fn.__defaults__:
        lines.append(f"defaults = {describe(fn.__defaults__, seen, depth)}")
    if fn.__kwdefaults__:
        lines.append(f"kwdefaults = {describe(fn.__kwdefaults__, seen, depth)}")
    return "\n".join(lines)


def training_code(train) -> str:
    """What the fingerprint holds of the training code: its source and what it uses from the notebook."""
    if isinstance(train, functools.partial):
        return describe(train, set()) or ""
    return _function_text(train, set())


def model_class_code(model) -> str:
    """The methods of the model's class and its bases written in the notebook (a ``train_step`` of yours), else ``""``."""
    texts = []
    for klass in type(model).__mro__:
        if not klass.__module__.startswith("__main__"):
            continue
        for name, member in sorted(vars(klass).items()):
            if isinstance(member, types.FunctionType):
                texts.append(f"{klass.__name__}.{name}: {_function_text(member, set())}")
    return "\n".join(texts)


def _seed() -> int:
    from ..runtime import run_seed

    return run_seed(0)


def fingerprint(model, train, data) -> dict[str, str]:
    """The four things that decide the trained weights, each as a SHA-256: code, architecture, data and seed."""
    return {
        "code": _sha(training_code(train) + model_class_code(model)),  # the class part is empty for Keras's own models
        "architecture": _sha(json.dumps(architecture_summary(model), sort_keys=True, default=str)),
        "data": _sha("".join(array_digest(part) for part in data_parts(data))),
        "seed": str(_seed()),
    }


FINGERPRINT_WORDS = {
    "code": "the training code (or a notebook function or constant it uses) changed since it was trained",
    "architecture": "the model built now is not the one that was trained",
    "data": "the training data differ from what it was trained on",
    "seed": "the seed (DLCOURSE_SEED) differs",
}


def data_parts(data) -> list:
    if isinstance(data, dict):
        return [data[k] for k in sorted(data)]
    if isinstance(data, list | tuple):
        return list(data)
    return [data]
