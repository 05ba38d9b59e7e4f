"""Repetition inside one chain of thought: is a longer chain deeper, or the same thing again?

All functions take one string and split it on whitespace. Definitions:

- repeated n-gram rate = 1 - distinct n-grams / n-grams (0 when the text
  has fewer than n tokens). Range [0, 1), higher = more repetitive.
- repeated span share = fraction of tokens covered by an n-gram that occurs
  at least twice in the text. Range [0, 1], higher = more repetitive.
- loop: a block of p tokens (1 <= p <= max_period) repeated at least
  `min_repeats` times back to back, spanning at least `min_tokens` tokens
  (the degenerate decoding loop, e.g. "Wait, let me check. Wait, let me
  check. ..."). Loops are found for every period at once from the matrix
  eq[p, i] = (tok[i] == tok[i + p]): a run of r >= (min_repeats - 1) p
  trues in row p is a block repeated (r + p) // p times.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rigorlab.metrics import _tokens
from rigorlab.metrics.errors import MetricInputError, check_positive_int
from rigorlab.metrics.info import register_metric


@dataclass(frozen=True)
class Loop:
    """Tokens [start, end) of the text are a block of `period` tokens repeated `repeats` times."""

    start: int
    end: int
    period: int
    repeats: int


def _ids(text: str) -> np.ndarray:
    if not isinstance(text, str):
        raise MetricInputError(f"a chain of thought must be a string, got {type(text).__name__}")
    return _tokens.encode([text.split()]).ids


def cot_length(text: str) -> int:
    """Number of whitespace tokens."""
    return int(_ids(text).size)


@register_metric("repeated_ngram_rate", "repeated 4-gram rate", False, (0.0, 1.0),
                 "1 - distinct/all 4-grams of the model's tokens inside a completion")
def repeated_ngram_rate(text: str, n: int = 4) -> float:
    """1 - distinct n-grams / n-grams of the text (see module doc)."""
    return _rate(_ids(text), check_positive_int(n, "n"))


def repeated_span_share(text: str, n: int = 4) -> float:
    """Fraction of tokens inside an n-gram that occurs at least twice (see module doc)."""
    return _share(_ids(text), check_positive_int(n, "n"))


def _rate(ids: np.ndarray, n: int) -> float:
    keys = _tokens.ngram_keys(ids, n, int(ids.max(initial=0)) + 1)
    if keys.size == 0:
        return 0.0
    return 1.0 - _tokens.count_distinct(keys) / keys.size


def _share(ids: np.ndarray, n: int) -> float:
    keys = _tokens.ngram_keys(ids, n, int(ids.max(initial=0)) + 1)
    if keys.size == 0:
        return 0.0
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    starts = np.flatnonzero(counts[inverse] >= 2)
    cover = np.zeros(ids.size + 1, dtype=np.int64)
    np.add.at(cover, starts, 1)
    np.add.at(cover, starts + n, -1)
    return float(np.count_nonzero(np.cumsum(cover[:-1]) > 0) / ids.size)


def find_loops(text: str, min_repeats: int = 3, min_tokens: int = 12, max_period: int = 200) -> list[Loop]:
    """Non-overlapping repetition loops, longest first when they compete, smallest period for a span."""
    return _loops(_ids(text), min_repeats, min_tokens, max_period)


def _loops(ids: np.ndarray, min_repeats: int = 3, min_tokens: int = 12, max_period: int = 200) -> list[Loop]:
    min_repeats = check_positive_int(min_repeats, "min_repeats", minimum=2)
    min_tokens = check_positive_int(min_tokens, "min_tokens")
    max_period = min(check_positive_int(max_period, "max_period"), ids.size // min_repeats)
    if max_period < 1:
        return []
    t = ids.size
    periods = np.arange(1, max_period + 1)
    # eq[p - 1, i] = ids[i] == ids[i + p], padded with False at both ends of each row
    col = np.arange(t)[None, :] + periods[:, None]
    eq = np.zeros((max_period, t + 2), dtype=bool)
    eq[:, 1:-1] = (col < t) & (ids[None, :] == ids[np.minimum(col, t - 1)])
    flat = np.diff(eq.astype(np.int8), axis=1)
    row_s, start = np.nonzero(flat == 1)
    _, stop = np.nonzero(flat == -1)                  # same order: runs in row-major order
    run = stop - start
    period = periods[row_s]
    repeats = (run + period) // period
    keep = (repeats >= min_repeats) & (repeats * period >= min_tokens)
    if not keep.any():
        return []
    start, period, repeats = start[keep], period[keep], repeats[keep]
    end = start + repeats * period
    order = np.lexsort((period, -(end - start)))      # longest span first, then smallest period
    taken = np.zeros(t, dtype=bool)
    loops = []
    for k in order:
        s, e = int(start[k]), int(end[k])
        if not taken[s:e].any():
            taken[s:e] = True
            loops.append(Loop(start=s, end=e, period=int(period[k]), repeats=int(repeats[k])))
    return sorted(loops, key=lambda lp: lp.start)


@register_metric("loop_share", "share of tokens in loops", False, (0.0, 1.0),
                 "share of a completion's tokens inside back-to-back repeated blocks")
def loop_share(text: str, **loop_options) -> float:
    """Fraction of tokens inside repetition loops. Range [0, 1], higher = more degenerate."""
    t = cot_length(text)
    return sum(lp.end - lp.start for lp in find_loops(text, **loop_options)) / t if t else 0.0


def repetition_profile(text: str, n: int = 4, **loop_options) -> dict:
    """All repetition measures of one chain of thought, plus whether it ends inside a loop
    (the signature of a generation cut off by the length limit while looping)."""
    ids = _ids(text)
    n = check_positive_int(n, "n")
    loops = _loops(ids, **loop_options)
    t = int(ids.size)
    return dict(
        length=t,
        repeated_ngram_rate=_rate(ids, n),
        repeated_span_share=_share(ids, n),
        loop_share=sum(lp.end - lp.start for lp in loops) / t if t else 0.0,
        n_loops=len(loops),
        ends_in_loop=bool(loops) and loops[-1].end == t,
        loops=[asdict(lp) for lp in loops],
    )
