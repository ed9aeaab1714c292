"""Epoch times of the course's recurrent and convolutional models, CPU against GPU, and the cuDNN LSTM path.

Runs on any Keras 3 backend. The lent GPU machines have JAX with CUDA but no
TensorFlow and no network, so the figures in gpu_probe_h100_jax.json were taken with
KERAS_BACKEND=jax; on a course machine with `tensorflow[and-cuda]` run it as is.

    KERAS_BACKEND=jax python benchmarks/scripts/gpu_probe.py --out benchmarks/results/gpu_probe.json
    python benchmarks/scripts/gpu_probe.py --render benchmarks/results/gpu_probe_h100_jax.json   # the .md again

Writes the JSON and, beside it, a Markdown table of the steady-state epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np


def fashion_rows(n_train: int):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from autograder.data import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist(download=False)
    return (x_train[:n_train] / 255.0).astype("float32"), y_train[:n_train], (x_test / 255.0).astype("float32"), y_test


def lstm_model(keras, **lstm_kwargs):
    return keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.LSTM(128, **lstm_kwargs), keras.layers.Dense(10, activation="softmax")])


def cnn_model(keras):
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def time_epochs(keras, model, x, y, epochs: int = 3, batch_size: int = 256):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        history = model.fit(x, y, epochs=1, batch_size=batch_size, verbose=0)
        times.append(time.perf_counter() - start)
    return {
        "first_epoch_s": round(times[0], 3),
        "steady_epoch_s": round(float(np.median(times[1:])), 3),
        "train_accuracy": round(float(history.history["accuracy"][-1]), 4),
    }


def jax_cudnn_lstm_used(keras) -> str:
    """Ask Keras's JAX backend whether its fused cuDNN LSTM runs for a default LSTM layer."""
    if keras.backend.backend() != "jax":
        return "n/a (not the JAX backend)"
    import importlib

    import jax.numpy as jnp

    rnn = importlib.import_module("keras.src.backend.jax.rnn")  # the package re-exports a function of the same name

    layer = keras.layers.LSTM(8)
    layer.build((2, 5, 3))
    cell = layer.cell
    try:
        rnn.lstm(
            jnp.ones((2, 5, 3)),
            jnp.zeros((2, 8)),
            jnp.zeros((2, 8)),
            None,
            cell.kernel,
            cell.recurrent_kernel,
            cell.bias,
            cell.activation,
            cell.recurrent_activation,
        )
        return "yes"
    except NotImplementedError as exc:
        return f"no ({exc or 'conditions not met'})"


def measure(n_train: int) -> dict:
    import keras

    x, y, _, _ = fashion_rows(n_train)
    results = {"backend": keras.backend.backend(), "keras": keras.__version__, "n_train": n_train}
    if keras.backend.backend() == "jax":
        import jax

        results["devices"] = [str(d) for d in jax.devices()]
        results["cudnn_lstm"] = jax_cudnn_lstm_used(keras)
    keras.utils.set_random_seed(0)
    experiments = {
        "lstm_fused_eligible": lambda: time_epochs(keras, lstm_model(keras), x, y),
        "lstm_recurrent_dropout": lambda: time_epochs(keras, lstm_model(keras, recurrent_dropout=0.1), x, y),
        "cnn": lambda: time_epochs(keras, cnn_model(keras), x[..., None], y),
        "lstm_mixed_float16": lambda: time_epochs(keras, lstm_model(keras), x, y),
        "cnn_mixed_float16": lambda: time_epochs(keras, cnn_model(keras), x[..., None], y),
    }
    for label, run in experiments.items():
        keras.mixed_precision.set_global_policy("mixed_float16" if "mixed" in label else "float32")
        try:
            results[label] = run()
        except Exception as exc:  # record the failure and go on: one broken path must not hide the others
            results[label] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    return results


EXPERIMENTS = {
    "lstm_fused_eligible": "LSTM(128), cuDNN-eligible (defaults)",
    "lstm_recurrent_dropout": "LSTM(128), recurrent_dropout=0.1 (generic kernel)",
    "cnn": "small CNN (2 conv + 2 dense)",
    "lstm_mixed_float16": "LSTM(128), mixed_float16",
    "cnn_mixed_float16": "small CNN, mixed_float16",
}


def render(report: dict) -> str:
    """The Markdown beside the JSON: steady-state epoch per experiment, accelerator against this machine's CPU."""
    machine, runs = report["machine"], report["runs"]
    accelerator, cpu = runs.get("accelerator", {}), runs.get("cpu", {})

    def cell(run: dict, key: str) -> str:
        result = run.get(key, {})
        return result["error"] if "error" in result else f"{result.get('steady_epoch_s', '?')} s"

    lines = [
        "# Epoch times of the course's models on a GPU and on its machine's CPU",
        "",
        f"{machine['gpu']}, {machine['cores']} CPU cores · {machine.get('date', '?')} · Keras {accelerator.get('keras', '?')} "
        f"on the {accelerator.get('backend', '?')} backend · `python benchmarks/scripts/gpu_probe.py`",
        "",
        f"{accelerator.get('n_train', '?')} Fashion-MNIST images, batch 256; steady state = the epochs after the first. "
        f"cuDNN LSTM kernel used: {accelerator.get('cudnn_lstm', '?')} on the GPU, {cpu.get('cudnn_lstm', '?')} on the CPU.",
        "",
        "| model | GPU epoch | CPU epoch (same machine) |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {cell(accelerator, key)} | {cell(cpu, key)} |" for key, label in EXPERIMENTS.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--out", default="benchmarks/results/gpu_probe.json")
    parser.add_argument("--render", metavar="JSON", help="Only write the Markdown beside an existing result.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render:
        path = Path(args.render)
        path.with_suffix(".md").write_text(render(json.loads(path.read_text())))
        return
    if args.child:
        print(json.dumps(measure(args.n_train)))
        return
    runs = {}
    for label, env in (("accelerator", {}), ("cpu", {"JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""})):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", "--n-train", str(args.n_train)], env={**os.environ, **env}, capture_output=True, text=True
        )
        if proc.returncode != 0:
            runs[label] = {"error": proc.stderr.strip().splitlines()[-3:]}
        else:
            runs[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(label, json.dumps(runs[label], indent=1), flush=True)
    try:
        gpu = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"], capture_output=True, text=True
        ).stdout.strip()
    except FileNotFoundError:
        gpu = ""
    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "gpu": gpu or "none", "date": date.today().isoformat()}
    report = {"machine": machine, "runs": runs}
    out = Path(args.out)
    out.write_text(json.dumps(report, indent=1))
    out.with_suffix(".md").write_text(render(report))


if __name__ == "__main__":
    main()
