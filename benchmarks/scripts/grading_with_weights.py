"""Grading an answer key with the weights it trained, against grading it by training, per assignment.

For each assignment: the answered release (the key's answers in the student notebook) is graded
once with nothing handed in, so the grading kernel trains every model, as before; the grader keeps
the weights it trained (``GradingOptions.keep_trained_models``), and they go back in beside the
notebook, as a student's ``dlcourse handin`` would. That submission is then graded ``--repeats``
times, each time in a fresh grading folder with one worker, and the median is compared with the
training run. Both runs must give the key its full autograded score.

The peak resident memory is the largest peak (``VmHWM``) of any process the grading with weights
starts, read from ``/proc`` five times a second: the grading kernel, with TensorFlow loaded, is the
largest. Each grading with weights runs in a process of its own so the figure is that run's.

    python benchmarks/scripts/grading_with_weights.py                     # every assignment that trains a graded model
    python benchmarks/scripts/grading_with_weights.py 04_cnn --repeats 3 --merge
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "benchmarks" / "results" / "grading_with_weights"
TARGET_S = 30.0  # for 04 and 05


def _grade(notebook_dir: Path, workdir: Path, keep: bool) -> dict:
    from autograder.pipeline.grade import GradingOptions, grade_batch

    start = time.perf_counter()
    [sub] = grade_batch(ROOT, notebook_dir.parent, workdir, options=GradingOptions(workers=1, audit_fraction=0, keep_trained_models=keep))
    return {
        "seconds": time.perf_counter() - start,
        "status": str(sub.status),
        "auto_score": sub.auto_score,
        "auto_max_score": sub.auto_max_score,
        "training": [f"{t.name}: {t.outcome}" for t in sub.result.training],
    }


class PeakMemory:
    """The largest ``VmHWM`` (peak resident set) of this process's descendants, polled from /proc while it runs."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak_kb, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self.interval):
            for child in me.children(recursive=True):
                try:
                    with open(f"/proc/{child.pid}/status") as status:
                        for line in status:
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:  # it ended between the listing and the read
                    pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def one_grading(folder: str) -> None:
    """Child process: grade ``folder`` (a student's folder) once and print the result as JSON, with its processes' peak RSS."""
    with tempfile.TemporaryDirectory(prefix="bench-weights-") as scratch, PeakMemory() as memory:
        result = _grade(Path(folder), Path(scratch) / "grading", keep=False)
    result["peak_rss_mb"] = memory.peak_kb / 1024
    print("RESULT " + json.dumps(result))


def measure(aid: str, repeats: int) -> dict:
    import nbformat

    from autograder.pipeline.examples import answered_release

    with tempfile.TemporaryDirectory(prefix=f"bench-{aid}-") as scratch:
        student = Path(scratch) / "submissions" / "alice"
        student.mkdir(parents=True)
        nbformat.write(answered_release(ROOT, aid), student / f"{aid}.ipynb")
        trained = _grade(student, Path(scratch) / "trained", keep=True)
        shutil.copytree(Path(scratch) / "trained" / "trained_models" / "alice" / aid, student / "trained_models")
        reused = []
        for _ in range(repeats):
            run = subprocess.run([sys.executable, __file__, "--child", str(student)], capture_output=True, text=True, check=True)
            reused.append(json.loads(next(line for line in run.stdout.splitlines() if line.startswith("RESULT "))[len("RESULT ") :]))
    median = statistics.median(r["seconds"] for r in reused)
    return {
        "assignment": aid,
        "trained_s": round(trained["seconds"], 1),
        "with_weights_s": round(median, 1),
        "with_weights_runs_s": [round(r["seconds"], 1) for r in reused],
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in reused)),
        "score_trained": f"{trained['auto_score']:g}/{trained['auto_max_score']:g}",
        "score_with_weights": sorted({f"{r['auto_score']:g}/{r['auto_max_score']:g}" for r in reused}),
        "restored": reused[0]["training"],
    }


def tensorflow_import_mb() -> float:
    """Peak resident memory of a fresh Python that only imports TensorFlow and Keras: the floor of any grading kernel."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    code = "import os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow, keras"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    return max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def machine() -> dict:
    from autograder.runtime import _cpu_model

    return {"cpu": _cpu_model(), "cores": len(os.sched_getaffinity(0)), "python": platform.python_version(), "date": date.today().isoformat()}


def render(payload: dict) -> str:
    m = payload["machine"]
    lines = [
        "# Grading with the student's weights",
        "",
        f"{m['cpu']}, {m['cores']} cores, {m['date']}. The answer key graded by training (one run) and with the weights that run",
        f"trained handed in beside it (median of {payload['repeats']} runs, one worker, a fresh grading folder each).",
        "Peak memory: the largest process of a grading run with weights (the sandboxed kernel). A Python that only imports",
        f"TensorFlow and Keras peaks at {payload['tensorflow_import_mb']:.0f} MB on the same machine: Gradescope's default 768 MB cannot hold a kernel with the data.",
        "",
        "| assignment | trained at grading, s | with weights, s | speed-up | peak memory, MB | score trained | score with weights |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in payload["rows"]:
        lines.append(
            f"| {r['assignment']} | {r['trained_s']:.1f} | {r['with_weights_s']:.1f} | {r['trained_s'] / r['with_weights_s']:.1f}x | "
            f"{r['peak_rss_mb']} | {r['score_trained']} | {', '.join(r['score_with_weights'])} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    from autograder.course import assignments_that_train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment that trains a graded model")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--merge", action="store_true", help="keep the other assignments' rows of the existing file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--import-only", action="store_true", help="only measure TensorFlow's import into the existing files")
    args = parser.parse_args()
    if args.child:
        return one_grading(args.child)
    if args.import_only:
        payload = json.loads(OUT.with_suffix(".json").read_text()) | {"tensorflow_import_mb": round(tensorflow_import_mb())}
        OUT.with_suffix(".json").write_text(json.dumps(payload, indent=1) + "\n")
        OUT.with_suffix(".md").write_text(render(payload))
        return print(render(payload))
    rows = {}
    path = OUT.with_suffix(".json")
    if args.merge and path.exists():
        rows = {r["assignment"]: r for r in json.loads(path.read_text())["rows"]}
    for aid in args.assignments or assignments_that_train(ROOT):
        rows[aid] = measure(aid, args.repeats)
        print(json.dumps(rows[aid]), flush=True)
    payload = {
        "machine": machine(),
        "repeats": args.repeats,
        "rows": [rows[a] for a in sorted(rows)],
        "tensorflow_import_mb": round(tensorflow_import_mb()),
    }
    path.write_text(json.dumps(payload, indent=1) + "\n")
    OUT.with_suffix(".md").write_text(render(payload))
    print(render(payload))


if __name__ == "__main__":
    main()
