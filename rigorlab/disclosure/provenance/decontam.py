"""Decontamination check: n-gram overlap between training and evaluation prompts.

Each text is lower-cased and split into word and punctuation tokens (so that
"12+7" and "12-7" differ). An evaluation example is contaminated when it
shares at least one n-gram with any training example; a text shorter than n
tokens is compared whole (exact match after normalisation), the convention
of the GPT-3 overlap analysis (Brown et al., 2020, appendix C), so short
arithmetic prompts are not silently skipped.
"""

from __future__ import annotations

import re
from typing import Sequence

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokens(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens."""
    return _TOKEN.findall(text.lower())


def ngrams(toks: Sequence[str], n: int) -> set[tuple[str, ...]]:
    """All n-grams, or the whole token tuple when shorter than n."""
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def ngram_overlap(train: Sequence[str], evaluation: Sequence[str], n: int = 8,
                  max_listed: int = 50) -> dict:
    """Which evaluation texts share an n-gram with a training text.

    Returns counts (evaluation examples, contaminated, fraction), the number of
    texts compared whole because they are shorter than n tokens, and up to
    `max_listed` overlapping pairs with the shared n-gram.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    index: dict[tuple[str, ...], int] = {}
    short_train = 0
    for i, text in enumerate(train):
        toks = tokens(text)
        short_train += len(toks) < n
        for g in ngrams(toks, n):
            index.setdefault(g, i)
    hits: list[dict] = []
    contaminated = 0
    short_eval = 0
    for j, text in enumerate(evaluation):
        toks = tokens(text)
        short_eval += len(toks) < n
        found = None
        # Deterministic: the first matching n-gram in text order.
        if len(toks) < n:
            g = tuple(toks)
            if g and g in index:
                found = g
        else:
            for k in range(len(toks) - n + 1):
                g = tuple(toks[k:k + n])
                if g in index:
                    found = g
                    break
        if found is None:
            continue
        contaminated += 1
        if len(hits) < max_listed:
            ti = index[found]
            hits.append({
                "eval_index": j,
                "train_index": ti,
                "shared": " ".join(found),
                "eval_text": _short(text),
                "train_text": _short(train[ti]),
            })
    m = len(evaluation)
    return {
        "n": n,
        "method": f"word/punctuation {n}-gram overlap after lower-casing; texts shorter than "
                  f"{n} tokens compared whole",
        "train_examples": len(train),
        "eval_examples": m,
        "contaminated": contaminated,
        "fraction": (contaminated / m) if m else 0.0,
        "short_train_texts": short_train,
        "short_eval_texts": short_eval,
        "overlaps": hits,
        "overlaps_listed": len(hits),
    }
