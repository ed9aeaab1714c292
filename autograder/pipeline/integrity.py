"""Defences against a submission that tries to award itself points.

The tests run in the student's own kernel (as in nbgrader and Otter), so a
submission can in principle change anything the tests rely on. Three layers,
each cheap, each reported:

1. **Static scan** (:mod:`.static_scan`) of every cell the student could edit,
   before anything runs. Constructs with no innocent use in homework
   (``np.allclose = ...``, ``def check_close(...)``, trace hooks, ...) withhold
   the points; the rest is listed for review with the points kept. The rule
   is applied in :mod:`.scoring`.
2. **Fresh names in every test cell** (:func:`guard_source`): nbgrader restores
   the test cells from the source; we then prepend the read-only cells' import
   statements (so ``check_close`` or ``np`` redefined by the student is bound
   again) and append a line printing a random nonce chosen by the grader for
   this run. A test cell counts only if its nonce comes back: an exception
   swallowed by a custom handler, or a cell cut short, earns nothing.
3. **Integrity probes** run by the grader between cells (not part of the
   notebook): identities of every function in ``numpy``, ``numpy.testing``,
   ``autograder.checks`` and ``builtins``, the ``sys.modules`` entries, trace
   and profile hooks, ``sys.excepthook``, IPython's input/AST transformers,
   event callbacks, custom exception handlers and shell methods. The
   snapshot taken before the first student cell stays in the grader's process;
   a test cell after which anything differs gets an ``IntegrityError`` output
   and the submission is ``tampered`` (every autograded point withheld).

Residual risk: the student's code runs in the same process as the tests and
could in principle undo its changes before each probe (a background thread
timed to the tests) or forge a probe's output by anticipating it. The layers
make this take deliberate effort that the static scan and the saved
notebook expose to the instructor; they do not make it impossible.
"""

from __future__ import annotations

import json
import secrets

from .nbgrader_cells import Delimiters, grade_id, is_locked, strip_hidden

GUARD_BEGIN = "# >>> dlcourse guard (added by the grader)"
GUARD_END = "# <<< dlcourse guard"
NONCE_PREFIX = "dlcourse-nonce-"


# --------------------------------------------------------------- guarded test cells


def new_nonce() -> str:
    return NONCE_PREFIX + secrets.token_hex(16)


def guard_source(source: str, imports: list[str], nonce: str) -> str:
    prelude = "\n".join(imports)
    return f"{GUARD_BEGIN}\n{prelude}\n{GUARD_END}\n{source}\n{GUARD_BEGIN}\nprint({nonce!r})\n{GUARD_END}"


def take_nonce(cell, nonce: str) -> bool:
    """Remove ``nonce`` from the cell's stdout; return whether it was there."""
    found = False
    for output in list(cell.get("outputs", [])):
        if output.get("output_type") == "stream" and nonce in output.get("text", ""):
            found = True
            output["text"] = output["text"].replace(nonce + "\n", "").replace(nonce, "")
            if not output["text"]:
                cell.outputs.remove(output)
    return found


PROBE_CODE = r"""
def __dlcourse_probe(tag):
    import builtins, json, sys, threading
    import numpy, numpy.testing, numpy.linalg, autograder.checks, autograder.training
    out = {}
    names = ["builtins", "numpy", "numpy.testing", "numpy.linalg", "math"] + sorted(
        n for n in list(sys.modules) if n.split(".")[:2] in (["autograder", "checks"], ["autograder", "training"]))
    for name in names:
        module = sys.modules.get(name)
        out["sys.modules:" + name] = id(module)
        if module is not None:
            for key, value in list(vars(module).items()):
                if callable(value) or key in ("__builtins__",):
                    out[name + "." + key] = id(value)
    out["sys.gettrace"] = repr(sys.gettrace())
    out["sys.getprofile"] = repr(sys.getprofile())
    out["threading.trace"] = repr(getattr(threading, "_trace_hook", None))
    out["threading.profile"] = repr(getattr(threading, "_profile_hook", None))
    out["sys.excepthook"] = id(sys.excepthook)
    ip = get_ipython() if "get_ipython" in globals() else None
    if ip is not None:
        for attr in ("input_transformers_cleanup", "input_transformers_post", "ast_transformers"):
            out["ip." + attr] = [id(t) for t in getattr(ip, attr, [])]
        out["ip.custom_exceptions"] = repr(getattr(ip, "custom_exceptions", ()))
        out["ip.CustomTB"] = id(getattr(type(ip), "CustomTB", None)) if "CustomTB" not in vars(ip) else "instance"
        out["ip.events"] = {k: [id(f) for f in v] for k, v in ip.events.callbacks.items()}
        out["ip.instance_methods"] = sorted(k for k, v in vars(ip).items() if callable(v) and not isinstance(v, type))
        for cls in type(ip).__mro__:
            for key, value in list(vars(cls).items()):
                if callable(value):
                    out["ip.class." + cls.__name__ + "." + key] = id(value)
    print(tag + json.dumps(out, sort_keys=True))
"""


def probe_cell_source(tag: str) -> str:
    """Code the grader runs in the kernel: defines the probe afresh each time and calls it."""
    return PROBE_CODE + f"\n__dlcourse_probe({tag!r})\ndel __dlcourse_probe\n"


def read_probe(text: str, tag: str) -> dict | None:
    for line in text.splitlines():
        if line.startswith(tag):
            try:
                return json.loads(line[len(tag) :])
            except json.JSONDecodeError:
                return None
    return None


def compare(snapshot: dict, current: dict | None) -> list[str]:
    """What changed since the snapshot (only keys the snapshot had)."""
    if current is None:
        return ["the integrity probe's report did not come back (output hijacked or kernel tampered with)"]
    changed = []
    # ipykernel resets input/excepthook per request; matplotlib and Keras register event callbacks legitimately
    volatile = {"builtins.input", "builtins.raw_input", "builtins.getpass", "sys.excepthook", "ip.events"}
    for key, before in snapshot.items():
        if key in volatile:
            continue
        if key == "ip.instance_methods":
            extra = sorted(set(current.get(key, [])) - set(before))
            if extra:
                changed.append(f"IPython shell methods replaced: {', '.join(extra)}")
        elif current.get(key) != before:
            changed.append(f"{key} changed")
    return changed


def test_cell_changes(submitted_nb, source_nb, marks: Delimiters | None = None) -> list[str]:
    """What the student did to the read-only cells (nbgrader restores them; the instructor should know)."""

    def locked(nb):
        return [(grade_id(c), c) for c in nb.cells if grade_id(c) and is_locked(c)]

    expected = locked(source_nb)
    got = locked(submitted_nb)
    want_ids = [i for i, _ in expected]
    got_ids = [i for i, _ in got]
    notes = []
    missing = [i for i in want_ids if i not in got_ids]
    if missing:
        notes.append(f"read-only cell(s) deleted: {', '.join(missing)} (nbgrader added them back and gives them 0)")
    dupes = sorted({i for i in got_ids if got_ids.count(i) > 1})
    if dupes:
        notes.append(f"cell(s) duplicated: {', '.join(dupes)} (only the first copy is graded)")
    present = [i for i in dict.fromkeys(got_ids) if i in want_ids]
    if present != [i for i in want_ids if i in present]:
        notes.append("read-only cells reordered (graded in the student's order)")

    def norm(text):
        return [line.rstrip() for line in text.splitlines() if line.strip()]

    source_of = {i: norm(strip_hidden(c.source, marks)) for i, c in expected}
    first = dict(reversed(got))
    edited = [i for i in want_ids if i in first and norm(first[i].source) != source_of[i]]
    if edited:
        notes.append(f"read-only cell(s) edited: {', '.join(edited)} (nbgrader restored the original)")
    return notes


def drop_duplicate_cells(nb) -> None:
    """Keep the first cell of each grade id; later copies become plain cells (nbgrader refuses the notebook otherwise)."""
    seen = set()
    for cell in nb.cells:
        cell_id = grade_id(cell)
        if cell_id in seen:
            del cell.metadata["nbgrader"]
        elif cell_id:
            seen.add(cell_id)
