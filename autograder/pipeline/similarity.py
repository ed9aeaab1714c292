"""How alike two students' code is: normalized tokens, MOSS-style winnowing, a score per pair.

Only what a student wrote counts: the caller passes the answer cells with the released starter's
lines already marked for skipping. Each cell is tokenized with Python's :mod:`tokenize`; every
identifier becomes one token (renaming a variable changes nothing), every literal another, and
comments, docstrings, line breaks and indentation are dropped (re-wrapping or commenting changes
nothing). An attribute name (``np.einsum``) is kept as written: a copier has no reason to change
it, and it tells honest answers apart. Hashes of every ``K`` consecutive tokens are winnowed
(Schleimer, Wilkerson and Aiken, 2003: the smallest hash in each window of ``WINDOW``), so two
texts sharing a passage of ``K + WINDOW - 1`` tokens share a fingerprint wherever it sits; the
fingerprints of a submission form a set, so reordering functions moves nothing.

A pair's score is the Jaccard index of its fingerprint sets, after dropping fingerprints that more
than half of a class of at least :data:`COMMON_MIN_CLASS` share (code everyone writes alike says
nothing about two of them). The threshold is calibrated by ``benchmarks/scripts/similarity_calibration.py``.
"""

from __future__ import annotations

import hashlib
import io
import keyword
import re
import tokenize
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations, groupby

K = 8  # tokens in a k-gram
WINDOW = 4  # k-grams in a winnowing window
THRESHOLD = 0.5  # a pair at or above this Jaccard index is listed (see benchmarks/results/similarity_calibration.md)
MIN_SHARED = 4  # and only when it shares at least this many fingerprints: two near-empty notebooks are not alike
COMMON_MIN_CLASS = 10
COMMON_SHARE = 0.5

_WORD = re.compile(r"[A-Za-z_]\w*|\d[\w.]*|\S")


@dataclass(frozen=True)
class Token:
    text: str
    cell: str
    line: int  # 1-based line in the cell's source
    unit: int = 0  # which top-level definition of the cell it is in: k-grams never span two


@dataclass(frozen=True)
class AnswerCell:
    """One answer cell: its grade id, its source, and the released starter of that cell (not the student's work)."""

    grade_id: str
    source: str
    starter: str = ""


@dataclass
class Fingerprints:
    """A submission's winnowed fingerprints, and where each one sits (cell, first line, last line)."""

    hashes: dict[int, list[tuple[str, int, int]]] = field(default_factory=dict)

    def keys(self) -> set[int]:
        return set(self.hashes)


def _python_tokens(source: str) -> list[tuple[int, str, int]] | None:
    """(token type, text, line) of ``source``, or ``None`` when it does not tokenize."""
    try:
        return [(t.type, t.string, t.start[0]) for t in tokenize.generate_tokens(io.StringIO(source).readline)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None


_SKIPPED = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER, tokenize.ENCODING}
_FSTRING_PARTS = {getattr(tokenize, name, -1) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")}  # Python 3.12+
_STATEMENT_START = {None, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL}


def _statements(source: str, grade_id: str) -> list[list[Token]]:
    """The normalized tokens of ``source``, one list per logical line (a statement, however it is wrapped)."""
    raw = _python_tokens(source)
    if raw is None:  # code that does not tokenize (a syntax error): compare its words, line by line
        raw = []
        for number, line in enumerate(source.splitlines(), 1):
            words = _WORD.findall(line.split("#", 1)[0])
            raw += [(tokenize.NAME if w[0].isalpha() or w[0] == "_" else tokenize.OP, w, number) for w in words]
            raw.append((tokenize.NEWLINE, "", number))
    statements: list[list[Token]] = [[]]
    previous_type, previous_text = None, ""
    depth, unit = 0, 0
    for index, (kind, text, line) in enumerate(raw):
        if kind == tokenize.INDENT:
            depth += 1
        elif kind == tokenize.DEDENT:
            depth -= 1
        if kind in _SKIPPED or kind == tokenize.ERRORTOKEN and not text.strip():
            if kind == tokenize.NEWLINE and statements[-1]:
                statements.append([])
            if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL):
                previous_type = kind
            continue
        if kind == tokenize.STRING and previous_type in _STATEMENT_START:
            following = next((k for k, _, _ in raw[index + 1 :] if k not in (tokenize.COMMENT, tokenize.NL)), None)
            if following in (tokenize.NEWLINE, tokenize.ENDMARKER, None):  # a docstring, or a string on its own
                previous_type = kind
                continue
        if kind == tokenize.NAME:
            word = text if keyword.iskeyword(text) or previous_text == "." else "N"
        elif kind == tokenize.NUMBER:
            word = "0"
        elif kind == tokenize.STRING or kind in _FSTRING_PARTS:
            word = "S"
        else:
            word = text
        current = statements[-1]
        decorated = len(statements) > 1 and statements[-2][0].text == "@"
        if not current and depth == 0 and word in ("def", "class", "@", "async") and not decorated:
            unit += 1  # a new top-level definition: reordering them must not change a fingerprint
        previous_type, previous_text = kind, text
        if not (word == "S" and current and current[-1].text == "S"):  # adjacent literals, an f-string's parts: one literal
            current.append(Token(word, grade_id, line, unit))
    return [s for s in statements if s]


def normalized_tokens(cell: AnswerCell) -> list[Token]:
    """The cell's tokens as the comparison sees them, less every statement that the starter holds too."""
    starter = {tuple(t.text for t in s) for s in _statements(cell.starter, cell.grade_id)} if cell.starter else set()
    return [t for s in _statements(cell.source, cell.grade_id) if tuple(x.text for x in s) not in starter for t in s]


def _hash(words: Sequence[str]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(words).encode(), digest_size=8).digest(), "big")


def winnow(tokens: Sequence[Token], k: int = K, window: int = WINDOW) -> list[tuple[int, int]]:
    """(hash, index of the k-gram's first token) chosen by winnowing; a text shorter than ``k`` gives one k-gram, if any."""
    if not tokens:
        return []
    if len(tokens) <= k:
        return [(_hash([t.text for t in tokens]), 0)]
    grams = [_hash([t.text for t in tokens[i : i + k]]) for i in range(len(tokens) - k + 1)]
    if len(grams) <= window:
        position = min(range(len(grams)), key=lambda i: (grams[i], -i))
        return [(grams[position], position)]
    chosen: list[tuple[int, int]] = []
    for start in range(len(grams) - window + 1):
        position = min(range(start, start + window), key=lambda i: (grams[i], -i))  # the rightmost minimum
        if not chosen or chosen[-1][1] != position:
            chosen.append((grams[position], position))
    return chosen


def fingerprint(cells: Iterable[AnswerCell], k: int = K, window: int = WINDOW) -> Fingerprints:
    """Winnowed fingerprints of every top-level definition of every cell (a k-gram never spans two)."""
    found = Fingerprints()
    for cell in cells:
        for _, group in groupby(normalized_tokens(cell), key=lambda t: t.unit):
            tokens = list(group)
            for value, start in winnow(tokens, k, window):
                end = tokens[min(start + k, len(tokens)) - 1]
                found.hashes.setdefault(value, []).append((cell.grade_id, tokens[start].line, end.line))
    return found


def common_fingerprints(prints: Sequence[Fingerprints]) -> set[int]:
    """Fingerprints more than :data:`COMMON_SHARE` of a class share (none in a class under :data:`COMMON_MIN_CLASS`)."""
    if len(prints) < COMMON_MIN_CLASS:
        return set()
    counts = Counter(h for p in prints for h in p.hashes)
    return {h for h, n in counts.items() if n > COMMON_SHARE * len(prints)}


@dataclass(frozen=True)
class PairScore:
    first: int
    second: int
    score: float  # Jaccard index of the fingerprint sets
    shared: frozenset[int]

    @property
    def flagged(self) -> bool:
        return is_alike(self.score, len(self.shared))


def is_alike(score: float, shared: int) -> bool:
    """The one rule that lists a pair: the report and the calibration both use it."""
    return score >= THRESHOLD and shared >= MIN_SHARED


def score_pair(a: set[int], b: set[int], ignore: set[int] = frozenset()) -> tuple[float, frozenset[int]]:
    a, b = a - ignore, b - ignore
    union = a | b
    shared = frozenset(a & b)
    return (len(shared) / len(union) if union else 0.0), shared


def score_class(prints: Sequence[Fingerprints]) -> list[PairScore]:
    """Every pair of a class (one assignment), highest score first."""
    ignore = common_fingerprints(prints)
    keys = [p.keys() for p in prints]
    pairs = []
    for i, j in combinations(range(len(prints)), 2):
        score, shared = score_pair(keys[i], keys[j], ignore)
        pairs.append(PairScore(i, j, score, shared))
    return sorted(pairs, key=lambda p: -p.score)
