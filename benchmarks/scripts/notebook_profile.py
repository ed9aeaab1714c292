"""Where an answer key's time goes: every code cell of the notebook timed, end to end, in a fresh kernel.

    python benchmarks/scripts/notebook_profile.py 04_cnn 05_regularization

Runs ``solutions/<id>/<id>.ipynb`` in a temporary folder (nothing restored: every model trains) and writes
benchmarks/results/notebook_profile.{json,md}: per assignment, the cells that took at least a second, slowest
first, with the rest summed. Each run keeps its date and machine; running an assignment again replaces its rows.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "benchmarks" / "results" / "notebook_profile.json"
SHOWN_S = 1.0  # cells faster than this are summed into one row


def profile(aid: str) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "solutions" / aid / f"{aid}.ipynb", as_version=4)
    cells = []
    with tempfile.TemporaryDirectory() as work:
        client = NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": work}})
        start = time.perf_counter()
        with client.setup_kernel():
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                began = time.perf_counter()
                client.execute_cell(cell, index)
                lines = cell.source.strip().splitlines()
                cells.append(
                    {
                        "cell": index,
                        "grade_id": cell.metadata.get("nbgrader", {}).get("grade_id", ""),
                        "first_line": lines[0][:80] if lines else "",
                        "seconds": round(time.perf_counter() - began, 1),
                    }
                )
        total = time.perf_counter() - start
    from autograder.runtime import device_report

    device = device_report()  # this process's view; the kernel ran on the same machine
    machine = f"{device.device}, {device.backend} {device.backend_version}"
    return {"cells": cells, "total_s": round(total, 1), "date": date.today().isoformat(), "machine": machine}


def render(record: dict) -> str:
    lines = [
        "# Where each answer key's time goes, cell by cell",
        "",
        "Written by `benchmarks/scripts/notebook_profile.py`: the answer key run end to end in a fresh kernel, every "
        f"model trained (nothing restored). Cells under {SHOWN_S:g} s are summed in the last row of each table.",
    ]
    for aid, run in sorted(record.items()):
        slow = sorted((c for c in run["cells"] if c["seconds"] >= SHOWN_S), key=lambda c: -c["seconds"])
        rest = sum(c["seconds"] for c in run["cells"] if c["seconds"] < SHOWN_S)
        lines += ["", f"## {aid}: {run['total_s']:.0f} s end to end ({run['machine']}, {run['date']})", ""]
        lines += ["| cell | grade id | first line | s | share |", "|---:|---|---|---:|---:|"]
        for c in slow:
            first = c["first_line"].replace("|", "\\|")
            lines.append(f"| {c['cell']} | {c['grade_id']} | `{first}` | {c['seconds']:.1f} | {c['seconds'] / run['total_s']:.0%} |")
        lines.append(f"| – | – | the other {len(run['cells']) - len(slow)} code cells | {rest:.1f} | {rest / run['total_s']:.0%} |")
    return "\n".join(lines) + "\n"


def main(aids: list[str]) -> None:
    if not aids:
        sys.exit(__doc__)
    record = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for aid in aids:
        record[aid] = profile(aid)
        print(f"{aid}: {record[aid]['total_s']:.0f} s", flush=True)
        RESULTS.write_text(json.dumps(record, indent=1) + "\n")
        RESULTS.with_suffix(".md").write_text(render(record))
    print(render(record))


if __name__ == "__main__":
    main(sys.argv[1:])
