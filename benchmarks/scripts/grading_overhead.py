"""What grading one submission costs over running the same notebook plainly, per assignment.

"Plain" is what an instructor would type: ``jupyter nbconvert --to notebook --execute``
on the answered student release, in a process of its own with this environment (inline
figures, as Jupyter draws them). "Grading" is ``dlcourse grade``'s pipeline on that one
notebook in a fresh grading folder: a new class gradebook, a worker process, the
sandboxed kernel, the integrity probes, the score and the HTML feedback
(:func:`autograder.bench.runner.time_grading`, the figure ``dlcourse bench`` records).
The two alternate, ``--repeats`` times per assignment, and their medians are compared,
so the machine's drift through the run falls on both alike. Issue 13's target: at most
1.15.

A batch of one pays, besides the notebook, what every batch pays once: a worker process
that imports nbgrader, and the assignment registered in the class gradebook and in the
workers' template. ``--batch K`` also grades K copies with one worker and reports what each
further submission costs, ``(T_K - T_1) / (K - 1)``: what a class of 300 pays per student.

    python benchmarks/scripts/grading_overhead.py                                # all six, 3 repeats each
    python benchmarks/scripts/grading_overhead.py 02_backprop --repeats 5        # one assignment
    python benchmarks/scripts/grading_overhead.py 04_cnn --repeats 1 --merge     # add to the existing table
    python benchmarks/scripts/grading_overhead.py 02_backprop --batch 3 --merge  # and the cost per further submission
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = 1.15


def time_nbconvert(notebook: Path) -> float:
    """Seconds for ``jupyter nbconvert --to notebook --execute`` on ``notebook``, start to exit."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DLCOURSE_") and key != "MPLBACKEND"}
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", notebook.name, "--output", "executed.ipynb"]
    command += ["--ExecutePreprocessor.timeout=1800"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=notebook.parent, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"nbconvert failed on {notebook.name}:\n{done.stderr[-3000:]}")
    return round(seconds, 1)


def measure(assignment: str, repeats: int, batch: int = 1) -> dict:
    import nbformat

    from autograder.bench.runner import time_grading
    from autograder.pipeline.examples import answered_release

    plain, grading, further = [], [], []
    with tempfile.TemporaryDirectory(prefix="dlcourse-overhead-") as scratch:
        notebook = Path(scratch) / f"{assignment}.ipynb"
        nbformat.write(answered_release(ROOT, assignment), notebook)
        for _ in range(repeats):
            plain.append(time_nbconvert(notebook))
            grading.append(time_grading(ROOT, assignment))
            line = f"{assignment}: nbconvert {plain[-1]} s, grading one {grading[-1]} s"
            if batch > 1:
                further.append(round((time_grading(ROOT, assignment, copies=batch, workers=1) - grading[-1]) / (batch - 1), 1))
                line += f", each further one of {batch} {further[-1]} s"
            print(line, flush=True)
    row = {
        "assignment": assignment,
        "nbconvert_s": plain,
        "grading_s": grading,
        "ratio": round(statistics.median(grading) / statistics.median(plain), 3),
    }
    if further:
        row |= {"batch": batch, "further_s": further, "further_ratio": round(statistics.median(further) / statistics.median(plain), 3)}
    return row


def markdown(rows: list[dict], machine: str, day: str) -> str:
    lines = [
        "# Grading one submission against running it plainly",
        "",
        f"{machine} · {day} · `python benchmarks/scripts/grading_overhead.py`: each answer key run with",
        "`jupyter nbconvert --to notebook --execute` and graded with `dlcourse grade`'s pipeline (fresh grading",
        "folder), alternately; medians of the repeats. *Batch of one* grades that one submission alone;",
        "*each further* is what one more costs in a batch graded by one worker, `(T_K - T_1) / (K - 1)`.",
        "",
        f"| assignment | repeats | nbconvert --execute s | grading a batch of one s | / plain (target ≤ {TARGET}) | each further s | / plain |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        plain, grading = statistics.median(row["nbconvert_s"]), statistics.median(row["grading_s"])
        cells = [row["assignment"], str(len(row["grading_s"])), f"{plain:.1f}", f"{grading:.1f}", f"{row['ratio']:.2f} {_mark(row['ratio'])}"]
        if "further_s" in row:
            cells += [f"{statistics.median(row['further_s']):.1f} (K = {row['batch']})", f"{row['further_ratio']:.2f} {_mark(row['further_ratio'])}"]
        else:
            cells += ["–", "–"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _mark(ratio: float) -> str:
    return "(met)" if ratio <= TARGET else "(missed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment ids (default: all)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1, help="also grade this many copies with one worker (see above)")
    parser.add_argument("--merge", action="store_true", help="replace only these assignments' rows of the existing table")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from autograder.course import assignment_ids
    from autograder.runtime import device_report

    device = device_report()
    machine = f"{platform.machine()} CPU ({device.cpu}, {device.cores} cores)"
    rows = [measure(aid, args.repeats, args.batch) for aid in (args.assignments or assignment_ids(ROOT))]
    path = args.out / "grading_overhead.json"
    if args.merge and path.exists():
        earlier = json.loads(path.read_text())
        if earlier["machine"] != machine:
            sys.exit(f"--merge: the table was measured on {earlier['machine']}, this is {machine}; rerun all of it")
        new = {row["assignment"]: row for row in rows}
        rows = [new.pop(row["assignment"], row) for row in earlier["rows"]] + list(new.values())
    day = date.today().isoformat()
    path.write_text(json.dumps({"machine": machine, "date": day, "target": TARGET, "rows": rows}, indent=1) + "\n")
    (args.out / "grading_overhead.md").write_text(markdown(rows, machine, day))
    print((args.out / "grading_overhead.md").read_text())


if __name__ == "__main__":
    main()
