"""The result of a metric that can be computed exactly or estimated from a sample."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Estimate:
    """A value with how it was obtained.

    exact: `half_width` is 0. sampled: the true value lies within
    `value +- half_width` with probability at least `confidence`
    (the bound each sampled metric states in its docstring).
    """

    value: float
    half_width: float = 0.0
    confidence: float = 1.0
    method: str = "exact"
    n: int = 0  # pairs (or probes) the value was computed from

    def __float__(self) -> float:
        return float(self.value)

    @property
    def exact(self) -> bool:
        return self.method == "exact"

    def to_dict(self) -> dict:
        return asdict(self)


def hoeffding_half_width(n_samples: int, confidence: float = 0.95, value_range: float = 1.0) -> float:
    """Hoeffding (1963): a mean of n i.i.d. draws in an interval of width `value_range`
    is within this of its expectation with probability >= `confidence`."""
    if n_samples <= 0:
        return math.inf
    return value_range * math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * n_samples))


def empirical_bernstein_half_width(values, confidence: float = 0.95, value_range: float = 1.0) -> float:
    """Maurer & Pontil (2009, Theorem 4), two-sided: with probability >= `confidence` the
    mean of n i.i.d. draws in an interval of width R is within
    sqrt(2 V ln(4/delta) / n) + 7 R ln(4/delta) / (3 (n - 1)) of its expectation,
    V the unbiased sample variance. Much tighter than Hoeffding when V << R^2."""
    import numpy as np

    x = np.asarray(values, dtype=float)
    n = x.size
    if n < 2:
        return math.inf
    log_term = math.log(4.0 / (1.0 - confidence))
    return math.sqrt(2.0 * float(x.var(ddof=1)) * log_term / n) + 7.0 * value_range * log_term / (3.0 * (n - 1))
