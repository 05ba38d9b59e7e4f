"""Bootstrap intervals: widths against the analytic standard error, clustering, pairing."""

from __future__ import annotations

import numpy as np
import pytest

from rigorlab.metrics import MetricInputError, bootstrap_ci, paired_difference


def test_iid_interval_matches_normal_theory():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=400)
    mean, lo, hi = bootstrap_ci(x, n_boot=4000, seed=1)
    assert mean == pytest.approx(x.mean())
    half = 1.96 * x.std(ddof=1) / np.sqrt(x.size)
    assert (hi - lo) / 2 == pytest.approx(half, rel=0.1)
    assert lo < mean < hi


def test_coverage_near_nominal():
    rng = np.random.default_rng(2)
    hits = 0
    for i in range(200):
        x = rng.exponential(1.0, size=40)
        _, lo, hi = bootstrap_ci(x, n_boot=500, seed=i)
        hits += lo <= 1.0 <= hi
    assert 0.88 <= hits / 200 <= 0.99


def test_cluster_bootstrap_resamples_prompts():
    rng = np.random.default_rng(3)
    prompt_effect = rng.normal(0, 1.0, size=40)
    clusters = np.repeat(np.arange(40), 10)
    x = prompt_effect[clusters] + rng.normal(0, 0.1, size=400)
    _, lo_c, hi_c = bootstrap_ci(x, clusters=clusters, n_boot=4000, seed=0)
    _, lo_i, hi_i = bootstrap_ci(x, n_boot=4000, seed=0)
    cluster_means = x.reshape(40, 10).mean(axis=1)
    assert (hi_c - lo_c) / 2 == pytest.approx(1.96 * cluster_means.std(ddof=1) / np.sqrt(40), rel=0.15)
    assert (hi_c - lo_c) > 2.5 * (hi_i - lo_i)     # samples of one prompt are not independent


def test_deterministic_and_degenerate_cases():
    x = np.random.default_rng(4).normal(size=50)
    assert bootstrap_ci(x, seed=7) == bootstrap_ci(x, seed=7)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0, 2.0)
    assert bootstrap_ci([1.0, 5.0], clusters=["p", "p"]) == (3.0, 3.0, 3.0)
    with pytest.raises(MetricInputError, match="NaN or infinite value at position 1"):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(MetricInputError, match="3 labels for 2 values"):
        bootstrap_ci([1.0, 2.0], clusters=[1, 2, 3])
    with pytest.raises(MetricInputError, match="alpha"):
        bootstrap_ci([1.0, 2.0], alpha=1.5)
    with pytest.raises(MetricInputError, match="empty"):
        bootstrap_ci([])


def test_paired_difference_on_the_same_prompts():
    rng = np.random.default_rng(5)
    effect = rng.normal(0, 1.0, size=30)
    ca = np.repeat(np.arange(30), 8)               # 8 samples per prompt in a
    cb = np.repeat(np.arange(30), 4)               # 4 in b
    a = effect[ca] + 0.1 + rng.normal(0, 0.05, size=ca.size)
    b = effect[cb] + rng.normal(0, 0.05, size=cb.size)
    res = paired_difference(a, b, clusters=ca, clusters_b=cb, n_boot=4000, seed=0)
    assert res["diff"] == pytest.approx(a.mean() - b.mean())
    assert res["lo"] > 0.05 and res["hi"] < 0.15   # the prompt effect cancels
    assert res["p_value"] < 0.01 and res["n_clusters"] == 30
    # elementwise pairing without clusters
    res2 = paired_difference([1.0, 2.0, 3.0, 4.0], [0.5, 1.5, 2.5, 3.5], n_boot=500)
    assert res2["diff"] == pytest.approx(0.5) and res2["lo"] == pytest.approx(0.5) and res2["hi"] == pytest.approx(0.5)
    with pytest.raises(MetricInputError, match="only one of the two"):
        paired_difference([1.0, 2.0], [1.0, 2.0], clusters=["p", "q"], clusters_b=["p", "r"])
    with pytest.raises(MetricInputError, match="unpaired sets need cluster labels"):
        paired_difference([1.0, 2.0], [1.0])
