"""One epoch of assignment 06's row-by-row LSTM on the GPU and the CPU, and whether cuDNN ran.

Produced ``gpu_06_lstm_h100_torch.json``. The lent GPU machine had PyTorch and
JAX but no TensorFlow, so it ran with ``KERAS_BACKEND=torch``; Keras's torch
backend calls ``keras.src.backend.torch.rnn._cudnn_lstm`` once per batch when
the fused kernel is used, and this script counts those calls.

    KERAS_BACKEND=torch python benchmarks/scripts/gpu_06_lstm_torch.py --out benchmarks/results/gpu_06_lstm_h100_torch.json
    python benchmarks/scripts/gpu_06_lstm_torch.py --render benchmarks/results/gpu_06_lstm_h100_torch.json   # the .md again

Writes the JSON and, beside it, a Markdown table of the epochs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


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


WHAT = (
    "Assignment 06's row-by-row Fashion-MNIST model (LSTM(96, return_sequences=True) -> GlobalMaxPooling1D -> "
    "Dense(10, softmax, float32)), one full epoch of 60,000 standardised images, batch 128, Adam(3e-3), timed after "
    "a 10-batch warm-up. 'cudnn_calls' counts calls of Keras's fused cuDNN LSTM path "
    "(keras.src.backend.torch.rnn._cudnn_lstm, wrapped to count) during the timed epoch (469 = one per batch)."
)


def render(record: dict) -> str:
    """The Markdown beside the JSON: one row per configuration."""
    machine, software = record["machine"], record["software"]
    lines = [
        "# Assignment 06's LSTM: one epoch on a GPU and on its machine's CPU, and whether cuDNN ran",
        "",
        f"{machine['gpu']}, {machine['cpu_threads']} CPU threads · {machine['date']} · Keras {software['keras']} on "
        f"{software['backend']}, cuDNN {software['cudnn']} · `python benchmarks/scripts/gpu_06_lstm_torch.py`",
        "",
        record["what"],
        "",
        "| device | policy | layer options | epoch | cuDNN calls | accuracy after the epoch |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r['dev']} | {r['policy']} | {r['kw']} | {r['epoch_s']} s | {r['cudnn_calls']} | {r['acc']} |" for r in record["runs"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results/gpu_06_lstm_torch.json")
    parser.add_argument("--render", metavar="JSON", help="Only write the Markdown beside an existing result.")
    args = parser.parse_args()
    if args.render:
        path = Path(args.render)
        path.with_suffix(".md").write_text(render(json.loads(path.read_text())))
        return

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
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    record = {
        "what": WHAT,
        "machine": {"gpu": gpu, "cpu_threads": torch.get_num_threads(), "date": date.today().isoformat()},
        "software": {
            "keras": keras.__version__,
            "backend": f"torch {torch.__version__}",
            "cudnn": torch.backends.cudnn.version(),
            "cpu_threads": torch.get_num_threads(),
        },
        "runs": runs,
    }
    out = Path(args.out)
    out.write_text(json.dumps(record, indent=1))
    out.with_suffix(".md").write_text(render(record))


if __name__ == "__main__":
    main()
