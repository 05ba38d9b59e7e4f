"""Summaries of a distribution over outcomes: exact values on small cases and the NaN-free edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rigorlab.theory.summaries import (
    correct_mass,
    coverage,
    entropy,
    kl_divergence,
    log_mass_ratio,
    n_modes,
    summarise,
    top_mass,
    tv_distance,
)


def test_entropy_values_and_a_collapsed_distribution():
    assert entropy([0.25] * 4) == pytest.approx(math.log(4))
    assert entropy([1.0, 0.0, 0.0]) == 0.0
    assert math.copysign(1.0, entropy([1.0, 0.0])) == 1.0          # +0.0, not -0.0
    assert entropy([0.5, 0.5, 0.0]) == pytest.approx(math.log(2))


def test_modes_top_mass_correct_mass_and_coverage():
    p = [0.6, 0.3, 0.095, 0.005]
    correct = [True, True, False, True]
    assert n_modes(p, 0.01) == 3 and n_modes(p, 0.1) == 2
    assert top_mass(p) == 0.6
    assert correct_mass(p, correct) == pytest.approx(0.905)
    assert coverage(p, correct, 0.01) == pytest.approx(2 / 3)
    assert coverage(p, [False] * 4) == 0.0


def test_log_mass_ratio_is_exact_beyond_underflow():
    logp = np.array([0.0, -100.0, -5000.0])
    assert log_mass_ratio(logp, [True, True, False]) == pytest.approx(100.0)
    assert log_mass_ratio(logp, [True, True, True]) == pytest.approx(5000.0)   # exp(-5000) is 0.0 in float64
    assert log_mass_ratio(logp, [True, False, False]) == 0.0


def test_tv_and_kl():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.25, 0.5])
    assert tv_distance(p, q) == pytest.approx(0.5)
    assert tv_distance(p, p) == 0.0
    assert kl_divergence(p, q) == pytest.approx(math.log(2))
    assert kl_divergence(q, p) == math.inf
    with pytest.raises(ValueError, match="different sizes"):
        tv_distance([1.0], [0.5, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        entropy([0.5, -0.1])


def test_summarise_collects_everything_and_uses_log_probs_when_given():
    logp = np.array([0.0, -100.0])
    out = summarise(np.exp(logp), [True, True], ref=[0.5, 0.5], logp=logp)
    assert out["n_modes"] == 1 and out["coverage"] == 0.5
    assert out["log_mass_ratio_correct"] == pytest.approx(100.0)
    assert out["tv_to_ref"] == pytest.approx(0.5)
    assert out["kl_to_ref"] == pytest.approx(math.log(2))
    # KL(ref || p) = 0.5 log(0.5 / 1) + 0.5 log(0.5 / e^-100) = 50 - log 2
    assert out["kl_from_ref"] == pytest.approx(50.0 - math.log(2), rel=1e-12)
    assert not any(isinstance(v, float) and math.isnan(v) for v in out.values())
