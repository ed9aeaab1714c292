"""Turn bench runs into a JSON record, a Markdown table and an accuracy-versus-time plot."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict
from pathlib import Path

from ..registry import assignments
from . import targets
from .runner import NotebookRun


def _spread(values: list[float]) -> str:
    """The median over seeds, with the range when there are several (this machine is noisy: medians, not means)."""
    if not values:
        return "–"
    median = statistics.median(values)
    return f"{median:.4f} ({min(values):.4f}–{max(values):.4f})" if len(values) > 1 else f"{median:.4f}"


def summarise(runs: list[NotebookRun]) -> list[dict]:
    """One row per (assignment, dataset, metric name), aggregated over seeds."""
    rows: dict[tuple, dict] = {}
    for run in runs:
        for entry in run.metrics:
            key = (run.assignment, run.dataset, entry["name"])
            row = rows.setdefault(
                key,
                {
                    "assignment": run.assignment,
                    "dataset": run.dataset,
                    "name": entry["name"],
                    "kind": entry["kind"],
                    "values": [],
                    "train_s": [],
                    "epoch_s": [],
                    "params": entry.get("params"),
                },
            )
            row["values"].append(entry["accuracy"] if entry["kind"] == "accuracy" else entry["mse"])
            row["train_s"] += [entry["train_s"]] if "train_s" in entry else []
            row["epoch_s"] += [entry["epoch_s"]] if "epoch_s" in entry else []
    return list(rows.values())


def markdown(machine: dict, runs: list[NotebookRun], grading: dict[str, float], quick: bool) -> str:
    rows = summarise(runs)
    lines = [
        f"# Benchmark results{' (quick run)' if quick else ''}",
        "",
        f"Machine: {machine['device']} · TensorFlow {machine['tensorflow']} · Keras {machine['keras']} · {machine['date']}",
        "",
        "## Reference models",
        "",
        "| assignment | data | metric | value: median (range) over seeds | seeds | training s (median) | s / epoch (median) | parameters |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        train = f"{statistics.median(r['train_s']):.1f}" if r["train_s"] else "–"
        epoch = f"{statistics.median(r['epoch_s']):.2f}" if r["epoch_s"] else "–"
        params = f"{r['params']:,}" if r["params"] else "–"
        label = r["name"] + (" (MSE)" if r["kind"] == "mse" else "")
        lines.append(f"| {r['assignment']} | {r['dataset']} | {label} | {_spread(r['values'])} | {len(r['values'])} | {train} | {epoch} | {params} |")
    lines += [
        "",
        "## Against published figures",
        "",
        "| assignment | data | ours (median over seeds) | published | difference |",
        "|---|---|---|---|---|",
    ]
    for dataset in ("fashion_mnist", "mnist"):
        for assignment, published in ((a.id, a.published.get(dataset, ())) for a in assignments()):
            for label, value, model in ((row.label, row.accuracy, row.model) for row in published):
                mine = [
                    r for r in rows if r["assignment"] == assignment and r["dataset"] == dataset and r["kind"] == "accuracy" and model in r["name"]
                ]
                if not mine:  # still listed: the notebooks cite the published figures from this table
                    lines.append(f"| {assignment} | {dataset} | not run in this benchmark | {label}: {value:.4f} | – |")
                    continue
                ours = statistics.median(mine[-1]["values"])
                lines.append(f"| {assignment} | {dataset} | {mine[-1]['name']}: {ours:.4f} | {label}: {value:.4f} | {ours - value:+.4f} |")
    lines += ["", "## Wall times", "", "| assignment | data | seed | notebook end to end (s) | error |", "|---|---|---|---|---|"]
    for run in runs:
        lines.append(f"| {run.assignment} | {run.dataset} | {run.seed} | {run.wall_s:.1f} | {run.error or ''} |")
    if grading:
        lines += ["", "| assignment | grading one submission (s) |", "|---|---|"]
        lines += [f"| {aid} | {seconds:.1f} |" for aid, seconds in grading.items()]
    if not quick:
        lines += targets.markdown(runs, grading)
    return "\n".join(lines) + "\n"


def plot(runs: list[NotebookRun], path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(r, e) for r in runs for e in r.metrics if e["kind"] == "accuracy" and "train_s" in e]
    if not points:
        return None
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for i, dataset in enumerate(sorted({r.dataset for r, _ in points})):
        chosen = [(r, e) for r, e in points if r.dataset == dataset]
        ax.scatter([e["train_s"] for _, e in chosen], [e["accuracy"] for _, e in chosen], label=dataset, color=f"C{i}")
        for r, e in chosen:
            ax.annotate(f"{r.assignment[:2]} {e['name'][:22]}", (e["train_s"], e["accuracy"]), fontsize=6, alpha=0.8)
    for value in {row.accuracy for a in assignments() for row in a.published.get("fashion_mnist", ())}:
        ax.axhline(value, color="grey", lw=0.5, ls=":")
    ax.set_xscale("log")
    ax.set_xlabel("training wall time of the model (s, log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title("Reference models: accuracy against training time (dotted: published Fashion-MNIST rows)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write(out: Path, machine: dict, runs: list[NotebookRun], grading: dict[str, float], quick: bool) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stem = "results_quick" if quick else "results"
    scale, verdicts = targets.judge(runs)
    record = {
        "machine": machine,
        "quick": quick,
        "runs": [asdict(r) for r in runs],
        "grading_s": grading,
        "summary": summarise(runs),
        "yardstick_s": targets.yardstick(runs),
        "time_scale": scale,
        "targets": [asdict(v) for v in verdicts],
        "grading_overhead": targets.grading_overhead(runs, grading),
    }
    paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md"}
    paths["json"].write_text(json.dumps(record, indent=1, default=float) + "\n")
    paths["markdown"].write_text(markdown(machine, runs, grading, quick))
    figure = plot(runs, out / f"{stem}_accuracy_vs_time.png")
    if figure:
        paths["plot"] = figure
    return paths
