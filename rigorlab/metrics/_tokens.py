"""Texts as integer token ids, and exact integer ids for their n-grams.

Every lexical metric reduces to counting n-grams. Doing it on int64 arrays
(one `np.unique`/sort per order, no Python tuples) is what makes the metrics
linear and fast; the ids are exact (no hashing), so counts are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Iterable, Sequence

import numpy as np

_KEY_LIMIT = 1 << 62  # keep key arithmetic inside int64


@dataclass(frozen=True)
class Tokens:
    """All texts' tokens concatenated; text i is `ids[offsets[i]:offsets[i + 1]]`."""

    ids: np.ndarray       # (T,) int64, 0 <= id < vocab_size
    offsets: np.ndarray   # (N + 1,) int64
    vocab_size: int
    vocab: tuple = ()     # the token of each id

    @property
    def n_texts(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)


def encode(token_lists: Iterable[Sequence[str]]) -> Tokens:
    """Map token lists to ids (first-occurrence order), keeping text boundaries."""
    token_lists = list(token_lists)
    lengths = np.array(list(map(len, token_lists)), dtype=np.int64)
    offsets = np.zeros(len(token_lists) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = list(chain.from_iterable(token_lists))
    words = tuple(dict.fromkeys(flat))
    vocab = dict(zip(words, range(len(words))))
    ids = np.fromiter(map(vocab.__getitem__, flat), dtype=np.int64, count=len(flat))
    return Tokens(ids=ids, offsets=offsets, vocab_size=max(len(vocab), 1), vocab=words)


def whitespace_tokens(texts: Sequence[str]) -> Tokens:
    """`str.split()` tokens of each text (the tokenisation of the `diversity` package's
    self-repetition and of most n-gram metrics)."""
    return encode(list(map(str.split, texts)))


def ngram_keys(ids: np.ndarray, n: int, vocab_size: int) -> np.ndarray:
    """Exact id of the n-gram starting at every position 0..T-n of `ids`.

    Keys preserve lexicographic order, so sorting keys sorts n-grams and the
    key of an n-gram determines the keys of its prefixes (used to count all
    orders from one sort). When V**n would overflow int64 the partial key is
    replaced by its rank (np.unique), which keeps both properties.
    """
    t = len(ids) - n + 1
    if t <= 0:
        return np.zeros(0, dtype=np.int64)
    key = ids[:t].astype(np.int64, copy=True)
    bound = vocab_size
    for j in range(1, n):
        if bound * vocab_size >= _KEY_LIMIT:
            uniq, key = np.unique(key, return_inverse=True)
            bound = max(len(uniq), 1)
        key = key * vocab_size + ids[j:t + j]
        bound *= vocab_size
    return key


def within_text_starts(offsets: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Start positions of the n-grams that do not cross a text boundary, and their text index."""
    lengths = np.diff(offsets)
    counts = np.maximum(lengths - n + 1, 0)
    doc = np.repeat(np.arange(len(lengths), dtype=np.int64), counts)
    # position = offset of the text + rank inside the text
    first = np.repeat(offsets[:-1] - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    starts = first + np.arange(counts.sum(), dtype=np.int64)
    return starts, doc


def text_ngrams(tokens: Tokens, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(key, text index) of every n-gram inside a text, in text order."""
    starts, doc = within_text_starts(tokens.offsets, n)
    keys = ngram_keys(tokens.ids, n, tokens.vocab_size)
    return keys[starts], doc


def count_distinct(keys: np.ndarray) -> int:
    """Number of distinct values (sort based, exact)."""
    if keys.size == 0:
        return 0
    s = np.sort(keys)
    return int(1 + np.count_nonzero(s[1:] != s[:-1]))
