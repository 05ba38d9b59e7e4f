"""TF-IDF vectors of passages and exemplars, the columns the learned layer compares and weighs.

Why a module of its own: the exemplar similarities (`exemplars.py`) and the per-indicator word
weights (`lexical.py`) both read passages through the same fitted vocabulary and idf, so a passage
is turned into one sparse row once and both use it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from rigorlab.disclosure.audit import text as T


def tokens(text: str) -> list[str]:
    """Content tokens with every number folded to '<n>': exemplars teach the form, not the value."""
    return fold_numbers(T.tokenize(text))


def fold_numbers(content: list[str]) -> list[str]:
    """`tokens` of a text whose `text.tokenize` is `content` (the text is not scanned again)."""
    return ["<n>" if t[0].isdigit() else t for t in content]


def passage_text(text: str, heading: str) -> str:
    """A passage as the exemplars see it: its innermost heading, then its text."""
    return f"{heading}\n{text}"


@dataclass
class Vectoriser:
    """Sublinear TF-IDF over a fixed vocabulary, rows L2-normalised."""

    vocab: dict[str, int]
    idf: np.ndarray

    def __call__(self, texts: list[str]) -> sparse.csr_matrix:
        return self.from_tokens([tokens(t) for t in texts])

    def from_tokens(self, token_lists: list[list[str]]) -> sparse.csr_matrix:
        """As `__call__`, for texts already turned into `tokens` (all rows counted in one pass)."""
        get = self.vocab.get
        rows: list[int] = []
        cols: list[int] = []
        for i, toks in enumerate(token_lists):
            ks = [k for k in map(get, toks) if k is not None]
            cols += ks
            rows += [i] * len(ks)
        n, width = len(token_lists), len(self.vocab)
        if not cols:
            return sparse.csr_matrix((n, width))
        key, counts = np.unique(np.asarray(rows, dtype=np.int64) * width + np.asarray(cols), return_counts=True)
        r, c = key // width, key % width
        v = (1.0 + np.log(counts)) * self.idf[c]
        v /= np.sqrt(np.bincount(r, weights=v * v, minlength=n))[r]
        indptr = np.zeros(n + 1, dtype=np.int64)     # entries are in row-major order: CSR directly
        np.cumsum(np.bincount(r, minlength=n), out=indptr[1:])
        return sparse.csr_matrix((v, c, indptr), shape=(n, width))
