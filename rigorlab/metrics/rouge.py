"""Homogenisation by ROUGE-L (Padmakumar & He 2023; `diversity.homogenization_score`).

    H = 1 / (N (N - 1)) * sum_{i != j} ROUGE-L_F1(t_i, t_j)

ROUGE-L F1 is symmetric, so H is the mean over unordered pairs. Tokens are
`rouge_score`'s default tokenizer (lowercase, every run of characters outside
[a-z0-9] is a separator, no stemming), as the package uses it.

Deliberate difference: the package adds N to the total when the total is 0,
so a set where every pair shares no token scores 1.0 (maximally homogeneous)
instead of 0.0. Here such a set scores 0.0.

Speed: the LCS of two token sequences is computed with the bit-parallel
algorithm of Allison & Dix (1986) / Hyyro (2004): the positions of each token
in the shorter text are a bit mask, and one pass over the other text updates
a bit vector V with  V <- (V + (V & M[b])) | (V & ~M[b]);  the LCS is the
number of zero bits of V. One pass costs ceil(m / 64) word operations per
token, and all partners of a block of texts are processed together in numpy.
Exact mode: all N(N-1)/2 pairs, O(N^2 L ceil(L/64)) time, O(N L) memory.
Sampled mode: `sample_pairs` pairs drawn uniformly with replacement; scores
lie in [0, 1], so by Hoeffding's inequality |estimate - H| <= half_width
with probability >= confidence.
"""

from __future__ import annotations

import re
from typing import Sequence

import numpy as np

from rigorlab.metrics import _tokens
from rigorlab.metrics._estimate import Estimate, hoeffding_half_width
from rigorlab.metrics.errors import check_positive_int, check_texts

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)


def rouge_tokens(text: str) -> list[str]:
    """`rouge_score.tokenize.tokenize(text, stemmer=None)`."""
    return _NON_ALNUM.sub(" ", text.lower()).split()


def rouge_l_f1(a: str, b: str) -> float:
    """ROUGE-L F1 of two texts (symmetric). Range [0, 1], higher = more similar."""
    return _pair_scores(_tokens.encode([rouge_tokens(a), rouge_tokens(b)]), np.array([0]), np.array([1]))[0]


def homogenization_rougel(texts: Sequence[str], sample_pairs: int | None = None,
                          seed: int = 0, confidence: float = 0.95) -> Estimate:
    """Mean ROUGE-L F1 over pairs of texts. Range [0, 1], higher = more homogeneous.

    `sample_pairs=None` (or at least the number of pairs): exact. Otherwise an
    estimate from that many uniformly drawn pairs, with the Hoeffding bound.
    """
    texts = check_texts(texts, min_count=2)
    tokens = _tokens.encode([rouge_tokens(t) for t in texts])
    n = len(texts)
    n_pairs = n * (n - 1) // 2
    if sample_pairs is None or check_positive_int(sample_pairs, "sample_pairs") >= n_pairs:
        return Estimate(value=_exact_pair_sum(tokens) / n_pairs, n=n_pairs)
    rng = np.random.default_rng(seed)
    i = rng.integers(0, n, size=sample_pairs)
    j = rng.integers(0, n - 1, size=sample_pairs)
    j = j + (j >= i)                                  # uniform over j != i
    scores = _pair_scores(tokens, i, j)
    return Estimate(value=float(scores.mean()), n=int(sample_pairs), method="sampled",
                    half_width=hoeffding_half_width(sample_pairs, confidence), confidence=confidence)


# ---------------------------------------------------------------- bit-parallel LCS

def _padded(tokens: _tokens.Tokens, order: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Token matrix (N, Lmax) of the texts in `order`, padded with id V (matches nothing)."""
    lens = tokens.lengths[order]
    pad = tokens.vocab_size
    mat = np.full((len(order), max(int(lens.max(initial=0)), 1)), pad, dtype=np.int64)
    row = np.repeat(np.arange(len(order)), lens)
    col = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    mat[row, col] = tokens.ids[np.repeat(tokens.offsets[:-1][order], lens) + col]
    return mat, lens, pad


def _step(v: np.ndarray, x: np.ndarray) -> None:
    """V <- (V + (V & X)) | (V & ~X) in place; last axis = 64-bit words, low word first."""
    u = v & x
    if v.shape[-1] == 1:
        s = v + u
    else:  # multi-word addition with carry
        s = np.empty_like(v)
        carry = np.zeros(v.shape[:-1], dtype=np.uint64)
        for w in range(v.shape[-1]):
            a = v[..., w] + u[..., w]
            c1 = a < v[..., w]
            b = a + carry
            carry = (c1 | (b < a)).astype(np.uint64)
            s[..., w] = b
    np.bitwise_xor(v, u, out=v)                       # V & ~X  (u is a subset of V)
    np.bitwise_or(v, s, out=v)


def _zeros_in_low_bits(v: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Number of zero bits among the m lowest bits of each bit vector (the LCS length)."""
    words = v.shape[-1]
    shift = np.clip(m[..., None] - 64 * np.arange(words), 0, 64)      # valid bits per word
    mask = np.where(shift >= 64, _ONES, (np.uint64(1) << np.minimum(shift, 63).astype(np.uint64)) - np.uint64(1))
    return m - _popcount(v & mask).sum(axis=-1)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    return table[x[..., None].view(np.uint8)].sum(axis=-1)


def _f1(lcs: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> np.ndarray:
    """rouge_score's F1 from precision lcs/len_b and recall lcs/len_a (0 when lcs = 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = lcs / len_b
        r = lcs / len_a
        f = 2 * p * r / (p + r)
    return np.where(lcs > 0, f, 0.0)


def _exact_pair_sum(tokens: _tokens.Tokens, block: int = 64) -> float:
    """Sum of F1 over all pairs i < j. Texts sorted by decreasing length: a block
    of texts (bit masks, the 'pattern') against every shorter text after it."""
    order = np.argsort(-tokens.lengths, kind="stable")
    mat, lens, pad = _padded(tokens, order)
    n = len(order)
    local = np.zeros(pad + 1, dtype=np.int64)         # global id -> block-local id, 0 = absent
    total = 0.0
    words = max(1, -(-int(lens[0]) // 64)) if n else 1
    block = max(1, min(block, (1 << 21) // max(1, n * words)))
    for s in range(0, n - 1, block):
        e = min(s + block, n - 1)
        b, steps = e - s, int(lens[s + 1])
        if steps == 0:
            break                                     # every later text is empty
        k_words = max(1, -(-int(lens[s]) // 64))
        pat = mat[s:e, : max(int(lens[s]), 1)]
        rr, kk = np.nonzero(pat != pad)
        uniq = np.unique(pat[rr, kk])
        local[uniq] = np.arange(1, len(uniq) + 1)
        table = np.zeros((b, len(uniq) + 1, k_words), dtype=np.uint64)
        np.bitwise_or.at(table, (rr, local[pat[rr, kk]], kk // 64),
                         np.left_shift(np.uint64(1), (kk % 64).astype(np.uint64)))
        table = table.reshape(b * (len(uniq) + 1), k_words)
        partners = np.ascontiguousarray(local[mat[s + 1:, :steps]].T)   # (steps, n_j)
        local[uniq] = 0
        base = (np.arange(b) * (len(uniq) + 1))[None, :]
        lens_j = lens[s + 1:]
        v = np.full((n - s - 1, b, k_words), _ONES, dtype=np.uint64)    # (n_j, b, words)
        active = np.searchsorted(-lens_j, -np.arange(steps), side="left")  # partners longer than t
        for t in range(steps):
            c = int(active[t])
            x = np.take(table, partners[t, :c, None] + base, axis=0)     # (c, b, words)
            _step(v[:c], x)
        lcs = _zeros_in_low_bits(v, np.broadcast_to(lens[s:e][None, :], v.shape[:2]))
        f = _f1(lcs, lens[s:e][None, :].astype(float), lens_j[:, None].astype(float))
        valid = np.arange(n - s - 1)[:, None] >= np.arange(b)[None, :]  # partner index > pattern index
        total += float(f[valid].sum())
    return total


def _pair_scores(tokens: _tokens.Tokens, i: np.ndarray, j: np.ndarray, budget: int = 1 << 25) -> np.ndarray:
    """F1 of the given pairs; bit masks built by comparing the two token rows."""
    order = np.arange(tokens.n_texts)
    mat, lens, pad = _padded(tokens, order)
    out = np.empty(len(i), dtype=np.float64)
    per_pair = mat.shape[1] * mat.shape[1]
    chunk = max(1, budget // max(per_pair, 1))
    for s in range(0, len(i), chunk):
        a_idx, b_idx = i[s:s + chunk], j[s:s + chunk]
        la, lb = lens[a_idx], lens[b_idx]
        wa = max(1, -(-int(la.max(initial=0)) // 64)) * 64
        a = np.full((len(a_idx), wa), -1, dtype=np.int64)
        width = min(wa, mat.shape[1])
        a[:, :width] = np.where(mat[a_idx, :width] == pad, -1, mat[a_idx, :width])
        bm = mat[b_idx, : max(int(lb.max(initial=0)), 1)]
        eq = bm[:, :, None] == a[:, None, :]                               # (B, Lb, Wa)
        masks = np.packbits(eq, axis=2, bitorder="little").view("<u8")     # (B, Lb, words)
        v = np.full((len(a_idx), masks.shape[2]), _ONES, dtype=np.uint64)
        for t in range(bm.shape[1]):
            _step(v, masks[:, t, :])
        lcs = _zeros_in_low_bits(v, la)
        out[s:s + chunk] = _f1(lcs, la.astype(float), lb.astype(float))
    return out
