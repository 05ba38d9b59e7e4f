"""Attack success rates with exact (Clopper-Pearson) intervals.

For k breaches in n independent attempts the interval is
[B(alpha/2; k, n-k+1), B(1-alpha/2; k+1, n-k)] with B the beta quantile
(Clopper and Pearson, 1934); it never undercovers, which
matters at the small n (a few campaign seeds) red-teaming works with.
"""

from __future__ import annotations

from scipy.stats import beta


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Exact two-sided 1-alpha interval for a binomial proportion k/n; (0, 1) when n == 0."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    lo = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
    return lo, hi


def asr(k: int, n: int, alpha: float = 0.05) -> dict[str, float | int | None]:
    """{'k', 'n', 'asr', 'low', 'high', 'level'}: the rate with its exact interval."""
    lo, hi = clopper_pearson(k, n, alpha)
    return {"k": k, "n": n, "asr": (k / n) if n else None, "low": round(lo, 6), "high": round(hi, 6),
            "level": 1 - alpha}
