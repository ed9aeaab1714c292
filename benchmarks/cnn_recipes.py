"""Training recipes for 04's small CNN on this CPU: test accuracy and training time per seed.

The model is the answer key's ``build_small_cnn`` (taken from its solution cell); the recipe is the
notebook's (Adam, cosine decay with a 10 % linear warm-up, all 60,000 training images, the full
10,000-image test set), with the epochs, batch size and peak learning rate varied. Seeds are set as
the notebook sets them (``seed_everything``, deterministic ops). Runs go one after the other in
this process, so their times compare as ratios measured in one run.

    python benchmarks/cnn_recipes.py                    # writes benchmarks/cnn_recipes.{json,md}
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


@dataclass(frozen=True)
class Recipe:
    name: str
    epochs: int
    batch_size: int
    peak_lr: float
    seeds: tuple[int, ...]


RECIPES = [
    Recipe("notebook today: 6 epochs, batch 256, peak 4e-3", 6, 256, 4e-3, (0,)),
    Recipe("5 epochs, batch 128, peak 3e-3", 5, 128, 3e-3, (0, 1, 2)),
]


def train(recipe: Recipe, seed: int, data) -> dict:
    import keras
    import numpy as np
    from backend_epochs import builder_source
    from keras import layers

    from autograder.runtime import seed_everything

    (x_train, y_train), (x_test, y_test) = data
    seed_everything(seed)
    namespace = {"keras": keras, "layers": layers, "np": np}
    exec(builder_source("04_cnn", "small_cnn"), namespace)
    model = namespace["build_small_cnn"]()
    steps = recipe.epochs * int(np.ceil(len(x_train) / recipe.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=recipe.peak_lr, warmup_steps=steps // 10)
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=recipe.epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.predict(x_test, verbose=0, batch_size=1000).argmax(axis=1) == y_test))
    return {"seed": seed, "test_accuracy": round(accuracy, 4), "training_s": round(seconds, 1)}


def main() -> None:
    from autograder.data import load_fashion_mnist
    from autograder.runtime import device_report

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    data = ((x_train[..., None] / 255.0).astype("float32"), y_train), ((x_test[..., None] / 255.0).astype("float32"), y_test)
    rows = []
    for recipe in RECIPES:
        runs = [train(recipe, seed, data) for seed in recipe.seeds]
        for run in runs:
            print(f"{recipe.name}, seed {run['seed']}: {run['test_accuracy']:.4f} in {run['training_s']:.0f} s", flush=True)
        rows.append({**asdict(recipe), "runs": runs})
    device = device_report()
    machine = f"{platform.machine()} CPU ({device.cpu}, {device.cores} cores), {device.backend} {device.backend_version}"
    out = ROOT / "benchmarks"
    (out / "cnn_recipes.json").write_text(json.dumps({"machine": machine, "date": date.today().isoformat(), "recipes": rows}, indent=1) + "\n")
    lines = [
        "# Recipes for 04's small CNN (Fashion-MNIST, full test set)",
        "",
        f"{machine} · {date.today().isoformat()} · `python benchmarks/cnn_recipes.py`; one run after the other, nothing else on the machine.",
        "",
        "| recipe | seeds | test accuracy per seed (median) | training time per seed, s (median) |",
        "|---|---|---|---|",
    ]
    for row in rows:
        accuracies = [r["test_accuracy"] for r in row["runs"]]
        times = [r["training_s"] for r in row["runs"]]
        lines.append(
            f"| {row['name']} | {', '.join(map(str, row['seeds']))} | {', '.join(f'{a:.4f}' for a in accuracies)} (**{statistics.median(accuracies):.4f}**) "
            f"| {', '.join(f'{t:.0f}' for t in times)} (**{statistics.median(times):.0f}**) |"
        )
    (out / "cnn_recipes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
