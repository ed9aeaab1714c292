"""Epoch times of the course's recurrent and convolutional models, CPU against GPU, and the cuDNN LSTM path.

Runs on any Keras 3 backend. The lent GPU machines have JAX with CUDA but no
TensorFlow and no network, so the figures in gpu_probe_h100_jax.json were taken with
KERAS_BACKEND=jax; on a course machine with `tensorflow[and-cuda]` run it as is.

    KERAS_BACKEND=jax python benchmarks/scripts/gpu_probe.py --out benchmarks/results/gpu_probe.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np


def fashion_rows(n_train: int):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--out", default="benchmarks/results/gpu_probe.json")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
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
    report = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "gpu": gpu or "none"}, "runs": runs}
    with open(args.out, "w") as handle:
        json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
