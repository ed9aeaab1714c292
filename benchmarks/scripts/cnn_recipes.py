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
    python benchmarks/scripts/cnn_recipes.py NAME --seeds 3,4   # adds (or reruns) those seeds of a recipe
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
    pool_first: bool = False  # Conv -> MaxPooling -> BN -> ReLU: batch norm and ReLU on a quarter of the activations

    @property
    def label(self) -> str:
        parts = ["-".join(map(str, self.widths)), ("BN after pooling" if self.pool_first else "BN") if self.batch_norm else "no BN"]
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
    label_smoothing: float = 0.0  # > 0: categorical cross-entropy on one-hot targets smoothed by this much
    tta: bool = False  # also score test-time augmentation: the mean of the softmax on each image and its mirror
    notes: str = field(default="", compare=False)


CURRENT = Design((32, 64))
NARROW = Design((16, 32))
POOL_FIRST = Design((16, 32), pool_first=True)
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
        Recipe("04-narrow-10ep", NARROW, 10, 128, 3e-3, notes="04's small CNN 2026-12-06 to 2026-12-07"),
        Recipe("04-narrow-10ep-again", NARROW, 10, 128, 3e-3, notes="the same recipe again, beside the pool-first ones on one machine"),
        Recipe("04-three-blocks", Design((16, 32, 64), head="flatten"), 8, 128, 3e-3),
        Recipe("05-narrow-12ep", Design((16, 32), flip=True), 12, 128, 3e-3, notes="05's regularized CNN 2026-12-06 to 2026-12-07"),
        Recipe("05-narrow-15ep", Design((16, 32), flip=True), 15, 128, 3e-3),
        Recipe("05-24-48-10ep", Design((24, 48), flip=True), 10, 128, 3e-3),
        Recipe("04-pool-first-10ep", POOL_FIRST, 10, 128, 3e-3, (0, 1, 2), tta=True, notes="04's small CNN from 2026-12-07"),
        Recipe("04-pool-first-10ep-smooth", POOL_FIRST, 10, 128, 3e-3, (0, 1, 2), label_smoothing=0.1, tta=True),
        Recipe("05-pool-first-12ep", Design((16, 32), flip=True, pool_first=True), 12, 128, 3e-3, (0, 1, 2), tta=True),
        Recipe(
            "05-pool-first-15ep",
            Design((16, 32), flip=True, pool_first=True),
            15,
            128,
            3e-3,
            (0, 1, 2),
            tta=True,
            notes="05's regularized CNN from 2026-12-07",
        ),
        Recipe("05-pool-first-12ep-smooth", Design((16, 32), flip=True, pool_first=True), 12, 128, 3e-3, (0, 1, 2), label_smoothing=0.1, tta=True),
    ]
}
EPOCH_COST_DESIGNS = [CURRENT, Design((32, 64), batch_norm=False), NARROW, Design((32, 64, 128), head="gap"), Design((16, 32, 64), head="flatten")]


def build(design: Design):
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1))
    x = layers.RandomFlip("horizontal")(inputs) if design.flip else inputs
    for filters in design.widths:
        if design.batch_norm and design.pool_first:
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
            x = layers.ReLU()(layers.BatchNormalization()(layers.MaxPooling2D(2)(x)))
            continue
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
    # The cosine spans the steps after the warm-up and ends at 0. The notebooks' spans as many steps as the whole run, so
    # it ends at about 2 % of the peak rate; the table's header says which rows were measured which way.
    warmup_steps = steps // 10
    schedule = keras.optimizers.schedules.CosineDecay(0.0, steps - warmup_steps, warmup_target=recipe.peak_lr, warmup_steps=warmup_steps)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=recipe.weight_decay) if recipe.weight_decay else keras.optimizers.Adam(schedule)
    if recipe.label_smoothing:
        loss, targets = keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing), keras.utils.to_categorical(y_train, 10)
    else:
        loss, targets = "sparse_categorical_crossentropy", y_train
    model.compile(optimizer=optimizer, loss=loss)
    start = time.perf_counter()
    model.fit(x_train, targets, batch_size=recipe.batch_size, epochs=recipe.epochs, verbose=0)
    seconds = time.perf_counter() - start
    probabilities = model.predict(x_test, verbose=0, batch_size=1000)
    run = {"seed": seed, "test_accuracy": round(float(np.mean(probabilities.argmax(axis=1) == y_test)), 4), "training_s": round(seconds, 1)}
    if recipe.tta:
        mirrored = model.predict(x_test[:, :, ::-1], verbose=0, batch_size=1000)
        run["tta_accuracy"] = round(float(np.mean((probabilities + mirrored).argmax(axis=1) == y_test)), 4)
    return run | {"date": date.today().isoformat(), "machine": machine()}


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
        "`python benchmarks/scripts/cnn_recipes.py`; runs one after the other, nothing else on the machine. Each row names its "
        "machine: these machines draw different CPUs and their speed drifts (by 2× within a day), so times compare only "
        "within one machine and one date's batch of runs. Accuracies do not depend on the machine (deterministic ops). "
        "Rows dated 2026-12-07 decay the rate to 0 over the steps after the 10 % warm-up; earlier rows, like the "
        "notebooks, decay it over as many steps as the whole run, ending at about 2 % of the peak.",
        "",
        f"## One epoch of 60,000 images, batch 256 ({record.get('epoch_costs_machine', record['machine'])})",
        "",
        "| design | parameters | s per epoch | date |",
        "|---|---:|---:|---|",
    ]
    lines += [f"| {c['design']} | {c['parameters']:,} | {c['epoch_s']:.1f} | {c['date']} |" for c in record.get("epoch_costs", [])]
    lines += [
        "",
        "## Recipes: full test set, all 60,000 training images",
        "",
        "| recipe | design | epochs, batch, peak lr | test accuracy per seed (median) | with test-time flips (median) "
        "| training s per seed (median) | date | machine |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in record["recipes"].items():
        runs = sorted(row["runs"], key=lambda r: r["seed"])
        accuracies = [r["test_accuracy"] for r in runs]
        times = [r["training_s"] for r in runs]
        optimizer = f", AdamW wd {row['weight_decay']:g}" if row["weight_decay"] else ""
        optimizer += f", label smoothing {row['label_smoothing']:g}" if row.get("label_smoothing") else ""
        tta = [r["tta_accuracy"] for r in runs if "tta_accuracy" in r]
        tta_cell = f"{', '.join(f'{a:.4f}' for a in tta)} (**{statistics.median(tta):.4f}**)" if tta else "–"
        machines = sorted({r.get("machine", record["machine"]) for r in runs})
        lines.append(
            f"| {name}{' (' + row['notes'] + ')' if row['notes'] else ''} | {Design(**row['design']).label} "
            f"| {row['epochs']}, {row['batch_size']}, {row['peak_lr']:g}{optimizer} "
            f"| {', '.join(f'{a:.4f}' for a in accuracies)} (**{statistics.median(accuracies):.4f}**) "
            f"| {tta_cell} "
            f"| {', '.join(f'{t:.0f}' for t in times)} (**{statistics.median(times):.0f}**) "
            f"| {', '.join(sorted({r['date'] for r in runs}))} | {'; '.join(machines)} |"
        )
    return "\n".join(lines) + "\n"


def save(record: dict) -> None:
    RESULTS.write_text(json.dumps(record, indent=1) + "\n")
    RESULTS.with_suffix(".md").write_text(render(record))


def main(argv: list[str]) -> None:
    seeds = None
    if "--seeds" in argv:
        at = argv.index("--seeds")
        seeds = tuple(int(s) for s in argv[at + 1].split(","))
        argv = argv[:at] + argv[at + 2 :]
    names = argv
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
            record["epoch_costs_machine"] = machine()
        else:
            recipe = RECIPES[name]
            fresh = [train(recipe, seed, data) for seed in seeds or recipe.seeds]
            kept = [r for r in record["recipes"].get(name, {}).get("runs", []) if seeds and r["seed"] not in seeds]
            runs = sorted(kept + fresh, key=lambda r: r["seed"])
            row = asdict(recipe) | {"seeds": [r["seed"] for r in runs]}
            row["runs"] = runs
            record["recipes"][name] = row
            print(f"{name}: " + ", ".join(f"seed {r['seed']} {r['test_accuracy']:.4f} in {r['training_s']:.0f} s" for r in fresh), flush=True)
        save(record)
    print(render(record))


if __name__ == "__main__":
    main(sys.argv[1:])
