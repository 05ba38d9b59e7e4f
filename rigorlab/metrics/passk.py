"""Unbiased pass@k (Chen et al. 2021; docs/theory.md section 8).

    pass@k = 1 - C(n - c, k) / C(n, k) = 1 - prod_{i = n-c+1}^{n} (1 - k / i)

from n >= k samples of which c are correct: the probability that a random
size-k subset of the n samples holds at least one correct one. The product
form never forms the huge binomials, so it is exact to rounding for any n.
Report the whole curve: RL-trained policies tend to win at small k and lose
to their base model at large k (Yue et al. 2025).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from rigorlab.metrics.errors import MetricInputError
from rigorlab.metrics.info import register_metric


def _as_int(value, name: str) -> int:
    try:
        ok = not isinstance(value, bool) and int(value) == value
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise MetricInputError(f"{name} must be an integer, got {value!r}")
    return int(value)


@register_metric("accuracy", "accuracy (pass@1)", True, (0.0, 1.0), "share of the eval samples the verifier accepts")
@register_metric("pass@{k}", "pass@{k}", True, (0.0, 1.0),
                 "unbiased probability that at least one of {k} samples is correct")
def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k estimate from n samples with c correct. Range [0, 1], higher = better."""
    n, c, k = _as_int(n, "n"), _as_int(c, "c"), _as_int(k, "k")
    if not 0 <= c <= n:
        raise MetricInputError(f"c must be between 0 and n={n}, got {c}")
    if not 1 <= k <= n:
        raise MetricInputError(f"k must be between 1 and n={n} (pass@k needs n >= k samples), got {k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1, dtype=np.float64)))


def pass_at_k_curve(n_list: Sequence[int], c_list: Sequence[int], ks: Iterable[int]) -> dict[int, float]:
    """Mean pass@k over prompts for every k in `ks` (prompt i has n_list[i] samples, c_list[i] correct)."""
    n_list, c_list = list(n_list), list(c_list)
    if len(n_list) != len(c_list):
        raise MetricInputError(f"n_list has {len(n_list)} prompts but c_list has {len(c_list)}")
    if not n_list:
        raise MetricInputError("pass@k needs at least one prompt")
    curve: dict[int, float] = {}
    for k in ks:
        k = _as_int(k, "k")
        short = [i for i, n in enumerate(n_list) if n < k]
        if short:
            raise MetricInputError(f"pass@{k} needs at least {k} samples per prompt; prompt #{short[0]} has {n_list[short[0]]}")
        curve[k] = float(np.mean([pass_at_k(n, c, k) for n, c in zip(n_list, c_list)]))
    return curve


def pass_at_k_per_prompt(n_list: Sequence[int], c_list: Sequence[int], k: int) -> np.ndarray:
    """pass@k of each prompt, shape (P,) (for bootstrap intervals over prompts)."""
    return np.array([pass_at_k(n, c, k) for n, c in zip(n_list, c_list)], dtype=float)
