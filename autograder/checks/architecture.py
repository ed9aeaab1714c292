"""``check_architecture``: compare a Keras model, layer by layer, with a specification."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .diagnoses import DiagnosedFailure, Diagnosis

LayerSpec = Mapping[str, Any]
"""One expected layer: ``type`` (class name), optional ``output_shape`` (without
the batch axis), ``params`` (parameter count) and any key of the layer's
``get_config()`` to compare, e.g. ``units``, ``activation``, ``filters``,
``kernel_size``, ``strides``, ``padding``, ``pool_size``, ``rate``."""

_SHAPE_KEYS = ("type", "output_shape", "params")


class ArchitectureError(DiagnosedFailure):
    pass


def _normalise(value):
    if isinstance(value, (list, tuple)):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, Mapping) and "class_name" in value:  # serialised activation or initializer
        inner = value.get("config", {})
        return inner.get("name", value["class_name"]) if isinstance(inner, Mapping) else value["class_name"]
    return value


def _output_shape(layer) -> tuple | None:
    try:
        shape = layer.output.shape
    except Exception:  # a layer that was never called on a symbolic input
        return None
    return tuple(shape[1:])


def describe_model(model) -> list[dict[str, Any]]:
    """The model's layers (input layers left out) as dicts comparable with a spec."""
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        config = layer.get_config()
        rows.append(
            {
                "type": type(layer).__name__,
                "output_shape": _output_shape(layer),
                "params": layer.count_params() if layer.built else None,
                "config": {k: _normalise(v) for k, v in config.items()},
            }
        )
    return rows


def _compare(expected: LayerSpec, actual: dict[str, Any] | None) -> list[tuple[Diagnosis, str]]:
    if actual is None:
        return [(Diagnosis.LAYER_MISSING, "layer missing")]
    problems = []
    if expected["type"] != actual["type"]:
        return [(Diagnosis.LAYER_TYPE, f"type {actual['type']}, expected {expected['type']}")]
    if "output_shape" in expected and tuple(expected["output_shape"]) != actual["output_shape"]:
        problems.append((Diagnosis.LAYER_CONFIG, f"output shape {actual['output_shape']}, expected {tuple(expected['output_shape'])}"))
    if "params" in expected and expected["params"] != actual["params"]:
        problems.append((Diagnosis.LAYER_CONFIG, f"{actual['params']} parameters, expected {expected['params']}"))
    for key, want in expected.items():
        if key in _SHAPE_KEYS:
            continue
        have = actual["config"].get(key, "<not set>")
        if _normalise(want) != have:
            code = Diagnosis.ACTIVATION if key == "activation" else Diagnosis.LAYER_CONFIG
            problems.append((code, f"{key}={have!r}, expected {_normalise(want)!r}"))
    return problems


def _fmt_shape(shape) -> str:
    return "?" if shape is None else "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def _table(expected: Sequence[LayerSpec], actual: list[dict[str, Any]], problems: list[list[tuple[Diagnosis, str]]], first_bad: int | None) -> str:
    header = f"{'#':>2}  {'expected':<34} {'yours':<34} {'':<3}"
    lines = [header, "-" * len(header)]
    for i in range(max(len(expected), len(actual))):
        exp = expected[i] if i < len(expected) else None
        act = actual[i] if i < len(actual) else None
        left = f"{exp['type']} {_fmt_shape(exp.get('output_shape'))} {exp.get('params', '')}" if exp else "(none)"
        right = f"{act['type']} {_fmt_shape(act['output_shape'])} {act['params']}" if act else "(none)"
        mark = "ok" if i < len(problems) and not problems[i] else "✗"
        if i >= len(expected):
            mark = "✗"
        lines.append(f"{i:>2}  {left:<34} {right:<34} {mark:<3}" + ("  <- first mismatch" if i == first_bad else ""))
    return "\n".join(lines)


def check_architecture(model, expected: Sequence[LayerSpec], *, name: str = "model", quiet: bool = False) -> None:
    """Assert that ``model``'s layers match ``expected``, one spec per layer (input layers skipped).

    On a mismatch the error holds a side-by-side table (type, output shape,
    parameter count) marking the first wrong layer, and what is wrong with it.
    """
    if not hasattr(model, "layers"):
        raise ArchitectureError(
            f"{name}: expected a Keras model, got {type(model).__name__}. Did the function return the model?", Diagnosis.NOTHING_RETURNED
        )
    actual = describe_model(model)
    unbuilt = [row["type"] for row in actual if row["output_shape"] is None]
    if unbuilt and any("output_shape" in spec for spec in expected):
        raise ArchitectureError(
            f"{name}: the model has not been built, so layer shapes are unknown. Start it with "
            "keras.Input(shape=...) (or call model.build) before returning it.",
            Diagnosis.MODEL_NOT_BUILT,
        )
    problems = [_compare(spec, actual[i] if i < len(actual) else None) for i, spec in enumerate(expected)]
    first_bad = next((i for i, p in enumerate(problems) if p), None)
    if first_bad is None and len(actual) > len(expected):
        first_bad = len(expected)
        problems.append([(Diagnosis.LAYER_EXTRA, f"extra layer {actual[first_bad]['type']}: the specification has {len(expected)} layers")])
    if first_bad is not None:
        detail = "; ".join(text for _, text in problems[first_bad])
        raise ArchitectureError(
            f"{name}: layer {first_bad} does not match the specification: {detail}.\n" + _table(expected, actual, problems, first_bad),
            problems[first_bad][0][0],
        )
    if not quiet:
        total = sum(row["params"] or 0 for row in actual)
        print(f"✓ {name}: {len(actual)} layers match the specification ({total:,} parameters)")
