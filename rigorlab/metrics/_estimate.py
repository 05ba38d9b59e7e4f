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
