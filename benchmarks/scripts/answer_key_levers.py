"""Training recipes for the answer keys of 01 (softmax regression), 03 (final MLP) and 06 (row-by-row LSTM).

Each recipe trains the notebook's model on Fashion-MNIST with the notebook's data preparation and
split, and records test accuracy on all 10,000 test images and the training wall time, per seed
(seeded as the notebooks seed themselves: ``setup_notebook``, deterministic ops). The models are
the ones the notebooks teach; only the optimizer, schedule and epochs vary.

    python benchmarks/scripts/answer_key_levers.py                      # lists the recipe names
    python benchmarks/scripts/answer_key_levers.py NAME [NAME ...] [--seeds 0,1,2]

Results are merged into benchmarks/results/answer_key_levers.json (each run keeps its date) and rendered to
benchmarks/results/answer_key_levers.md. 04's and 05's CNNs are in cnn_recipes.py.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "answer_key_levers.json"


@dataclass(frozen=True)
class Recipe:
    name: str
    notebook: str  # "01", "03" or "06": which model and data preparation
    epochs: int
    batch_size: int
    peak_rate: float
    cosine: bool = True  # decay to 0 along a cosine over the run; False: constant rate
    warmup: bool = False  # 10 % linear warm-up (01: none)
    weight_decay: float = 0.0  # decoupled (AdamW) when > 0
    units: int = 96  # 06's LSTM state size
    note: str = ""

    @property
    def label(self) -> str:
        rate = f"{'cosine from ' if self.cosine else 'constant '}{self.peak_rate:g}" + (" with warm-up" if self.warmup else "")
        decay = f", AdamW weight decay {self.weight_decay:g}" if self.weight_decay else ""
        return f"{self.epochs} epochs, batch {self.batch_size}, {rate}{decay}"


RECIPES = {
    r.name: r
    for r in [
        Recipe("01-constant", "01", 10, 64, 1e-3, cosine=False, note="answer key until 2026-12-06 (Adam's default rate)"),
        Recipe("01-cosine-1e-3", "01", 10, 64, 1e-3),
        Recipe("01-cosine-2e-3", "01", 10, 64, 2e-3, note="answer key from 2026-12-06"),
        Recipe("01-cosine-3e-3-b128", "01", 15, 128, 3e-3),
        Recipe("03-adam", "03", 20, 128, 1e-3, note="answer key"),
        Recipe("03-adam-2e-3-warmup", "03", 20, 128, 2e-3, warmup=True),
        Recipe("03-adamw-0.004", "03", 20, 128, 1e-3, weight_decay=0.004),
        Recipe("03-adamw-0.05", "03", 20, 128, 2e-3, weight_decay=0.05),
        Recipe("03-adamw-0.1", "03", 20, 128, 2e-3, weight_decay=0.1),
        Recipe("03-adamw-0.05-30", "03", 30, 128, 2e-3, weight_decay=0.05),
        Recipe("06-6", "06", 6, 128, 3e-3, note="answer key until 2026-12-06"),
        Recipe("06-8-4e-3", "06", 8, 128, 4e-3),
        Recipe("06-8-5e-3-warmup", "06", 8, 128, 5e-3, warmup=True),
        Recipe("06-9", "06", 9, 128, 3e-3),
        Recipe("06-10", "06", 10, 128, 3e-3),
        Recipe("06-10-5e-3-warmup", "06", 10, 128, 5e-3, warmup=True),
    ]
}


def _data(notebook: str):
    from autograder.data import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    if notebook == "06":  # 06 standardizes with the training set's pixel mean and std
        mean, std = x_train.mean() / 255.0, x_train.std() / 255.0
        return ((x_train / 255.0 - mean) / std).astype("float32"), y_train, ((x_test / 255.0 - mean) / std).astype("float32"), y_test
    return x_train.astype("float32") / 255.0, y_train, x_test.astype("float32") / 255.0, y_test


def _model(recipe: Recipe):
    import keras
    from keras import layers

    body = {
        "01": [layers.Flatten(), layers.Dense(10, activation="softmax")],
        "03": [layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dense(128, activation="relu"), layers.Dense(10, activation="softmax")],
        "06": [layers.LSTM(recipe.units, return_sequences=True), layers.GlobalMaxPooling1D(), layers.Dense(10, activation="softmax")],
    }[recipe.notebook]
    return keras.Sequential([keras.Input(shape=(28, 28)), *body])


def run(recipe: Recipe, seed: int) -> dict:
    from autograder.runtime import setup_notebook

    setup_notebook(seed=seed)
    import keras
    import numpy as np

    x_train, y_train, x_test, y_test = _data(recipe.notebook)
    if recipe.notebook == "03":  # 03 holds out the last 6,000 training images and stops early on them
        fit_data = {"x": x_train[:-6000], "y": y_train[:-6000], "validation_data": (x_train[-6000:], y_train[-6000:])}
        callbacks = [keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=4, restore_best_weights=True)]
        trained_on = 54000
    else:  # 01 and 06 keep 10 % aside with validation_split
        fit_data, callbacks, trained_on = {"x": x_train, "y": y_train, "validation_split": 0.1}, [], 54000
    steps = recipe.epochs * int(np.ceil(trained_on / recipe.batch_size))
    if not recipe.cosine:
        rate = recipe.peak_rate
    elif recipe.warmup:
        rate = keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=recipe.peak_rate, warmup_steps=steps // 10)
    else:
        rate = keras.optimizers.schedules.CosineDecay(recipe.peak_rate, steps)
    optimizer = keras.optimizers.AdamW(rate, weight_decay=recipe.weight_decay) if recipe.weight_decay else keras.optimizers.Adam(rate)
    model = _model(recipe)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(**fit_data, batch_size=recipe.batch_size, epochs=recipe.epochs, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = float(model.evaluate(x_test, y_test, verbose=0)[1])
    return {
        "seed": seed,
        "accuracy": round(accuracy, 4),
        "train_s": round(seconds, 1),
        "epochs": len(model.history.epoch),
        "date": date.today().isoformat(),
        "machine": _machine(),
    }


def render(results: dict) -> str:
    lines = [
        "# Answer-key recipes for 01, 03 and 06",
        "",
        "Written by `benchmarks/scripts/answer_key_levers.py`. Fashion-MNIST: trained on 54,000 images, test accuracy on all "
        "10,000 test images; training wall time of `fit` on an otherwise idle machine. Each cell: median (range) over "
        "the seeds listed. Accuracies are the same on both machines (deterministic ops); compare times only within one "
        "machine.",
        "",
        "| recipe | notebook | what | test accuracy | training s | seeds | date | machine | note |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, recipe in RECIPES.items():
        runs = results["recipes"].get(name, [])
        if not runs:
            continue
        accuracies, seconds = [r["accuracy"] for r in runs], [r["train_s"] for r in runs]
        spread = f" ({min(accuracies):.4f}–{max(accuracies):.4f})" if len(runs) > 1 else ""
        dates = ", ".join(sorted({r["date"] for r in runs}))
        seeds = ", ".join(str(r["seed"]) for r in runs)
        machines = "; ".join(sorted({r["machine"] for r in runs}))
        stopped = sorted({r["epochs"] for r in runs if r.get("epochs", recipe.epochs) < recipe.epochs})
        note = "; ".join(filter(None, [recipe.note, f"early stopping ended it after {', '.join(map(str, stopped))} epochs" if stopped else ""]))
        lines.append(
            f"| {name} | {recipe.notebook} | {recipe.label} | {statistics.median(accuracies):.4f}{spread} | "
            f"{statistics.median(seconds):.1f} | {seeds} | {dates} | {machines} | {note} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    seeds = [0]
    if "--seeds" in argv:
        at = argv.index("--seeds")
        seeds = [int(s) for s in argv[at + 1].split(",")]
        argv = argv[:at] + argv[at + 2 :]
    if not argv:
        print("\n".join(f"{name:24s} {recipe.label}" for name, recipe in RECIPES.items()))
        return
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"recipes": {}}
    for name in argv:
        for seed in seeds:
            entry = run(RECIPES[name], seed)
            print(name, entry, flush=True)
            runs = [r for r in results["recipes"].get(name, []) if r["seed"] != seed]
            results["recipes"][name] = sorted([*runs, entry], key=lambda r: r["seed"])
            RESULTS.write_text(json.dumps(results, indent=1) + "\n")
            RESULTS.with_suffix(".md").write_text(render(results))


def _machine() -> str:
    from autograder.runtime import device_report

    report = device_report()
    return f"{report.device}, TensorFlow {report.tensorflow}, Keras {report.keras}"


if __name__ == "__main__":
    main(sys.argv[1:])
