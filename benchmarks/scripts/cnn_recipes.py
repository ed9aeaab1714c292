"""Designs and recipes for 04's small CNN and 05's regularized CNN on this CPU.

Two measurements, both on all 60,000 training images of Fashion-MNIST:

* ``epoch-costs``: the seconds one epoch of a design takes (timed on 15,360 images after a
  warm-up, scaled to 60,000), so that designs compare as ratios measured in one run;
* recipes: test accuracy on the full 10,000-image test set and training time, per seed, of a design
  trained with Adam (or AdamW), cosine decay and a 10 % linear warm-up, seeded as the notebooks
  seed themselves (``seed_everything``, deterministic ops).

Every design is the notebooks' block, ``Conv2D(3x3, same)`` [-> ``BatchNormalization``] -> ReLU ->
``MaxPooling2D(2)``, repeated once per width, then ``Flatten`` -> ``Dropout(0.3)`` ->
``Dense(128, relu)`` -> softmax (optionally a ``RandomFlip`` first; some designs drop the hidden
``Dense`` or pool globally instead of flattening).

    python benchmarks/scripts/cnn_recipes.py epoch-costs        # rewrites the epoch-cost table
    python benchmarks/scripts/cnn_recipes.py NAME [NAME ...]    # (re)runs those recipes
    python benchmarks/scripts/cnn_recipes.py                    # lists the recipe names

Results are merged into benchmarks/results/cnn_recipes.json (each run keeps its date) and rendered to
benchmarks/results/cnn_recipes.md.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "cnn_recipes.json"


@dataclass(frozen=True)
class Design:
    widths: tuple[int, ...]
    batch_norm: bool = True
    flip: bool = False
    head: str = "dense"  # "dense": Flatten, Dropout, Dense(128); "flatten": Flatten, Dropout; "gap": global average pooling, Dropout

    @property
    def label(self) -> str:
        parts = ["-".join(map(str, self.widths)), "BN" if self.batch_norm else "no BN"]
        return ", ".join(
            parts + (["flip"] if self.flip else []) + {"dense": [], "flatten": ["no hidden dense"], "gap": ["global average pooling"]}[self.head]
        )


@dataclass(frozen=True)
class Recipe:
    name: str
    design: Design
    epochs: int
    batch_size: int
    peak_lr: float
    seeds: tuple[int, ...] = (0,)
    weight_decay: float = 0.0
    notes: str = field(default="", compare=False)


CURRENT = Design((32, 64))
NARROW = Design((16, 32))
RECIPES = {
    r.name: r
    for r in [
        Recipe("04-before", CURRENT, 6, 256, 4e-3, notes="04's small CNN until 2026-12-06"),
        Recipe("04-5ep-b128", CURRENT, 5, 128, 3e-3, (0, 1, 2)),
        Recipe("04-noBN-5ep", Design((32, 64), batch_norm=False), 5, 128, 2e-3),
        Recipe("04-noBN-4ep", Design((32, 64), batch_norm=False), 4, 128, 2e-3),
        Recipe("04-24-48-noBN-6ep", Design((24, 48), batch_norm=False), 6, 128, 2e-3),
        Recipe("04-narrow-8ep", NARROW, 8, 128, 3e-3, (0, 1, 2)),
        Recipe("04-narrow-8ep-b256", NARROW, 8, 256, 4e-3),
        Recipe("04-narrow-8ep-adamw", NARROW, 8, 128, 3e-3, weight_decay=0.02),
        Recipe("04-narrow-10ep", NARROW, 10, 128, 3e-3, notes="04's small CNN from 2026-12-06"),
        Recipe("04-three-blocks", Design((16, 32, 64), head="flatten"), 8, 128, 3e-3),
        Recipe("05-narrow-12ep", Design((16, 32), flip=True), 12, 128, 3e-3),
        Recipe("05-narrow-15ep", Design((16, 32), flip=True), 15, 128, 3e-3),
        Recipe("05-24-48-10ep", Design((24, 48), flip=True), 10, 128, 3e-3),
    ]
}
EPOCH_COST_DESIGNS = [CURRENT, Design((32, 64), batch_norm=False), NARROW, Design((32, 64, 128), head="gap"), Design((16, 32, 64), head="flatten")]


def build(design: Design):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.RandomFlip("horizontal")(inputs) if design.flip else inputs
    for filters in design.widths:
        if design.batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.3)(layers.GlobalAveragePooling2D()(x) if design.head == "gap" else layers.Flatten()(x))
    if design.head == "dense":
        x = layers.Dense(128, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(10, activation="softmax")(x))


def load():
    from autograder.data import load_fashion_mnist

    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    scale = lambda x: (x[..., None] / 255.0).astype("float32")  # noqa: E731
    return (scale(x_train), y_train), (scale(x_test), y_test)


def train(recipe: Recipe, seed: int, data) -> dict:
    import keras
    import numpy as np

    from autograder.runtime import seed_everything

    (x_train, y_train), (x_test, y_test) = data
    seed_everything(seed)
    model = build(recipe.design)
    steps = recipe.epochs * int(np.ceil(len(x_train) / recipe.batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=recipe.peak_lr, warmup_steps=steps // 10)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay) if recipe.weight_decay else keras.optimizers.Adam(schedule)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=recipe.batch_size, epochs=recipe.epochs, verbose=0)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(model.predict(x_test, verbose=0, batch_size=1000).argmax(axis=1) == y_test))
    return {"seed": seed, "test_accuracy": round(accuracy, 4), "training_s": round(seconds, 1), "date": date.today().isoformat()}


def epoch_cost(design: Design, data) -> dict:
    import keras

    (x_train, y_train), _ = data
    x, y = x_train[:15360], y_train[:15360]
    keras.utils.set_random_seed(0)
    model = build(design)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:2560], y[:2560], batch_size=256, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=256, epochs=1, verbose=0)
    seconds = (time.perf_counter() - start) * len(x_train) / len(x)
    return {"design": design.label, "parameters": model.count_params(), "epoch_s": round(seconds, 1), "date": date.today().isoformat()}


def machine() -> str:
    from autograder.runtime import device_report

    device = device_report()
    return f"{platform.machine()} CPU ({device.cpu}, {device.cores} cores), {device.backend} {device.backend_version}"


def render(record: dict) -> str:
    lines = [
        "# Designs and recipes for 04's small CNN and 05's regularized CNN (Fashion-MNIST)",
        "",
        f"{record['machine']} · `python benchmarks/scripts/cnn_recipes.py`; runs one after the other, nothing else on the machine.",
        "This machine's speed drifts (by 2× within a day), so times compare only within one date's batch of runs.",
        "",
        "## One epoch of 60,000 images, batch 256",
        "",
        "| design | parameters | s per epoch | date |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {c['design']} | {c['parameters']:,} | {c['epoch_s']:.1f} | {c['date']} |" for c in record.get("epoch_costs", [])]
    lines += [
        "",
        "## Recipes: full test set, all 60,000 training images",
        "",
        "| recipe | design | epochs, batch, peak lr | test accuracy per seed (median) | training s per seed (median) | date |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in record["recipes"].items():
        runs = sorted(row["runs"], key=lambda r: r["seed"])
        accuracies = [r["test_accuracy"] for r in runs]
        times = [r["training_s"] for r in runs]
        optimizer = f", AdamW wd {row['weight_decay']:g}" if row["weight_decay"] else ""
        lines.append(
            f"| {name}{' (' + row['notes'] + ')' if row['notes'] else ''} | {Design(**row['design']).label} "
            f"| {row['epochs']}, {row['batch_size']}, {row['peak_lr']:g}{optimizer} "
            f"| {', '.join(f'{a:.4f}' for a in accuracies)} (**{statistics.median(accuracies):.4f}**) "
            f"| {', '.join(f'{t:.0f}' for t in times)} (**{statistics.median(times):.0f}**) "
            f"| {', '.join(sorted({r['date'] for r in runs}))} |"
        )
    return "\n".join(lines) + "\n"


def save(record: dict) -> None:
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    RESULTS.with_suffix(".md").write_text(render(record))


def main(names: list[str]) -> None:
    if not names:
        print("\n".join(f"{name}: {r.design.label}, {r.epochs} epochs, batch {r.batch_size}, seeds {r.seeds}" for name, r in RECIPES.items()))
        return
    unknown = [n for n in names if n != "epoch-costs" and n not in RECIPES]
    if unknown:
        sys.exit(f"unknown recipe(s) {unknown}; run without arguments to list them")
    record = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"recipes": {}}
    record["machine"] = machine()
    data = load()
    for name in names:
        if name == "epoch-costs":
            record["epoch_costs"] = [epoch_cost(design, data) for design in EPOCH_COST_DESIGNS]
        else:
            recipe = RECIPES[name]
            runs = [train(recipe, seed, data) for seed in recipe.seeds]
            row = asdict(recipe)
            row["runs"] = runs
            record["recipes"][name] = row
            print(f"{name}: " + ", ".join(f"seed {r['seed']} {r['test_accuracy']:.4f} in {r['training_s']:.0f} s" for r in runs), flush=True)
        save(record)
    print(render(record))


if __name__ == "__main__":
    main(sys.argv[1:])
