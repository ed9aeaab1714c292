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

    python benchmarks/audit_tolerance.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "audit_tolerance"
DEFAULT = ["01_logistic_regression", "03_mlp", "04_cnn", "05_regularization", "06_lstm"]


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
    worst = payload["worst"]
    lines += [
        "",
        f"Largest over every model whose seed varies: accuracy {worst['accuracy']:.4f}, loss {worst['loss']:.1%}.",
        f"The shipped tolerance (`autograder.training.AuditTolerance`): accuracy ±{payload['tolerance']['accuracy']}, "
        f"loss ±{payload['tolerance']['loss']:.0%}: {payload['margin']['accuracy']:.1f}x and {payload['margin']['loss']:.1f}x the largest spread.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    from autograder.runtime import _cpu_model
    from autograder.training import DEFAULT_TOLERANCE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=DEFAULT)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    result = {}
    for aid in args.assignments:
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
        "margin": {k: tolerance[k] / worst[k] if worst[k] else float("inf") for k in worst},
    }
    OUT.with_suffix(".json").write_text(json.dumps(payload, indent=1) + "\n")
    OUT.with_suffix(".md").write_text(render(payload))
    print(render(payload))


if __name__ == "__main__":
    main()
