"""``benchmarks/README.md``: one line per result in ``benchmarks/results/``, generated from the results themselves.

A result is a Markdown file (its first line ``# title``, its header naming the machine and the date) with
the files that share its name: the JSON the Markdown was rendered from and any plot (``<name>_*.png``).
Where a JSON is there, the machine and the date come from its ``machine`` and ``date`` fields (at any
depth: a table of recipes run on several days spans those days); otherwise from the Markdown's header.
The index is the only place that lists results, so it is written, never edited:
``python -m autograder.bench.index`` rewrites it, and a test fails when the committed one is stale.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import RESULTS

DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")
_GPU = re.compile(r"NVIDIA [^,;·)\n]+")
_CPU = re.compile(r"(Intel|AMD)(?:\(R\))?\s+(Xeon|EPYC|Ryzen|Core i\d)")
_CORES = re.compile(r"(\d+) (?:CPU )?(?:cores|threads)")


class ResultError(ValueError):
    """A file in ``benchmarks/results/`` that the index cannot describe; the message names it and what is missing."""


@dataclass(frozen=True)
class Result:
    name: str  # the Markdown's stem
    files: tuple[str, ...]  # names in benchmarks/results/, the Markdown first
    title: str
    machine: str
    dates: tuple[str, ...]  # sorted, distinct

    @property
    def date(self) -> str:
        return self.dates[0] if len(self.dates) == 1 else f"{self.dates[0]} to {self.dates[-1]}"


def describe_machine(text: str) -> str:
    """A machine named the one way the index uses ("Intel Xeon, 2 cores"), from however a result wrote it."""
    parts = []
    gpu = _GPU.search(text)
    if gpu:
        parts.append(gpu.group(0).strip())
    cpu, cores = _CPU.search(text), _CORES.search(text)
    if cpu:
        parts.append(f"{cpu.group(1)} {cpu.group(2)}" + (f", {cores.group(1)} cores" if cores else ""))
    elif cores:
        parts.append(f"{cores.group(1)} CPU cores")
    return ", ".join(parts)


def _machine_text(machine) -> str:
    if isinstance(machine, dict):
        named = {"cores": "cores", "cpu_threads": "CPU threads"}
        return ", ".join(f"{v} {named[k]}" if k in named else str(v) for k, v in machine.items() if k != "date")
    return str(machine)


def _walk(value, key: str):
    """Every value stored under ``key`` anywhere in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)


def _header(markdown: str) -> str:
    """The text between the title and the first table or section: where a result names its machine and date."""
    body = markdown.split("\n", 1)[1] if "\n" in markdown else ""
    return re.split(r"\n\||\n## ", body, maxsplit=1)[0]


def describe(markdown_path: Path, siblings: list[Path]) -> Result:
    markdown = markdown_path.read_text()
    first = markdown.splitlines()[0] if markdown else ""
    if not first.startswith("# "):
        raise ResultError(f"{markdown_path.name}: the first line must be the result's title ('# ...')")
    data = next((json.loads(p.read_text()) for p in siblings if p.suffix == ".json"), None)
    if data is not None:
        machines = sorted({describe_machine(_machine_text(m)) for m in _walk(data, "machine")} - {""})
        dates = {d for d in _walk(data, "date") if isinstance(d, str) and DATE.fullmatch(d)}
    else:
        machines, dates = [], set()
    header = _header(markdown)
    if not machines:
        machines = [describe_machine(header)] if describe_machine(header) else []
    if not dates:
        dates = set(DATE.findall(header))
    if not machines or not dates:
        missing = " and ".join(what for what, found in (("machine", machines), ("date", dates)) if not found)
        raise ResultError(f"{markdown_path.name}: no {missing} (in the JSON's machine/date fields or the Markdown's header)")
    return Result(
        name=markdown_path.stem,
        files=tuple(p.name for p in [markdown_path, *siblings]),
        title=first[2:].strip(),
        machine=" and ".join(machines),
        dates=tuple(sorted(dates)),
    )


def results(results_dir: Path) -> list[Result]:
    """Every result in ``results_dir``, by name; a file that belongs to no result raises :class:`ResultError`."""
    files = sorted(p for p in results_dir.iterdir() if p.is_file())
    names = [p.stem for p in files if p.suffix == ".md"]
    owned: dict[str, list[Path]] = {name: [] for name in names}
    for path in files:
        if path.suffix == ".md":
            continue
        # a JSON is its Markdown's by name; a plot by the longest result name it starts with (results_accuracy_vs_time.png)
        owners = [n for n in names if path.stem == n or (path.suffix != ".json" and path.stem.startswith(n + "_"))]
        if not owners:
            raise ResultError(f"{path.name} belongs to no result: every result has a Markdown file with its title, machine and date")
        owned[max(owners, key=len)].append(path)
    return [describe(results_dir / f"{name}.md", owned[name]) for name in names]


def _first_line(script: Path) -> str:
    doc = ast.get_docstring(ast.parse(script.read_text())) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def render(found: list[Result], scripts: list[Path]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m autograder.bench.index` from the files in `results/`: do not edit it by hand.",
        "Each result names the machine and the day it was measured on; compare times only between results of one machine.",
        "`dlcourse bench`, `dlcourse bench-grading` and `dlcourse verdicts` write theirs here by default, the scripts",
        "in `scripts/` theirs (each script's docstring says how to run it).",
        "",
        "## Results",
        "",
        "| result | machine | date | files |",
        "|---|---|---|---|",
    ]
    for r in found:
        files = ", ".join(f"[{name}](results/{name})" for name in r.files[1:]) or "–"
        lines.append(f"| [{r.title}](results/{r.files[0]}) | {r.machine} | {r.date} | {files} |")
    lines += ["", "## Scripts", "", "| script | what it measures |", "|---|---|"]
    lines += [f"| [{s.name}](scripts/{s.name}) | {_first_line(s)} |" for s in scripts]
    return "\n".join(lines) + "\n"


def write_index(benchmarks: Path) -> Path:
    """Rewrite ``benchmarks/README.md`` from ``benchmarks/results/`` and ``benchmarks/scripts/``."""
    found = results(benchmarks / RESULTS.name)
    scripts = sorted((benchmarks / "scripts").glob("*.py"))
    out = benchmarks / "README.md"
    out.write_text(render(found, scripts))
    return out


if __name__ == "__main__":
    print(write_index(Path(__file__).resolve().parents[2] / RESULTS.parent).read_text())
