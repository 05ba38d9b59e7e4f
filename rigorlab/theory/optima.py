"""Closed-form optima of J(pi) = E_pi[r] - beta * D(pi, pi_ref) over K outcomes (docs/theory.md section 3).

Everything is computed on log-probabilities, with rewards shifted by their
maximum before dividing by beta, so that beta from 1e-6 to 1e3 and rewards up
to 1e3 in magnitude give exact log-ratios and never NaN (a probability that
underflows is 0, its log is finite or -inf).

    reverse  D = KL(pi || pi_ref):  log pi* = log pi_ref + r / beta - log Z
    forward  D = KL(pi_ref || pi):  pi*     = beta pi_ref / (Lambda - r),  Lambda > max r
    entropy  D = -H(pi):            log pi* = r / beta - log Z  (pi_ref plays no part)

`mara_tau` replaces the rewards by MARA's augmented rewards first (section 4).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rigorlab.errors import UserError
from rigorlab.rl.mara import mara_augment

DIRECTIONS: tuple[str, ...] = ("reverse", "forward", "entropy")

ArrayLike = Sequence[float] | np.ndarray


def logsumexp(x: np.ndarray) -> float:
    """log sum exp(x), exact for -inf entries; -inf when all are -inf."""
    m = float(np.max(x))
    if m == -np.inf:
        return -np.inf
    return m + float(np.log(np.sum(np.exp(x - m))))


def log_distribution(pi_ref: ArrayLike, name: str = "pi_ref", normalise: bool = False,
                     atol: float = 1e-6) -> np.ndarray:
    """Validate a probability vector and return its logs (0 -> -inf).

    `normalise=False` refuses a vector that does not sum to 1 within `atol`, so
    a typo is not silently renormalised away.
    """
    p = np.asarray(pi_ref, dtype=float)
    if p.ndim != 1 or p.size == 0:
        raise UserError(f"{name} must be a non-empty list of probabilities, got shape {p.shape}")
    bad = np.flatnonzero(~np.isfinite(p))
    if bad.size:
        raise UserError(f"{name} has a non-finite value {p[bad[0]]} at position {bad[0] + 1}")
    neg = np.flatnonzero(p < 0)
    if neg.size:
        raise UserError(f"{name} has a negative probability {p[neg[0]]:g} at position {neg[0] + 1}")
    total = float(p.sum())
    if total <= 0:
        raise UserError(f"{name} puts no mass on any outcome")
    if not normalise and abs(total - 1.0) > atol:
        raise UserError(f"{name} sums to {total:.6g}, not 1; give probabilities that sum to 1 "
                        "(or ask for normalisation)")
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log(total)


def _check(ref_logp: ArrayLike | None, rewards: ArrayLike, beta: float) -> tuple[np.ndarray, np.ndarray, float]:
    r = np.asarray(rewards, dtype=float)
    if r.ndim != 1 or r.size == 0:
        raise UserError(f"rewards must be a non-empty list of numbers, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise UserError("rewards must be finite numbers")
    beta = float(beta)
    if not np.isfinite(beta) or beta <= 0:
        raise UserError(f"beta must be a positive finite number, got {beta:g}")
    if ref_logp is None:
        return np.zeros_like(r), r, beta
    lp = np.asarray(ref_logp, dtype=float)
    if lp.shape != r.shape:
        raise UserError(f"pi_ref has {lp.size} outcomes but rewards has {r.size}; they must match")
    if np.any(np.isnan(lp)) or np.any(lp == np.inf):
        raise UserError("reference log-probabilities must be finite or -inf (probability 0)")
    total = logsumexp(lp)
    if not abs(total) <= 1e-6:
        raise UserError(f"reference log-probabilities sum to probability {np.exp(total):.6g}, not 1")
    return lp, r, beta


def reverse_kl_logp(ref_logp: ArrayLike, rewards: ArrayLike, beta: float) -> np.ndarray:
    """log pi* for D = KL(pi || pi_ref): log pi_ref + (r - max r) / beta - log Z."""
    lp, r, beta = _check(ref_logp, rewards, beta)
    z = lp + (r - r[lp > -np.inf].max()) / beta
    return z - logsumexp(z)


def entropy_logp(rewards: ArrayLike, beta: float) -> np.ndarray:
    """log pi* for D = -H(pi) (entropy bonus): a softmax of r / beta."""
    _, r, beta = _check(None, rewards, beta)
    z = (r - r.max()) / beta
    return z - logsumexp(z)


def _forward(lp: np.ndarray, r: np.ndarray, beta: float) -> tuple[np.ndarray, float, float]:
    """Forward-KL optimum, max_S r and Lambda - max_S r, solved for u = (Lambda - max_S r) / beta.

    On the support S of pi_ref, pi = p / (u + g) with g = (max_S r - r) / beta >= 0,
    and sum_S p / (u + g) = 1 has its root in [P_top, 1] (P_top = pi_ref mass on
    the best outcomes): at u = P_top the best outcomes alone sum to 1, at u = 1
    every term is <= p. The sum decreases in u, so bisection on log u is safe.
    Outcomes outside S (pi_ref = 0) cost nothing in KL(pi_ref || pi); by the KKT
    conditions they get mass only if their reward exceeds the Lambda found on S,
    in which case Lambda equals that reward and they share the remaining mass.
    """
    support = lp > -np.inf
    r_max = r[support].max()
    g = np.where(support, (r_max - r) / beta, np.inf)
    with np.errstate(divide="ignore"):
        log_g = np.log(g)

    def log_mass(log_u: float) -> float:   # log sum_S p / (u + g)
        return logsumexp(np.where(support, lp - np.logaddexp(log_u, log_g), -np.inf))

    lo, hi = logsumexp(np.where(support & (g == 0), lp, -np.inf)), 0.0
    for _ in range(200):                   # bracket shrinks by 2 each time: exact in float64
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if log_mass(mid) > 0.0:
            lo = mid
        else:
            hi = mid
    log_u = hi

    outside = ~support
    if outside.any() and r[outside].max() > r_max:
        r0 = r[outside].max()
        log_u0 = float(np.log((r0 - r_max) / beta))
        if log_u0 >= log_u:                # the outside reward binds: Lambda = r0
            log_u = log_u0
            logp = np.where(support, lp - np.logaddexp(log_u, log_g), -np.inf)
            rest = -np.expm1(min(logsumexp(logp), 0.0))
            best = outside & (r == r0)
            with np.errstate(divide="ignore"):
                logp = np.where(best, np.log(rest / best.sum()), logp)
            return logp - logsumexp(logp), float(r_max), float(r0 - r_max)
    logp = np.where(support, lp - np.logaddexp(log_u, log_g), -np.inf)
    return logp - logsumexp(logp), float(r_max), float(beta * np.exp(log_u))


def forward_kl_logp(ref_logp: ArrayLike, rewards: ArrayLike, beta: float) -> np.ndarray:
    """log pi* for D = KL(pi_ref || pi): log(beta pi_ref / (Lambda - r))."""
    lp, r, beta = _check(ref_logp, rewards, beta)
    return _forward(lp, r, beta)[0]


def forward_kl_lambda(ref_logp: ArrayLike, rewards: ArrayLike, beta: float) -> float:
    """The Lagrange multiplier Lambda of the forward-KL optimum (> max reward on pi_ref's support)."""
    lp, r, beta = _check(ref_logp, rewards, beta)
    _, r_max, margin = _forward(lp, r, beta)
    return r_max + margin


def forward_kl_margin(ref_logp: ArrayLike, rewards: ArrayLike, beta: float) -> float:
    """Lambda - max reward on pi_ref's support, computed exactly (unlike Lambda - r_max).

    In [beta * P_top, beta] unless an outcome outside pi_ref's support has a higher reward.
    """
    lp, r, beta = _check(ref_logp, rewards, beta)
    return _forward(lp, r, beta)[2]


def mara_rewards(ref_logp: ArrayLike, rewards: ArrayLike, beta: float, tau: float) -> np.ndarray:
    """MARA's augmented rewards over the whole outcome set (docs/theory.md section 4).

    Anchor z = the outcome with r >= tau and the largest pi_ref; each such y gets
    r(z) + beta (log pi_ref(z) - log pi_ref(y)). Outcomes with pi_ref = 0 keep r.
    """
    lp, r, beta = _check(ref_logp, rewards, beta)
    return mara_augment(r, lp, beta, tau)[0]


def optimum_logp(ref_logp: ArrayLike, rewards: ArrayLike, beta: float, direction: str = "reverse",
                 mara_tau: float | None = None) -> np.ndarray:
    """log pi* of the regularised objective, optionally with MARA's rewards."""
    if direction not in DIRECTIONS:
        raise UserError(f"unknown direction {direction!r}; expected one of {', '.join(DIRECTIONS)}")
    lp, r, beta = _check(ref_logp, rewards, beta)
    if mara_tau is not None:
        r = mara_augment(r, lp, beta, float(mara_tau))[0]
    if direction == "reverse":
        return reverse_kl_logp(lp, r, beta)
    if direction == "forward":
        return _forward(lp, r, beta)[0]
    return entropy_logp(r, beta)


def optimum(pi_ref: ArrayLike, rewards: ArrayLike, beta: float, direction: str = "reverse",
            mara_tau: float | None = None) -> np.ndarray:
    """pi* as probabilities, from pi_ref given as probabilities (validated)."""
    return np.exp(optimum_logp(log_distribution(pi_ref), rewards, beta, direction, mara_tau))
