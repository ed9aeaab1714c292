"""How far two honest trainings of the same code land apart: the audit's tolerance, measured.

The audit re-trains a submission's code and compares the loss and accuracy of the handed-in
weights with the retrained ones' on the first training examples
(``autograder.training.audit_metrics``). On the same machine and thread count the two are
bit-equal; elsewhere floating-point sums run in another order and training diverges as it
would from another seed. So the spread over seeds bounds what a change of machine can do,
and the tolerance must sit above it with a margin.

Each answer key runs end to end (nbclient, the answered student release, ``DLCOURSE_TRAINING=train``)
once per seed (``DLCOURSE_SEED``); every model's record holds its audit metrics. Models that the
notebook reseeds with a fixed seed (the experiments) train identically whatever the seed, so
only the models whose seed varies count towards the spread.

It then checks that the tolerance catches what it is for, on a real model (04's LeNet-5, the
notebook run up to its training cell): weights trained for three times the epochs the code
says, and the key's weights handed in with a student's code that trains one epoch.

    python benchmarks/scripts/audit_tolerance.py --seeds 0 1 2
    python benchmarks/scripts/audit_tolerance.py --detection-only     # the second part alone, into the same files
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "results" / "audit_tolerance"


def run_key(aid: str, seed: int) -> dict[str, dict]:
    """Audit metrics of every model the answer key of ``aid`` trains with ``seed``."""
    from nbclient import NotebookClient

    from autograder.environment import temporary_environment
    from autograder.pipeline.examples import answered_release
    from autograder.training import MODE_VARIABLE, RECORD_DIR, Mode

    with tempfile.TemporaryDirectory(prefix=f"tolerance-{aid}-{seed}-") as scratch:
        nb = answered_release(ROOT, aid)
        with temporary_environment({"DLCOURSE_SEED": str(seed), MODE_VARIABLE: Mode.TRAIN}):
            NotebookClient(nb, timeout=1800, resources={"metadata": {"path": scratch}}).execute()
        records = {}
        for path in sorted((Path(scratch) / RECORD_DIR).glob("*.json")):
            record = json.loads(path.read_text())
            records[record["name"]] = {"metrics": record["metrics"], "machine": record["machine"]["device"]}
        return records


DETECTION_AID, DETECTION_CELL, DETECTION_MODEL = "04_cnn", "train_lenet", "lenet5"
DETECTION_EDITS = {
    "the key's code (5 epochs)": [],
    "3x the epochs (15)": [("steps = 5 * int(", "steps = 15 * int("), ("epochs=5,", "epochs=15,")],
    "a student's code that trains 1 epoch": [("steps = 5 * int(", "steps = 1 * int("), ("epochs=5,", "epochs=1,")],
}


def run_until(aid: str, last_cell: str, edits: list[tuple[str, str]]) -> dict[str, dict]:
    """Audit metrics of the models trained by the answered release of ``aid`` run up to ``last_cell`` (with ``edits`` there)."""
    from nbclient import NotebookClient

    from autograder.environment import temporary_environment
    from autograder.pipeline.examples import answered_release
    from autograder.training import MODE_VARIABLE, RECORD_DIR, Mode

    nb = answered_release(ROOT, aid)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    nb.cells = nb.cells[: ids.index(last_cell) + 1]
    for old, new in edits:
        assert nb.cells[-1].source.count(old) == 1, old
        nb.cells[-1].source = nb.cells[-1].source.replace(old, new)
    with tempfile.TemporaryDirectory(prefix=f"detection-{aid}-") as scratch:
        with temporary_environment({MODE_VARIABLE: Mode.TRAIN}):
            NotebookClient(nb, timeout=1800, resources={"metadata": {"path": scratch}}).execute()
        return {p.stem: json.loads(p.read_text())["metrics"] for p in (Path(scratch) / RECORD_DIR).glob("*.json")}


def detection() -> dict:
    """What the audit says when the handed-in LeNet-5 came from other training than the code's (the key's code retrained)."""
    from autograder.training import DEFAULT_TOLERANCE

    metrics = {label: run_until(DETECTION_AID, DETECTION_CELL, edits)[DETECTION_MODEL] for label, edits in DETECTION_EDITS.items()}
    honest = metrics["the key's code (5 epochs)"]
    cases = {}
    for label, handed_in in metrics.items():
        if label.startswith("the key's code"):
            continue
        retrained = honest if label.startswith("3x") else metrics["a student's code that trains 1 epoch"]
        handed = handed_in if label.startswith("3x") else honest
        cases[label] = {"handed_in": handed, "retrained": retrained, "flagged": not DEFAULT_TOLERANCE.allows(handed, retrained)}
    return cases


def spreads(runs: dict[int, dict[str, dict]]) -> dict[str, dict]:
    """Per model: the largest difference between two seeds, absolute for accuracy and relative for the loss."""
    models = sorted(set.intersection(*(set(r) for r in runs.values())))
    out = {}
    for name in models:
        values = [runs[s][name]["metrics"] for s in sorted(runs)]
        accuracy = max((abs(a.get("accuracy", 0) - b.get("accuracy", 0)) for a, b in itertools.combinations(values, 2)), default=0.0)
        loss = max((abs(a["loss"] - b["loss"]) / max(min(a["loss"], b["loss"]), 1e-3) for a, b in itertools.combinations(values, 2)), default=0.0)
        out[name] = {"accuracy": accuracy, "loss": loss, "varies_with_seed": accuracy > 0 or loss > 0, "values": values}
    return out


def margins(tolerance: dict, worst: dict) -> dict:
    """How many times the tolerance covers the largest honest spread: accuracy as a difference, loss as a log-ratio."""
    return {
        "accuracy": tolerance["accuracy"] / worst["accuracy"] if worst["accuracy"] else math.inf,
        "loss": math.log1p(tolerance["loss"]) / math.log1p(worst["loss"]) if worst["loss"] else math.inf,
    }


def render(payload: dict) -> str:
    lines = [
        "# The audit's tolerance: two honest trainings, other seeds",
        "",
        f"{payload['machine']}, {payload['date']}; seeds {', '.join(map(str, payload['seeds']))}. Metrics on the first 2,048",
        "training examples, as the audit computes them. Largest difference between two seeds, per model (models the",
        "notebook reseeds with a fixed seed train identically and are marked so).",
        "",
        "| assignment | model | accuracy, largest difference | loss, largest relative difference |",
        "|---|---|---|---|",
    ]
    for aid, models in payload["spreads"].items():
        for name, s in models.items():
            note = "" if s["varies_with_seed"] else " (fixed seed)"
            lines.append(f"| {aid} | {name}{note} | {s['accuracy']:.4f} | {s['loss']:.1%} |")
    for label, case in payload.get("detection", {}).items():
        lines.append("")
        lines.append(
            f"Detection, {DETECTION_AID}'s LeNet-5, handed in: {label}: loss {case['handed_in']['loss']:.4f} / accuracy "
            f"{case['handed_in']['accuracy']:.4f} against {case['retrained']['loss']:.4f} / {case['retrained']['accuracy']:.4f} "
            f"retrained: {'flagged' if case['flagged'] else 'NOT flagged'}."
        )
    worst = payload["worst"]
    lines += [
        "",
        f"Largest over every model whose seed varies: accuracy {worst['accuracy']:.4f}, loss {worst['loss']:.1%}.",
        f"The shipped tolerance (`autograder.training.AuditTolerance`): accuracy ±{payload['tolerance']['accuracy']}, "
        f"loss within a factor {1 + payload['tolerance']['loss']:g} either way: {payload['margin']['accuracy']:.1f}x the largest "
        f"accuracy spread, and {payload['margin']['loss']:.1f}x the largest loss ratio (as logarithms).",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from autograder.course import assignments_that_train
    from autograder.runtime import _cpu_model
    from autograder.training import DEFAULT_TOLERANCE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment that trains a graded model")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--detection-only", action="store_true", help="only the detection part, merged into the existing files")
    args = parser.parse_args()
    if args.detection_only:
        payload = json.loads(OUT.with_suffix(".json").read_text())
        payload["tolerance"] = {"accuracy": DEFAULT_TOLERANCE.accuracy, "loss": DEFAULT_TOLERANCE.loss}
        payload["margin"] = margins(payload["tolerance"], payload["worst"])
        payload["detection"] = detection()
        OUT.with_suffix(".json").write_text(json.dumps(payload, indent=1) + "\n")
        OUT.with_suffix(".md").write_text(render(payload))
        print(render(payload))
        return
    result = {}
    for aid in args.assignments or assignments_that_train(ROOT):
        runs = {seed: run_key(aid, seed) for seed in args.seeds}
        result[aid] = spreads(runs)
        print(aid, json.dumps({k: {"accuracy": v["accuracy"], "loss": v["loss"]} for k, v in result[aid].items()}), flush=True)
    varying = [s for models in result.values() for s in models.values() if s["varies_with_seed"]]
    worst = {"accuracy": max((s["accuracy"] for s in varying), default=0.0), "loss": max((s["loss"] for s in varying), default=0.0)}
    tolerance = {"accuracy": DEFAULT_TOLERANCE.accuracy, "loss": DEFAULT_TOLERANCE.loss}
    payload = {
        "machine": f"{_cpu_model()}, {len(os.sched_getaffinity(0))} cores",
        "date": date.today().isoformat(),
        "seeds": args.seeds,
        "spreads": result,
        "worst": worst,
        "tolerance": tolerance,
        "margin": margins(tolerance, worst),
        "detection": detection(),
    }
    OUT.with_suffix(".json").write_text(json.dumps(payload, indent=1) + "\n")
    OUT.with_suffix(".md").write_text(render(payload))
    print(render(payload))


if __name__ == "__main__":
    main()
