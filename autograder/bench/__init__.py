"""``dlcourse bench``: what the reference models reach, how fast, next to published figures."""

from pathlib import Path

# Where every measurement lives, relative to the course root: a result is a .json and/or .md (plus plots)
# that names its machine and date; benchmarks/scripts/ holds the scripts that write them, and
# benchmarks/README.md is generated from them (autograder.bench.index).
RESULTS = Path("benchmarks") / "results"
