"""Study statistics: the intervals cover the true mean near their stated 95%, where a percentile
bootstrap over three seeds does not; pairing removes shared variance; statements are plain.

The simulations draw a seeds x prompts table from a random-effects model
y = mu + seed effect + prompt effect + noise (crossed: the same prompts under
every seed, as on `pairs`; nested: each seed draws its own, as on `chain`),
compute the interval, and count how often it holds mu. Seeds are fixed, so the
counts below are deterministic; with 400 replicates a coverage's binomial
standard error near 0.95 is 0.011.
"""

from __future__ import annotations

import numpy as np
import pytest

from rigorlab.metrics.stats import bootstrap_ci
from rigorlab.study.intervals import (Interval, compare, coverage_rate, interval, paired, satterthwaite_df,
                                       statement, t_interval, t_quantile)

MU = 0.5


def _table(rng, S, P, sa=0.05, sb=0.10, se=0.03, nested=False):
    if nested:
        y = MU + rng.normal(0, sa, (S, 1)) + rng.normal(0, sb, (S, P)) + rng.normal(0, se, (S, P))
        prompts = np.arange(S * P)
    else:
        y = MU + rng.normal(0, sa, (S, 1)) + rng.normal(0, sb, (1, P)) + rng.normal(0, se, (S, P))
        prompts = np.tile(np.arange(P), S)
    return y.ravel(), np.repeat(np.arange(S), P), prompts


def _coverage(S, P, reps=400, n_boot=400, seed=0, **kw):
    rng = np.random.default_rng(seed)
    trials = []
    for r in range(reps):
        y, s, p = _table(rng, S, P, **kw)
        trials.append((t_interval(y, s, p, n_boot=n_boot, rng_seed=r), MU))
    return coverage_rate(trials)


@pytest.mark.parametrize("p, df, expected", [(0.975, 1, 12.7062047), (0.975, 2, 4.3026527), (0.975, 10, 2.2281389),
                                             (0.975, 2.5, 3.5746548), (0.95, 30, 1.6972609)])
def test_t_quantile_matches_tables(p, df, expected):
    """Reference values: scipy.stats.t.ppf (scipy is not a dependency; printed once, stored here)."""
    assert t_quantile(p, df) == pytest.approx(expected, abs=2e-6)


@pytest.mark.parametrize("S, nested", [(3, False), (10, False), (3, True)])
def test_interval_covers_near_the_stated_rate(S, nested):
    cov = _coverage(S, 13 if not nested else 16, nested=nested)
    assert 0.91 <= cov <= 0.99, cov


def test_coverage_holds_when_one_source_of_variance_dominates():
    assert 0.90 <= _coverage(3, 13, sa=0.05, sb=0.0, seed=1) <= 0.99     # seeds only (measured 0.92)
    assert 0.91 <= _coverage(3, 13, sa=0.0, sb=0.10, seed=2) <= 0.995   # prompts only


def test_percentile_bootstrap_over_three_seeds_undercovers():
    """Why the study does not use a percentile bootstrap clustered by seed: with 3 seeds it misses."""
    rng = np.random.default_rng(3)
    hits = 0
    reps = 400
    for r in range(reps):
        y, s, _ = _table(rng, 3, 13)
        _, lo, hi = bootstrap_ci(y, clusters=s, n_boot=400, seed=r)
        hits += lo <= MU <= hi
    assert hits / reps < 0.80, hits / reps


def test_degrees_of_freedom_follow_the_design():
    rng = np.random.default_rng(4)
    y, s, p = _table(rng, 3, 13, nested=True)
    assert satterthwaite_df(y, s, p) == 2.0                      # nested: S - 1
    y, s, p = _table(rng, 3, 13, sa=0.0, sb=0.2, se=0.001)
    assert satterthwaite_df(y, s, p) > 8                         # prompt variance dominates: near P - 1
    y, s, p = _table(rng, 3, 13, sa=0.2, sb=0.0, se=0.001)
    assert satterthwaite_df(y, s, p) < 2.5                       # seed variance dominates: near S - 1


def test_pairing_removes_shared_variance():
    rng = np.random.default_rng(5)
    base, arm = {}, {}
    seed_fx, prompt_fx = rng.normal(0, 0.1, 3), rng.normal(0, 0.2, 13)
    for s in range(3):
        for p in range(13):
            shared = 0.5 + seed_fx[s] + prompt_fx[p]
            base[(s, p)] = shared + rng.normal(0, 0.005)
            arm[(s, p)] = shared + 0.02 + rng.normal(0, 0.005)
    a, b, d = interval(arm), interval(base), paired(arm, base)
    assert a.overlaps(b)                                     # unpaired: the shared effects swamp 0.02
    assert d.excludes_zero() and d.lo > 0.01 and d.hi < 0.03  # paired: the difference is resolved
    assert d.hi - d.lo < 0.1 * (a.hi - a.lo)
    text = statement("accuracy", "arm", "base", a, b, d, True)
    assert "intervals overlap, but the paired difference +0.019 [+0.015, +0.023] excludes 0" in text


def test_seed_level_values_use_seeds_only():
    iv = interval({(0, None): 1.0, (1, None): 2.0, (2, None): 3.0})
    assert iv.n_seeds == 3 and iv.n_prompts == 0 and iv.df == 2
    assert iv.mean == 2.0 and iv.lo < 2.0 < iv.hi
    assert interval({(0, None): 1.0}).lo == 1.0        # one run: no spread to estimate


def test_statements_say_plainly_what_the_seeds_show():
    a = Interval(0.80, 0.75, 0.85, 3, 13)
    b = Interval(0.70, 0.66, 0.74, 3, 13)
    d = Interval(0.10, 0.06, 0.14, 3, 13)
    s = statement("accuracy (pass@1)", "mara", "grpo", a, b, d, True)
    assert s.startswith("mara is higher (better) than grpo on accuracy (pass@1)") and "do not overlap" in s
    s = statement("TV to pi*", "mara", "grpo", a, b, d, False)
    assert "higher (worse)" in s
    c = Interval(0.72, 0.65, 0.80, 3, 13)
    s = statement("accuracy (pass@1)", "beta0", "grpo", c, b, Interval(0.02, -0.03, 0.07, 3, 13), True)
    assert "intervals overlap and the paired difference +0.020 [-0.030, +0.070] includes 0" in s
    assert "3 seeds do not separate these arms" in s


def test_compare_pairs_each_arm_with_its_baseline():
    rng = np.random.default_rng(6)
    values = {name: {(s, p): float(rng.normal(mu, 0.05)) for s in range(3) for p in range(5)}
              for name, mu in (("grpo", 0.5), ("better", 0.9), ("same", 0.5))}
    out = compare(values, {"grpo": None, "better": "grpo", "same": "grpo"}, "acc", True, n_boot=500)
    assert set(out["arms"]) == {"grpo", "better", "same"}
    assert set(out["vs_baseline"]) == {"better", "same"}
    assert not out["vs_baseline"]["better"]["overlap"] and out["vs_baseline"]["better"]["excludes_zero"]
    assert out["vs_baseline"]["same"]["overlap"]
    assert out["vs_baseline"]["better"]["diff"]["mean"] == pytest.approx(0.4, abs=0.05)
