"""Summaries of a distribution over a finite outcome set: how many modes, how much of the correct set.

Each function takes plain numpy data (probabilities or, where tiny masses
matter, log-probabilities) and says its range and direction. Zero masses are
handled exactly (0 log 0 = 0), so a collapsed distribution never gives NaN.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

ArrayLike = Sequence[float] | np.ndarray


def _probs(p: ArrayLike) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.ndim != 1 or np.any(p < 0) or not np.all(np.isfinite(p)):
        raise ValueError("expected a 1-D vector of non-negative finite masses")
    return p


def entropy(p: ArrayLike) -> float:
    """Shannon entropy in nats, in [0, log K]; higher = more spread."""
    p = _probs(p)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum()) + 0.0     # + 0.0 turns -0.0 into 0.0


def n_modes(p: ArrayLike, min_mass: float = 0.01) -> int:
    """Number of outcomes holding more than `min_mass`, in [0, K]; 1 = collapsed to one mode."""
    return int((_probs(p) > min_mass).sum())


def top_mass(p: ArrayLike) -> float:
    """Mass of the most likely outcome, in (0, 1]; 1 = a single mode."""
    return float(_probs(p).max())


def correct_mass(p: ArrayLike, correct: ArrayLike) -> float:
    """Total mass on the correct outcomes, in [0, 1]; higher = more accurate."""
    return float(_probs(p)[np.asarray(correct, dtype=bool)].sum())


def coverage(p: ArrayLike, correct: ArrayLike, min_mass: float = 0.01) -> float:
    """Fraction of correct outcomes holding more than `min_mass`, in [0, 1]; higher = more of the set kept.

    NaN-free: 0.0 when there are no correct outcomes.
    """
    c = np.asarray(correct, dtype=bool)
    if not c.any():
        return 0.0
    return float((_probs(p)[c] > min_mass).mean())


def log_mass_ratio(logp: ArrayLike, correct: ArrayLike) -> float:
    """log(max / min) of the mass among correct outcomes, in [0, inf]; 0 = all correct answers equally likely.

    Takes log-probabilities: ratios such as e^100 are finite here even when the
    smaller mass underflows to 0. Returns 0.0 for fewer than two correct outcomes.
    """
    lp = np.asarray(logp, dtype=float)[np.asarray(correct, dtype=bool)]
    if lp.size < 2:
        return 0.0
    return float(lp.max() - lp.min())


def tv_distance(p: ArrayLike, q: ArrayLike) -> float:
    """Total variation 0.5 * sum |p - q|, in [0, 1]; 0 = identical."""
    p, q = _probs(p), _probs(q)
    if p.shape != q.shape:
        raise ValueError(f"distributions of different sizes: {p.size} and {q.size}")
    return float(0.5 * np.abs(p - q).sum())


def kl_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """KL(p || q) in nats, in [0, inf]; inf when q misses mass p has."""
    p, q = _probs(p), _probs(q)
    if p.shape != q.shape:
        raise ValueError(f"distributions of different sizes: {p.size} and {q.size}")
    nz = p > 0
    if np.any(q[nz] == 0):
        return float("inf")
    return float(max((p[nz] * (np.log(p[nz]) - np.log(q[nz]))).sum(), 0.0))


def summarise(p: ArrayLike, correct: ArrayLike, ref: ArrayLike | None = None, min_mass: float = 0.01,
              logp: ArrayLike | None = None) -> dict[str, float]:
    """Every summary of `p` at once (plus TV and both KLs to `ref` when given), for tables and JSON."""
    p = _probs(p)
    with np.errstate(divide="ignore"):
        lp = np.log(p) if logp is None else np.asarray(logp, dtype=float)
    out: dict[str, float] = {
        "entropy": entropy(p),
        "n_modes": n_modes(p, min_mass),
        "top_mass": top_mass(p),
        "correct_mass": correct_mass(p, correct),
        "coverage": coverage(p, correct, min_mass),
        "log_mass_ratio_correct": log_mass_ratio(lp, correct),
    }
    if ref is not None:
        out["tv_to_ref"] = tv_distance(p, ref)
        out["kl_to_ref"] = kl_divergence(p, ref)
        out["kl_from_ref"] = kl_divergence(ref, p)
    return out
