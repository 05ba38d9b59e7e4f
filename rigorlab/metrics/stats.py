"""Confidence intervals that respect how samples were drawn.

Samples of one prompt are not independent (they share the prompt's
difficulty), so intervals resample whole prompts: the cluster bootstrap
(Davison & Hinkley 1997, section 3.8). The statistic is the pooled mean of
the resampled clusters' values; intervals are percentile intervals.
"""

from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np

from rigorlab.metrics._estimate import hoeffding_half_width
from rigorlab.metrics.errors import MetricInputError

__all__ = ["bootstrap_ci", "paired_difference", "hoeffding_half_width"]

_CELLS = 1 << 22  # bootstrap weights drawn in chunks of about this many entries


def _values(values: Sequence[float], name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0:
        raise MetricInputError(f"{name} is empty")
    if not np.isfinite(x).all():
        raise MetricInputError(f"{name} holds a NaN or infinite value at position {int(np.flatnonzero(~np.isfinite(x))[0])}")
    return x


def _cluster_index(clusters: Sequence[Hashable] | None, size: int, name: str) -> tuple[np.ndarray, list]:
    """Integer cluster index per value (each value its own cluster when None) and the labels."""
    if clusters is None:
        return np.arange(size), list(range(size))
    labels = list(clusters)
    if len(labels) != size:
        raise MetricInputError(f"{name} has {len(labels)} labels for {size} values")
    index: dict = {}
    try:
        idx = np.fromiter((index.setdefault(c, len(index)) for c in labels), dtype=np.int64, count=size)
    except TypeError:
        raise MetricInputError(f"{name} labels must be hashable") from None
    return idx, list(index)


def _weights(rng: np.random.Generator, n_boot: int, n_clusters: int):
    """Yield (rows, n_clusters) multinomial resampling counts, n_boot rows in all."""
    chunk = max(1, _CELLS // max(n_clusters, 1))
    done = 0
    p = np.full(n_clusters, 1.0 / n_clusters)
    while done < n_boot:
        rows = min(chunk, n_boot - done)
        yield rng.multinomial(n_clusters, p, size=rows).astype(float)
        done += rows


def _check(n_boot: int, alpha: float) -> None:
    if int(n_boot) != n_boot or n_boot < 1:
        raise MetricInputError(f"n_boot must be a positive integer, got {n_boot!r}")
    if not 0 < alpha < 1:
        raise MetricInputError(f"alpha must be between 0 and 1, got {alpha!r}")


def bootstrap_ci(values: Sequence[float], clusters: Sequence[Hashable] | None = None,
                 n_boot: int = 2000, alpha: float = 0.05, seed: int = 0) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean and its (1 - alpha) percentile bootstrap interval.

    With `clusters` (one label per value, e.g. the prompt), whole clusters are
    resampled with replacement and the statistic is the pooled mean.
    """
    _check(n_boot, alpha)
    x = _values(values, "values")
    idx, _ = _cluster_index(clusters, x.size, "clusters")
    sums = np.bincount(idx, weights=x)
    counts = np.bincount(idx).astype(float)
    mean = float(x.mean())
    if sums.size == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    stats = np.concatenate([(w @ sums) / (w @ counts) for w in _weights(rng, n_boot, sums.size)])
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return mean, float(lo), float(hi)


def paired_difference(a: Sequence[float], b: Sequence[float], clusters: Sequence[Hashable] | None = None,
                      clusters_b: Sequence[Hashable] | None = None, n_boot: int = 2000,
                      alpha: float = 0.05, seed: int = 0) -> dict:
    """mean(a) - mean(b) with a paired bootstrap interval, for two sample sets on the same prompts.

    Without clusters, a[i] and b[i] are a pair. With `clusters` (labels of a)
    and `clusters_b` (labels of b; defaults to `clusters`), a and b may have
    different numbers of samples per prompt; the same resampled prompts are
    used for both, which removes the prompt-difficulty variance from the
    difference. p_value: two-sided bootstrap p for a difference of 0.
    """
    _check(n_boot, alpha)
    xa, xb = _values(a, "a"), _values(b, "b")
    if clusters is None:
        if clusters_b is not None:
            raise MetricInputError("clusters_b needs clusters for a as well")
        if xa.size != xb.size:
            raise MetricInputError(f"a has {xa.size} values and b {xb.size}; unpaired sets need cluster labels")
        ia, labels_a = _cluster_index(None, xa.size, "clusters")
        ib, labels_b = ia, labels_a
    else:
        ia, labels_a = _cluster_index(clusters, xa.size, "clusters")
        ib, labels_b = _cluster_index(clusters if clusters_b is None else clusters_b, xb.size, "clusters_b")
        if set(labels_a) != set(labels_b):
            missing = next(iter(set(labels_a) ^ set(labels_b)))
            raise MetricInputError(f"prompt {missing!r} is in only one of the two sample sets")
        remap = {lab: i for i, lab in enumerate(labels_a)}
        ib = np.array([remap[labels_b[i]] for i in range(len(labels_b))])[ib]
    c = len(labels_a)
    sa, ca = np.bincount(ia, weights=xa, minlength=c), np.bincount(ia, minlength=c).astype(float)
    sb, cb = np.bincount(ib, weights=xb, minlength=c), np.bincount(ib, minlength=c).astype(float)
    mean_a, mean_b = float(xa.mean()), float(xb.mean())
    diff = mean_a - mean_b
    if c == 1:
        return dict(mean_a=mean_a, mean_b=mean_b, diff=diff, lo=diff, hi=diff, p_value=float("nan"), n_clusters=1)
    rng = np.random.default_rng(seed)
    stats = np.concatenate([(w @ sa) / (w @ ca) - (w @ sb) / (w @ cb) for w in _weights(rng, n_boot, c)])
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    p = min(1.0, 2 * min(float(np.mean(stats <= 0)), float(np.mean(stats >= 0))))
    return dict(mean_a=mean_a, mean_b=mean_b, diff=diff, lo=float(lo), hi=float(hi), p_value=p, n_clusters=c)
