"""One training epoch of the course's CNNs with Keras on TensorFlow, JAX and PyTorch, on this machine's CPU.

The models are the answer keys' own: each builder (``build_lenet5``, ``build_small_cnn``,
``build_regularized_cnn``) is taken from its solution cell in ``source_notebooks/`` and
trained on all 60,000 Fashion-MNIST images with the batch size its notebook uses, Adam,
for a first epoch (compilation included) and steady-state epochs (the median is
reported). Each backend runs in a process of its own, one after the other, so the CPU is
shared with nothing else of this script's.

    python benchmarks/scripts/backend_epochs.py                  # all backends, writes benchmarks/results/backend_epochs.{json,md}
    python benchmarks/scripts/backend_epochs.py --backend jax    # one backend, prints its JSON row

Two TensorFlow levers are timed too, on 04's small CNN (the course's costliest epoch): the
notebooks' deterministic ops (``tf.config.experimental.enable_op_determinism``, which
``setup_notebook`` turns on so a student's rerun gives the same numbers) and XLA
(``jit_compile=True``), and smaller batches than the notebook's 256.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = ("tensorflow", "jax", "torch")
# (notebook, grade id of the builder's cell, builder, grade id of the cell that trains it)
MODELS = [
    ("04_cnn", "lenet", "build_lenet5", "train_lenet"),
    ("04_cnn", "small_cnn", "build_small_cnn", "train_cnn"),
    ("05_regularization", "final_cnn", "build_regularized_cnn", "train_final_cnn"),
]


def _cell(assignment: str, grade_id: str) -> str:
    import nbformat

    nb = nbformat.read(ROOT / "source_notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    return cell.source


def builder_source(assignment: str, grade_id: str) -> str:
    """The builder's cell (every builder has a cell of its own), without nbgrader's solution markers."""
    lines = _cell(assignment, grade_id).splitlines()
    return "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def batch_size(assignment: str, training_cell: str) -> int:
    """The batch size the training cell uses: ``batch_size=N``, ``batch_size = N`` or ``epochs, batch_size = E, N``."""
    source = _cell(assignment, training_cell)
    found = re.findall(r"epochs, batch_size = \d+, (\d+)", source) or re.findall(r"batch_size\s*=\s*(\d+)", source)
    if not found:
        raise ValueError(f"{assignment}/{training_cell}: no batch size found")
    return int(found[0])


LEVERS = {
    "none (batch 256, as the notebook)": {},
    "deterministic ops": {"deterministic": True},
    "jit_compile": {"jit_compile": True},
    "batch 128": {"batch": 128},
    "batch 64": {"batch": 64},
}


def one_backend(epochs: int, deterministic: bool = False, jit_compile: bool = False, only: str | None = None, batch: int | None = None) -> dict:
    sys.path.insert(0, str(ROOT))
    from autograder.runtime import seed_everything

    seed_everything(0, deterministic=deterministic)
    import keras
    import numpy as np
    from keras import layers

    from autograder.data import load_fashion_mnist

    (x_train, y_train), _ = load_fashion_mnist()
    x_train = (x_train[..., None] / 255.0).astype("float32")
    rows = []
    for assignment, grade_id, builder, training_cell in MODELS:
        if only and builder != only:
            continue
        namespace = {"keras": keras, "layers": layers, "np": np}
        exec(builder_source(assignment, grade_id), namespace)
        model = namespace[builder]()
        batch = batch or batch_size(assignment, training_cell)
        model.compile(
            optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile or "auto"
        )
        times = []
        for _ in range(epochs):
            start = time.perf_counter()
            model.fit(x_train, y_train, batch_size=batch, epochs=1, verbose=0)
            times.append(time.perf_counter() - start)
        rows.append(
            {
                "assignment": assignment,
                "model": builder,
                "parameters": model.count_params(),
                "batch_size": batch,
                "first_epoch_s": round(times[0], 2),
                "steady_epoch_s": round(float(np.median(times[1:])), 2),
            }
        )
    return {"backend": keras.backend.backend(), "version": _version(keras.backend.backend()), "keras": keras.__version__, "rows": rows}


def _version(backend: str) -> str:
    import importlib

    return importlib.import_module({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]).__version__


def markdown(results: list[dict], machine: str, levers: dict[str, dict] | None = None) -> str:
    lines = [
        "# One epoch of the course's CNNs on each Keras backend (CPU)",
        "",
        f"{machine} · {date.today().isoformat()} · all 60,000 Fashion-MNIST training images, Adam, the notebook's batch size;",
        "steady state = median of the epochs after the first (`python benchmarks/scripts/backend_epochs.py`).",
        "",
        "| model | parameters | batch | " + " | ".join(f"{r['backend']} {r['version']} first / steady (s)" for r in results) + " |",
        "|---|---|---|" + "---|" * len(results),
    ]
    for i, row in enumerate(results[0]["rows"]):
        cells = [f"{r['rows'][i]['first_epoch_s']:.1f} / **{r['rows'][i]['steady_epoch_s']:.1f}**" for r in results]
        lines.append(f"| {row['assignment']} `{row['model']}` | {row['parameters']:,} | {row['batch_size']} | " + " | ".join(cells) + " |")
    base = {row["model"]: row["steady_epoch_s"] for row in results[0]["rows"]}
    lines += ["", f"Steady epoch relative to {results[0]['backend']} (lower is faster):", ""]
    for r in results[1:]:
        ratios = ", ".join(f"{row['model']} {row['steady_epoch_s'] / base[row['model']]:.2f}×" for row in r["rows"])
        lines.append(f"- {r['backend']}: {ratios}")
    if levers:
        plain = next(iter(levers.values()))  # the first lever is none: the baseline, timed in the same pass
        lines += [
            "",
            "TensorFlow levers on 04's `build_small_cnn`, timed one after the other in a second pass (first / steady epoch, s;",
            "ratio of steady epochs to the pass's own baseline, the first line). This VM's speed changes by up to 2x within",
            "minutes, so only ratios within one pass are meaningful, and only large ones.",
            "",
        ]
        for name, row in levers.items():
            ratio = row["steady_epoch_s"] / plain["steady_epoch_s"]
            lines.append(f"- {name}: {row['first_epoch_s']:.1f} / **{row['steady_epoch_s']:.1f}** ({ratio:.2f}×)")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS, help="run one backend in this process and print its JSON")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lever", choices=sorted(LEVERS), help="with --backend tensorflow: time 04's small CNN with this lever")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--levers-only", action="store_true", help="keep the backend rows of the existing JSON; time the levers again")
    args = parser.parse_args()
    if args.backend:
        lever = LEVERS[args.lever] if args.lever else {}
        print(json.dumps(one_backend(args.epochs, only="build_small_cnn" if args.lever else None, **lever)))
        return

    def run(backend: str, *extra: str) -> dict:
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        command = [sys.executable, __file__, "--backend", backend, "--epochs", str(args.epochs), *extra]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"{backend} {' '.join(extra)} failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{backend} {' '.join(extra)}: " + ", ".join(f"{r['model']} {r['steady_epoch_s']} s" for r in result["rows"]), flush=True)
        return result

    if args.levers_only:
        results = json.loads((args.out / "backend_epochs.json").read_text())["results"]
    else:
        results = [run(backend) for backend in BACKENDS]
    levers = {name: run("tensorflow", "--lever", name)["rows"][0] for name in LEVERS}
    sys.path.insert(0, str(ROOT))
    from autograder.runtime import device_report

    device = device_report()
    machine = f"{platform.machine()} CPU ({device.cpu}, {device.cores} cores)"
    (args.out / "backend_epochs.json").write_text(
        json.dumps({"machine": machine, "date": date.today().isoformat(), "results": results, "tensorflow_levers": levers}, indent=1) + "\n"
    )
    (args.out / "backend_epochs.md").write_text(markdown(results, machine, levers))
    print((args.out / "backend_epochs.md").read_text())


if __name__ == "__main__":
    main()
