"""Closed-form optima (docs/theory.md sections 3-4): exact values, log-space properties, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rigorlab.errors import UserError
from rigorlab.theory.optima import (
    DIRECTIONS,
    entropy_logp,
    forward_kl_lambda,
    forward_kl_logp,
    forward_kl_margin,
    log_distribution,
    logsumexp,
    mara_rewards,
    optimum,
    optimum_logp,
    reverse_kl_logp,
)


# ---------------------------------------------------------------- exact values


def test_reverse_matches_the_formula_on_a_small_case():
    p, r, beta = np.array([0.6, 0.3, 0.1]), np.array([1.0, 1.0, 0.0]), 0.1
    w = p * np.exp(r / beta)
    np.testing.assert_allclose(optimum(p, r, beta, "reverse"), w / w.sum(), rtol=1e-12)


def test_forward_matches_the_formula_and_its_lambda_solves_the_constraint():
    p, r, beta = np.array([0.6, 0.3, 0.1]), np.array([1.0, 1.0, 0.0]), 0.1
    lam = forward_kl_lambda(np.log(p), r, beta)
    assert lam > r.max()
    expected = beta * p / (lam - r)
    assert expected.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(optimum(p, r, beta, "forward"), expected, rtol=1e-10)
    # Hand solution: 0.09/(L-1) + 0.01/L = 1  ->  L^2 - 1.1 L + 0.01 = 0
    assert lam == pytest.approx((1.1 + math.sqrt(1.1**2 - 0.04)) / 2, rel=1e-12)


def test_entropy_optimum_ignores_pi_ref():
    r = np.array([1.0, 0.5, 0.0])
    w = np.exp(r / 0.3)
    np.testing.assert_allclose(np.exp(entropy_logp(r, 0.3)), w / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(optimum([0.9, 0.05, 0.05], r, 0.3, "entropy"), w / w.sum(), rtol=1e-12)


def test_paper_example_reward_gap_01_beta_1e3_is_e100():
    """docs/theory.md section 3: dr = 0.1, beta = 1e-3 -> the better answer is e^100 ~ 2.7e43 times likelier."""
    logp = reverse_kl_logp(np.log([0.5, 0.5]), [1.0, 0.9], 1e-3)
    assert logp[0] - logp[1] == pytest.approx(100.0, abs=1e-9)
    assert math.exp(logp[0] - logp[1]) == pytest.approx(2.688117e43, rel=1e-6)


def test_binary_verifier_keeps_the_references_ratio_among_correct_answers():
    """Equal rewards: beta cancels; RL never lifts a rare correct answer (section 3, first bullet)."""
    p = np.array([0.02, 0.18, 0.3, 0.5])
    r = np.array([1.0, 1.0, 0.0, 0.0])
    for beta in (1e-4, 1e-2, 1.0):
        for d in ("reverse", "forward"):
            logp = optimum_logp(np.log(p), r, beta, d)
            assert logp[1] - logp[0] == pytest.approx(math.log(9.0), abs=1e-9)


def test_forward_gives_mass_outside_the_support_only_when_its_reward_binds():
    lp = log_distribution([0.5, 0.5, 0.0])
    # outside reward 2 > Lambda found on the support (beta = 0.5): Lambda = 2 and the rest goes outside
    np.testing.assert_allclose(np.exp(forward_kl_logp(lp, [1.0, 0.0, 2.0], 0.5)), [0.25, 0.125, 0.625],
                               rtol=1e-12)
    assert forward_kl_lambda(lp, [1.0, 0.0, 2.0], 0.5) == pytest.approx(2.0)
    # beta = 5: Lambda on the support exceeds 2, the outside outcome gets nothing
    p = np.exp(forward_kl_logp(lp, [1.0, 0.0, 2.0], 5.0))
    assert p[2] == 0.0 and forward_kl_lambda(lp, [1.0, 0.0, 2.0], 5.0) > 2.0
    # reverse KL never leaves the support
    assert np.exp(reverse_kl_logp(lp, [1.0, 0.0, 2.0], 0.5))[2] == 0.0


def test_mara_rewards_and_their_reverse_optimum_is_uniform_over_the_good_set():
    p = np.array([0.05, 0.15, 0.3, 0.5])
    r = np.array([1.0, 1.0, 0.0, 0.0])
    beta = 0.25
    aug = mara_rewards(np.log(p), r, beta, tau=1.0)
    # anchor = outcome 2 (largest pi_ref among r >= 1): its reward is unchanged
    assert aug[1] == 1.0
    assert aug[0] == pytest.approx(1.0 + beta * math.log(0.15 / 0.05), rel=1e-12)
    np.testing.assert_array_equal(aug[2:], r[2:])
    pstar = optimum(p, r, beta, "reverse", mara_tau=1.0)
    assert pstar[0] == pytest.approx(pstar[1], rel=1e-12)
    # below-threshold outcomes keep pi_ref * exp(r / beta) relative to the anchor's p(z) exp(r(z) / beta)
    assert pstar[3] / pstar[1] == pytest.approx(0.5 / (0.15 * math.exp(1 / beta)), rel=1e-10)
    # MARA with nothing above tau, or with beta -> 0 pull irrelevant: rewards unchanged
    np.testing.assert_array_equal(mara_rewards(np.log(p), r, beta, tau=2.0), r)


# ---------------------------------------------------------------- properties (hypothesis)

K = st.integers(min_value=1, max_value=8)
# Deterministic in CI; the same properties passed 3,000 random examples each during development.
PROPS = settings(max_examples=100, deadline=None, derandomize=True)


@st.composite
def problems(draw, allow_zero: bool = True):
    k = draw(K)
    # masses spanning 300 orders of magnitude, some exactly zero (one always positive)
    exps = draw(st.lists(st.floats(0, 300), min_size=k, max_size=k))
    zero = draw(st.lists(st.booleans(), min_size=k, max_size=k)) if allow_zero else [False] * k
    zero[draw(st.integers(0, k - 1))] = False
    lw = np.array([-e * math.log(10) if not z else -np.inf for e, z in zip(exps, zero)])
    lp = lw - logsumexp(lw)
    rewards = np.array(draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=k, max_size=k)))
    beta = 10 ** draw(st.floats(-6, 3))
    return lp, rewards, beta


@PROPS
@given(problems(), st.sampled_from(DIRECTIONS), st.one_of(st.none(), st.floats(-1e3, 1e3)))
def test_every_optimum_is_a_distribution_and_never_nan(prob, direction, tau):
    lp, r, beta = prob
    logp = optimum_logp(lp, r, beta, direction, mara_tau=tau)
    assert not np.any(np.isnan(logp))
    assert np.all(logp <= 1e-12)
    assert logsumexp(logp) == pytest.approx(0.0, abs=1e-9)
    assert np.exp(logp).sum() == pytest.approx(1.0, abs=1e-9)
    if direction != "entropy" and tau is None:
        # reverse never leaves pi_ref's support (forward may only at an outside reward above Lambda)
        if direction == "reverse":
            assert np.all(logp[lp == -np.inf] == -np.inf)


def _tol(*terms) -> float:
    """Rounding allowance: log-probs are float64 numbers, exact to ~1e-16 of their size."""
    return 1e-12 * (1.0 + sum(abs(t) for t in terms))


@PROPS
@given(problems())
def test_reverse_log_ratios_are_exactly_section_3(prob):
    """log pi*(y1)/pi*(y2) = log pi_ref(y1)/pi_ref(y2) + (r(y1) - r(y2)) / beta."""
    lp, r, beta = prob
    logp = reverse_kl_logp(lp, r, beta)
    s = np.flatnonzero(lp > -np.inf)
    top = r[s].max()
    for i in s:
        for j in s:
            want = lp[i] - lp[j] + (r[i] - r[j]) / beta
            got = logp[i] - logp[j]
            assert got == pytest.approx(want, abs=_tol(lp[i], lp[j], (r[i] - top) / beta, (r[j] - top) / beta))


@PROPS
@given(problems())
def test_forward_satisfies_its_stationarity_condition(prob):
    """pi*(y) (Lambda - r(y)) = beta pi_ref(y) on the support, checked in log space with
    Lambda - r(y) = margin + (max r - r(y)) (no cancellation)."""
    lp, r, beta = prob
    logp = forward_kl_logp(lp, r, beta)
    margin = forward_kl_margin(lp, r, beta)
    s = np.flatnonzero(lp > -np.inf)
    top = r[s].max()
    assert margin >= 0
    for i in s:
        resid = logp[i] + math.log(margin + (top - r[i])) - math.log(beta) - lp[i]
        assert resid == pytest.approx(0.0, abs=1e3 * _tol(lp[i], logp[i]))


@PROPS
@given(problems(allow_zero=False))
def test_forward_keeps_every_outcome_with_reference_mass(prob):
    lp, r, beta = prob
    logp = forward_kl_logp(lp, r, beta)
    assert np.all(np.isfinite(logp))


@PROPS
@given(problems(), st.sampled_from(("reverse", "forward")), st.floats(-1e3, 1e3))
def test_equal_rewards_preserve_pi_refs_ratios(prob, direction, shared):
    """Outcomes sharing one reward keep pi_ref's log-ratios, whatever beta (both KL directions)."""
    lp, r, beta = prob
    r = r.copy()
    tied = np.arange(r.size) % 2 == 0
    r[tied] = shared
    logp = optimum_logp(lp, r, beta, direction)
    s = np.flatnonzero(tied & (lp > -np.inf))
    for i in s:
        for j in s:
            if np.isfinite(logp[i]) and np.isfinite(logp[j]):
                # float64 keeps log pi* to ~1e-16 of its own size (it can be -1e9 at beta = 1e-6)
                tol = _tol(lp[i], lp[j], logp[i], logp[j]) * 1e3
                assert logp[i] - logp[j] == pytest.approx(lp[i] - lp[j], abs=tol)


@PROPS
@given(problems(), st.sampled_from(("reverse", "forward")))
def test_all_equal_rewards_return_pi_ref(prob, direction):
    lp, _, beta = prob
    logp = optimum_logp(lp, np.full(lp.size, 3.0), beta, direction)
    s = lp > -np.inf
    np.testing.assert_allclose(logp[s], lp[s], atol=1e3 * _tol(np.abs(lp[s]).max()))


@PROPS
@given(problems(allow_zero=False), st.floats(-1e3, 1e3))
def test_mara_reverse_optimum_is_uniform_over_the_good_outcomes(prob, tau):
    lp, r, beta = prob
    logp = reverse_kl_logp(lp, mara_rewards(lp, r, beta, tau), beta)
    good = logp[r >= tau]
    if good.size > 1:
        # MARA's rewards carry beta * log-ratio terms; their rounding is relative to r / beta
        tol = 1e-9 * (1 + np.abs(lp).max() + np.abs(r).max() / beta)
        assert good.max() - good.min() <= tol


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("probs, fragment", [
    ([0.6, -0.3, 0.7], "negative probability"),
    ([0.6, 0.3, 0.2], "sums to 1.1"),
    ([0.0, 0.0], "no mass"),
    ([], "non-empty"),
    ([0.5, float("nan"), 0.5], "non-finite"),
])
def test_bad_probabilities_are_one_sentence_user_errors(probs, fragment):
    with pytest.raises(UserError, match=fragment):
        log_distribution(probs)


def test_normalise_accepts_unnormalised_weights():
    np.testing.assert_allclose(np.exp(log_distribution([2, 1, 1], normalise=True)), [0.5, 0.25, 0.25])


@pytest.mark.parametrize("beta", [0.0, -0.1, float("inf"), float("nan")])
def test_beta_must_be_positive_and_finite(beta):
    with pytest.raises(UserError, match="beta must be a positive"):
        optimum([0.5, 0.5], [1, 0], beta)


def test_length_mismatch_and_unknown_direction():
    with pytest.raises(UserError, match="2 outcomes but rewards has 3"):
        optimum([0.5, 0.5], [1, 0, 0], 0.1)
    with pytest.raises(UserError, match="unknown direction"):
        optimum([0.5, 0.5], [1, 0], 0.1, "sideways")
    with pytest.raises(UserError, match="finite"):
        optimum([0.5, 0.5], [1, float("inf")], 0.1)
