"""One epoch of assignment 06's row-by-row LSTM on the GPU and the CPU, and whether cuDNN ran.

Produced ``gpu_06_lstm_h100_torch.json``. The lent GPU machine had PyTorch and
JAX but no TensorFlow, so it ran with ``KERAS_BACKEND=torch``; Keras's torch
backend calls ``keras.src.backend.torch.rnn._cudnn_lstm`` once per batch when
the fused kernel is used, and this script counts those calls.

    KERAS_BACKEND=torch python benchmarks/scripts/gpu_06_lstm_torch.py --out benchmarks/results/gpu_06_lstm_h100_torch.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def count_cudnn_calls():
    from keras.src.backend.torch import rnn

    calls = {"n": 0}
    fused = rnn._cudnn_lstm

    def counting(*args, **kwargs):
        calls["n"] += 1
        return fused(*args, **kwargs)

    rnn._cudnn_lstm = counting
    return calls


def time_one_epoch(keras, x, y, calls, device, policy="float32", **lstm_kwargs):
    keras.mixed_precision.set_global_policy(policy)
    with keras.device(device):
        model = keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.LSTM(96, return_sequences=True, **lstm_kwargs),
                keras.layers.GlobalMaxPooling1D(),
                keras.layers.Dense(10, activation="softmax", dtype="float32"),
            ]
        )
        model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x[:1280], y[:1280], batch_size=128, verbose=0)  # warm-up: kernel selection and compilation
        calls["n"] = 0
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=128, verbose=0)
        seconds = time.perf_counter() - start
    run = {
        "dev": device,
        "policy": policy,
        "kw": str(lstm_kwargs),
        "epoch_s": round(seconds, 2),
        "acc": round(history.history["accuracy"][-1], 4),
        "cudnn_calls": calls["n"],
    }
    print(json.dumps(run), flush=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gpu_06_lstm_torch.json")
    args = parser.parse_args()

    import keras
    import torch

    from autograder.data import load_fashion_mnist

    calls = count_cudnn_calls()
    (x, y), _ = load_fashion_mnist(download=False)
    x = x / 255.0
    x = ((x - x.mean()) / x.std()).astype("float32")
    runs = [
        time_one_epoch(keras, x, y, calls, "gpu"),
        time_one_epoch(keras, x, y, calls, "gpu", use_cudnn=False),
        time_one_epoch(keras, x, y, calls, "gpu", recurrent_dropout=0.1),
        time_one_epoch(keras, x, y, calls, "gpu", "mixed_float16"),
        time_one_epoch(keras, x, y, calls, "gpu", "mixed_bfloat16"),
        time_one_epoch(keras, x, y, calls, "cpu"),
    ]
    record = {
        "software": {
            "keras": keras.__version__,
            "backend": f"torch {torch.__version__}",
            "cudnn": torch.backends.cudnn.version(),
            "cpu_threads": torch.get_num_threads(),
        },
        "runs": runs,
    }
    with open(args.out, "w") as handle:
        json.dump(record, handle, indent=1)


if __name__ == "__main__":
    main()
