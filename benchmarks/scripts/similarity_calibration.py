"""How well the similarity page's threshold separates disguised copies from honest answers.

Honest pairs: for every graded function of the mutation suite with correct alternatives, the
answer key's version and each alternative, paired every way (different honest answers to one
task). Copies: each of those versions against itself passed through every disguise of
:mod:`autograder.pipeline.similarity_corpus` (variables renamed, functions reordered, comments
removed and added, lines re-wrapped, blank lines added). Both at two sizes:

* one function: the hardest case (little code, so honest answers look alike and copies leave few
  fingerprints);
* a whole submission: what the page compares. A synthetic student answers every function of an
  assignment with one version; an honest pair never uses the same version for any function, and a
  copy disguises each function and shuffles their order.

Every pair is judged by :func:`autograder.pipeline.similarity.is_alike`, the rule the page uses.
Alternatives whose normalized code equals another version's are the same answer, not different
ones: such pairs are counted and left out.

    python benchmarks/scripts/similarity_calibration.py
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from datetime import date
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from autograder.course import assignment_ids  # noqa: E402
from autograder.pipeline import similarity as S  # noqa: E402
from autograder.pipeline.similarity_corpus import Version, disguise, honest_versions  # noqa: E402

TARGET_FOUND = 0.95
TARGET_FALSE = 0.02
STUDENT_PAIRS_PER_ASSIGNMENT = 40


def _normalized(v: Version, source: str | None = None) -> tuple[str, ...]:
    return tuple(t.text for t in S.normalized_tokens(v.cell(source)))


def _judge(a, b) -> dict:
    score, shared = S.score_pair(a.keys(), b.keys())
    return {"score": round(score, 4), "shared": len(shared), "flagged": S.is_alike(score, len(shared))}


def function_pairs(versions: dict[tuple[str, str], list[Version]], rng: random.Random) -> tuple[list[dict], list[dict], int]:
    honest, copies, same = [], [], 0
    for (aid, function), found in versions.items():
        prints = [S.fingerprint([v.cell()]) for v in found]
        for i, j in combinations(range(len(found)), 2):
            if _normalized(found[i]) == _normalized(found[j]):
                same += 1
                continue
            honest.append({"assignment": aid, "function": function, "pair": [found[i].name, found[j].name], **_judge(prints[i], prints[j])})
        for v, p in zip(found, prints, strict=True):
            copy = S.fingerprint([v.cell(disguise(v.source, rng))])
            copies.append({"assignment": aid, "function": function, "pair": [v.name, "disguised copy"], **_judge(p, copy)})
    return honest, copies, same


def student_pairs(versions: dict[tuple[str, str], list[Version]], rng: random.Random) -> tuple[list[dict], list[dict]]:
    honest, copies = [], []
    for aid in sorted({a for a, _ in versions}):
        functions = [(f, vs) for (a, f), vs in versions.items() if a == aid and len({_normalized(v) for v in vs}) >= 2]
        if len(functions) < 2:
            continue
        for _ in range(STUDENT_PAIRS_PER_ASSIGNMENT):
            first, second = [], []
            for _, vs in functions:
                i, j = rng.sample(range(len(vs)), 2)
                while _normalized(vs[i]) == _normalized(vs[j]):
                    i, j = rng.sample(range(len(vs)), 2)
                first.append(vs[i])
                second.append(vs[j])
            honest.append({"assignment": aid, "functions": len(functions), **_judge(_student(first), _student(second))})
            copy = [(v, disguise(v.source, rng)) for v in first]
            rng.shuffle(copy)
            copies.append({"assignment": aid, "functions": len(functions), **_judge(_student(first), _student(copy))})
    return honest, copies


def _student(answers) -> S.Fingerprints:
    cells = [v.cell() if isinstance(v, Version) else v[0].cell(v[1]) for v in answers]
    return S.fingerprint(cells)


def _rates(honest: list[dict], copies: list[dict]) -> dict:
    found = sum(p["flagged"] for p in copies) / len(copies)
    false = sum(p["flagged"] for p in honest) / len(honest)
    return {
        "honest_pairs": len(honest),
        "copy_pairs": len(copies),
        "copies_found": round(found, 4),
        "honest_flagged": round(false, 4),
        "met": found >= TARGET_FOUND and false <= TARGET_FALSE,
        "honest_flagged_examples": [p for p in honest if p["flagged"]][:10],
        "copies_missed_examples": [p for p in copies if not p["flagged"]][:10],
        "highest_honest_scores": sorted((p["score"] for p in honest), reverse=True)[:5],
        "lowest_copy_scores": sorted(p["score"] for p in copies)[:5],
    }


def machine() -> str:
    """The CPU, as the other benchmarks name it, without importing a framework."""
    import os

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.machine()} CPU ({cpu}, {os.cpu_count()} cores), Python {platform.python_version()}"


def main() -> None:
    start = time.perf_counter()
    rng = random.Random(20261207)
    versions = {(aid, f): vs for aid in assignment_ids(ROOT) for f, vs in honest_versions(ROOT, aid).items()}
    honest_f, copies_f, same = function_pairs(versions, rng)
    honest_s, copies_s = student_pairs(versions, rng)
    result = {
        "date": date.today().isoformat(),
        "machine": machine(),
        "rule": {
            "k": S.K,
            "window": S.WINDOW,
            "threshold": S.THRESHOLD,
            "min_shared": S.MIN_SHARED,
            "score": "Jaccard index of winnowed fingerprints",
        },
        "targets": {"copies_found": TARGET_FOUND, "honest_flagged": TARGET_FALSE},
        "functions": len(versions),
        "versions": sum(map(len, versions.values())),
        "identical_alternatives_left_out": same,
        "one_function": _rates(honest_f, copies_f),
        "whole_submission": _rates(honest_s, copies_s),
        "seconds": round(time.perf_counter() - start, 1),
    }
    out = ROOT / "benchmarks" / "results" / "similarity_calibration"
    out.with_suffix(".json").write_text(json.dumps(result, indent=1) + "\n")
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


def markdown(r: dict) -> str:
    rule = r["rule"]
    lines = [
        "# Similarity threshold: disguised copies against honest answers",
        "",
        f"{r['machine']} · {r['date']} · `python benchmarks/scripts/similarity_calibration.py` ({r['seconds']} s)",
        "",
        f"Rule shipped in `autograder/pipeline/similarity.py`: {rule['k']}-token k-grams, windows of {rule['window']}, "
        f"a pair is listed when the Jaccard index of its fingerprints is ≥ {rule['threshold']} and it shares ≥ {rule['min_shared']} fingerprints. "
        f"Data: {r['versions']} honest versions of {r['functions']} graded functions (answer key + the mutation suite's correct "
        f"alternatives); {r['identical_alternatives_left_out']} pairs of alternatives with the same normalized code left out. "
        "A copy carries every disguise: variables renamed, functions reordered, comments removed and added, lines re-wrapped, blank lines added.",
        "",
        f"| pairs of | honest pairs | copies | copies found (target ≥ {r['targets']['copies_found']:.0%}) | honest pairs listed (target ≤ {r['targets']['honest_flagged']:.0%}) | met |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in (("one_function", "one function"), ("whole_submission", "whole submissions")):
        x = r[key]
        lines.append(
            f"| {label} | {x['honest_pairs']} | {x['copy_pairs']} | {x['copies_found']:.1%} | {x['honest_flagged']:.1%} | {'yes' if x['met'] else 'no'} |"
        )
    lines += ["", "Honest pairs listed and copies missed (one function):", ""]
    for p in r["one_function"]["honest_flagged_examples"]:
        lines.append(
            f"- listed, honest: {p['assignment']} {p['function']}: {p['pair'][0]} / {p['pair'][1]} (score {p['score']}, {p['shared']} shared)"
        )
    for p in r["one_function"]["copies_missed_examples"]:
        lines.append(f"- missed, copy: {p['assignment']} {p['function']}: {p['pair'][0]} (score {p['score']}, {p['shared']} shared)")
    lines += [
        "",
        "A copy of a function of a line or two leaves fewer fingerprints than the rule asks for, and honest answers to such a",
        "task are often the same code: similarity cannot tell them apart, and the page says so.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
