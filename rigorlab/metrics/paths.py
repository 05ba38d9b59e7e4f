"""Reasoning paths: how many genuinely different ways of solving a prompt remain.

Structured paths (a list of steps) are counted through a signature, a hash of
the normalised steps (docs/theory.md section 6). Free-text chains are grouped into
clusters of near duplicates: MinHash (Broder 1997) over word n-gram shingles
estimates the Jaccard similarity of two chains as the fraction of equal
signature entries; locality-sensitive hashing with b bands of r rows (chosen
for the threshold as `datasketch` does) proposes candidate pairs; a candidate
is linked when its estimated Jaccard reaches the threshold, and clusters are
the connected components (single linkage). The number of clusters is the
number of distinct reasoning paths; their entropy is the path entropy.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

from rigorlab.metrics import _tokens
from rigorlab.metrics.answers import answer_entropy, distinct_answers
from rigorlab.metrics.errors import MetricInputError, check_positive_int, check_texts
from rigorlab.metrics.info import register_metric

_SPACE = re.compile(r"\s+")
_MAX = np.uint64(0xFFFFFFFFFFFFFFFF)


def path_signature(steps: Sequence[str] | str) -> str:
    """Hex digest of the normalised steps (lowercased, whitespace collapsed, empty steps
    dropped); a string is split into steps at line breaks."""
    if isinstance(steps, str):
        steps = steps.splitlines()
    if not all(isinstance(s, str) for s in steps):
        raise MetricInputError("path steps must be strings")
    norm = [_SPACE.sub(" ", s).strip().lower() for s in steps]
    return hashlib.sha1("\n".join(s for s in norm if s).encode("utf-8")).hexdigest()


@register_metric("distinct_paths", "distinct reasoning paths", True, (0.0, None),
                 "different path signatures among the correct samples")
def distinct_paths(signatures: Sequence[str | None]) -> int:
    """Number of distinct path signatures (None = no path)."""
    return distinct_answers(signatures)


@register_metric("path_entropy", "path entropy (nats)", None, (0.0, None),
                 "entropy of the correct samples' path signatures")
def path_entropy(signatures: Sequence[str | None]) -> float:
    """Entropy (nats) of the path signature distribution."""
    return answer_entropy(signatures)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective 64-bit mixer."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _stable_hash(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


def shingle_hashes(texts: Sequence[str], n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of the word n-gram shingles of each text and their text index.

    Hashes depend only on the words, so signatures are comparable across calls.
    A text shorter than n words is one shingle of all its words.
    """
    texts = check_texts(texts)
    n = check_positive_int(n, "n")
    tokens = _tokens.whitespace_tokens(texts)
    word_hash = np.array([_stable_hash(w) for w in tokens.vocab], dtype=np.uint64)
    hashes, docs = [], []
    lengths = tokens.lengths
    for order in sorted({n} | {int(x) for x in lengths[(lengths > 0) & (lengths < n)]}):
        starts, doc = _tokens.within_text_starts(tokens.offsets, order)
        if order != n:                                # short texts: their whole token sequence
            keep = lengths[doc] == order
            starts, doc = starts[keep], doc[keep]
        h = np.full(starts.size, np.uint64(order), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(order):
                h = _mix(h * np.uint64(0x100000001B3) + word_hash[tokens.ids[starts + j]])
        hashes.append(h)
        docs.append(doc)
    h, d = np.concatenate(hashes), np.concatenate(docs)
    order = np.argsort(d, kind="stable")
    return h[order], d[order]


def minhash_signatures(texts: Sequence[str], n: int = 3, num_perm: int = 128, seed: int = 0) -> np.ndarray:
    """(N, num_perm) uint64 MinHash signatures; an empty text gets all-max entries."""
    num_perm = check_positive_int(num_perm, "num_perm")
    h, doc = shingle_hashes(texts, n)
    n_texts = len(texts)
    salts = np.random.default_rng(seed).integers(0, 2**63, size=num_perm, dtype=np.int64).astype(np.uint64)
    sig = np.full((n_texts, num_perm), _MAX, dtype=np.uint64)
    if h.size == 0:
        return sig
    starts = np.flatnonzero(np.concatenate(([True], doc[1:] != doc[:-1])))
    present = doc[starts]
    chunk = max(1, (1 << 23) // h.size)
    with np.errstate(over="ignore"):
        for s in range(0, num_perm, chunk):
            vals = _mix(h[:, None] ^ salts[None, s:s + chunk])          # (S, chunk)
            sig[present, s:s + chunk] = np.minimum.reduceat(vals, starts, axis=0)
    return sig


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Fraction of equal MinHash entries (unbiased for the Jaccard similarity; sd <= 0.5/sqrt(num_perm))."""
    return np.mean(np.asarray(sig_a) == np.asarray(sig_b), axis=-1)


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows) minimising the equal-weight sum of false-positive and false-negative
    probability mass around `threshold` (the rule of `datasketch.MinHashLSH`)."""
    grid = (np.arange(400) + 0.5) / 400
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1 - (1 - grid ** r) ** b
            fp = p[grid < threshold].sum() / 400
            fn = (1 - p[grid >= threshold]).sum() / 400
            if fp + fn < best_err:
                best, best_err = (b, r), fp + fn
    return best


def near_duplicate_clusters(texts: Sequence[str], threshold: float = 0.7, n: int = 3,
                            num_perm: int = 128, seed: int = 0) -> np.ndarray:
    """Cluster label per text (0, 1, ... in order of first appearance); texts whose
    shingle sets have Jaccard similarity >= threshold end up together."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not 0 < threshold <= 1:
        raise MetricInputError(f"threshold must be in (0, 1], got {threshold}")
    sig = minhash_signatures(texts, n=n, num_perm=num_perm, seed=seed)
    n_texts = sig.shape[0]
    bands, rows = lsh_params(threshold, num_perm)
    src, dst = [], []
    with np.errstate(over="ignore"):
        for b in range(bands):
            key = np.zeros(n_texts, dtype=np.uint64)
            for r in range(b * rows, (b + 1) * rows):
                key = _mix(key * np.uint64(0x100000001B3) + sig[:, r])
            order = np.argsort(key, kind="stable")
            ks = key[order]
            group_first = np.maximum.accumulate(np.where(np.concatenate(([True], ks[1:] != ks[:-1])),
                                                         np.arange(n_texts), 0))
            rep = order[group_first]
            cand = order != rep
            a, r_ = order[cand], rep[cand]
            ok = estimated_jaccard(sig[a], sig[r_]) >= threshold
            src.append(a[ok])
            dst.append(r_[ok])
    s, d = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(s.size), (s, d)), shape=(n_texts, n_texts))
    _, labels = connected_components(graph, directed=False)
    _, first = np.unique(labels, return_index=True)
    relabel = np.argsort(np.argsort(first))        # old label -> rank of its first text
    return relabel[labels]


def distinct_reasoning_paths(texts: Sequence[str], threshold: float = 0.7, **options) -> int:
    """Number of near-duplicate clusters among free-text chains. Range [1, N], higher = more diverse."""
    return int(near_duplicate_clusters(texts, threshold, **options).max()) + 1


def reasoning_path_entropy(texts: Sequence[str], threshold: float = 0.7, **options) -> float:
    """Entropy (nats) of the near-duplicate cluster sizes. Range [0, log N], higher = more diverse."""
    return answer_entropy(near_duplicate_clusters(texts, threshold, **options).tolist())
