"""Self-BLEU (Zhu et al. 2018, Texygen): how much each text is a BLEU match for the others.

    Self-BLEU = mean_i BLEU(hypothesis t_i, references {t_j : j != i})

BLEU is sentence BLEU as in NLTK's `sentence_bleu` (Papineni et al. 2002):
uniform weights over orders 1..max_n, modified n-gram precision clipped by
the maximum count in any single reference, brevity penalty against the
closest reference length (ties: the shorter), and smoothing method 1 of Chen
& Cherry (2014) (NLTK `SmoothingFunction().method1`, Texygen's choice): an
order with no match gets precision epsilon / (number of hypothesis n-grams),
epsilon = 0.1. A hypothesis without a single unigram match scores 0.
Tokens are `str.split()`. Range [0, 1], higher = more homogeneous.

Exact in linear time: the clip count of n-gram g for hypothesis i is the
largest count of g in any other text, which is the largest count of g
overall unless text i holds it, then the second largest. So one pass keeps
the top two counts per n-gram instead of comparing N^2 pairs.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rigorlab.metrics import _tokens
from rigorlab.metrics.errors import MetricInputError, check_positive_int, check_texts


def self_bleu(texts: Sequence[str], max_n: int = 4, epsilon: float = 0.1) -> float:
    """Mean sentence BLEU-`max_n` of each text against all the others (see module doc)."""
    scores = self_bleu_scores(texts, max_n=max_n, epsilon=epsilon)
    return float(scores.mean())


def self_bleu_scores(texts: Sequence[str], max_n: int = 4, epsilon: float = 0.1) -> np.ndarray:
    """BLEU of each text against all the others, shape (N,)."""
    texts = check_texts(texts, min_count=2)
    max_n = check_positive_int(max_n, "max_n")
    if not epsilon > 0:
        raise MetricInputError(f"epsilon must be > 0, got {epsilon}")
    tokens = _tokens.whitespace_tokens(texts)
    n_texts = len(texts)
    hyp_len = tokens.lengths
    log_p = np.zeros(n_texts)
    first_order_matches = None
    for n in range(1, max_n + 1):
        num = _clipped_matches(tokens, n)
        den = np.maximum(hyp_len - n + 1, 1).astype(float)
        if n == 1:
            first_order_matches = num
        p = np.where(num > 0, num, epsilon) / den
        log_p += (1.0 / max_n) * np.log(p)
    bleu = _brevity_penalty(hyp_len) * np.exp(log_p)
    return np.where(first_order_matches > 0, bleu, 0.0)


def _clipped_matches(tokens: _tokens.Tokens, n: int) -> np.ndarray:
    """Per text: sum over its n-grams g of min(count in text, max count in any other text)."""
    keys, doc = _tokens.text_ngrams(tokens, n)
    out = np.zeros(tokens.n_texts)
    if keys.size == 0:
        return out
    uniq, rank = np.unique(keys, return_inverse=True)
    u = len(uniq)
    pair, cnt = np.unique(doc * u + rank, return_counts=True)   # (text, n-gram) -> count
    d, g = pair // u, pair % u
    order = np.lexsort((-cnt, g))                                # by n-gram, largest count first
    gs, cs, ds = g[order], cnt[order], d[order]
    first = np.flatnonzero(np.concatenate(([True], gs[1:] != gs[:-1])))
    top1 = np.zeros(u, dtype=np.int64)
    top2 = np.zeros(u, dtype=np.int64)
    owner = np.full(u, -1, dtype=np.int64)
    top1[gs[first]] = cs[first]
    owner[gs[first]] = ds[first]
    second = first + 1
    has_second = second < gs.size
    has_second[has_second] = gs[second[has_second]] == gs[first[has_second]]
    top2[gs[first[has_second]]] = cs[second[has_second]]
    ref_max = np.where(owner[g] == d, top2[g], top1[g])
    return np.bincount(d, weights=np.minimum(cnt, ref_max), minlength=tokens.n_texts)


def _brevity_penalty(hyp_len: np.ndarray) -> np.ndarray:
    """exp(1 - r/h) when h <= r, r the other text length closest to h (ties: shorter)."""
    lengths, counts = np.unique(hyp_len, return_counts=True)
    idx = np.searchsorted(lengths, hyp_len)
    below = np.where(idx > 0, lengths[np.maximum(idx - 1, 0)], -1)
    above = np.where(idx + 1 < lengths.size, lengths[np.minimum(idx + 1, lengths.size - 1)], -1)
    big = np.iinfo(np.int64).max // 4
    d_below = np.where(below >= 0, hyp_len - below, big)
    d_above = np.where(above >= 0, above - hyp_len, big)
    closest = np.where(d_below <= d_above, below, above)
    closest = np.where(counts[idx] >= 2, hyp_len, closest)       # another text of the same length
    h = hyp_len.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        bp = np.exp(1.0 - closest / h)
    return np.where(hyp_len > closest, 1.0, np.where(hyp_len == 0, 0.0, bp))
