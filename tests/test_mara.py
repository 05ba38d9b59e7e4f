"""MARA reward shaper (docs/theory.md section 4): the rewrite, its coupling to beta, its no-op cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rigorlab.rl.mara import MARAShaper, coupling_for, mara_augment
from rigorlab.rl.shapers import REWARD_SHAPERS, ScoredGroup


def group(rewards, ref_logprob, coefs=None):
    n = len(rewards)
    return ScoredGroup(prompt="S=9:", completions=[f"c{i}" for i in range(n)], answers=[str(i) for i in range(n)],
                       rewards=np.asarray(rewards, dtype=float), ref_logprob=np.asarray(ref_logprob, dtype=float),
                       coefs=coefs or {})


def test_registered_as_mara_and_built_by_name():
    shaper = REWARD_SHAPERS.build("mara", tau=0.5, beta=0.2)
    assert isinstance(shaper, MARAShaper) and shaper.tau == 0.5 and shaper.beta == 0.2


def test_rewrites_every_good_sample_relative_to_the_anchor():
    shaper = MARAShaper(tau=1.0, beta=0.1)
    new, m = shaper.shape(group([1, 1, 0, 1], [-1.0, -3.0, -0.5, -2.0]), step=0)
    # anchor = sample 0: the most likely under pi_ref among rewards >= 1 (sample 2 is likelier but wrong)
    np.testing.assert_allclose(new, [1.0, 1.0 + 0.1 * 2.0, 0.0, 1.0 + 0.1 * 1.0], rtol=1e-15)
    assert m == {"mara/above_tau_frac": 0.75, "mara/anchored": 1.0,
                 "mara/reward_shift_mean": pytest.approx((0.2 + 0.1) / 4)}


def test_augmented_rewards_equalise_pi_ref_times_exp_reward_over_beta():
    """The identity behind the uniform optimum: p(y) exp(r'(y)/beta) is the same for all good y."""
    rng = np.random.default_rng(0)
    r = rng.choice([0.0, 0.7, 1.0], size=12)
    lp = np.log(rng.dirichlet(np.ones(12)))
    beta = 0.03
    new, z = mara_augment(r, lp, beta, tau=0.7)
    good = r >= 0.7
    score = lp[good] + new[good] / beta
    assert score.max() - score.min() < 1e-9
    assert z is not None and good[z] and lp[z] == lp[good].max()
    np.testing.assert_array_equal(new[~good], r[~good])


def test_beta_is_read_from_the_trainers_coefs_and_coupled():
    shaper = MARAShaper(tau=1.0, beta_coupling=coupling_for("loss", 8))
    new, _ = shaper.shape(group([1, 1], [-1.0, -2.0], coefs={"beta": 0.07}), step=3)
    assert new[1] == pytest.approx(1.0 + 0.07 * 8 / 7 * 1.0, rel=1e-14)
    # a controller moved beta: the next group uses the new value
    new, _ = shaper.shape(group([1, 1], [-1.0, -2.0], coefs={"beta": 0.01}), step=4)
    assert new[1] == pytest.approx(1.0 + 0.01 * 8 / 7, rel=1e-14)
    with pytest.raises(ValueError, match="no beta"):
        shaper.shape(group([1, 1], [-1.0, -2.0]), step=0)


@pytest.mark.parametrize("case", ["beta zero", "nothing above tau", "fixed beta zero"])
def test_no_op_cases_return_the_rewards_unchanged(case):
    rewards = [1.0, 0.0, 1.0]
    if case == "beta zero":
        shaper, g = MARAShaper(tau=1.0), group(rewards, [-1.0, -2.0, -3.0], coefs={"beta": 0.0})
    elif case == "nothing above tau":
        shaper, g = MARAShaper(tau=2.0, beta=0.5), group(rewards, [-1.0, -2.0, -3.0])
    else:
        shaper, g = MARAShaper(tau=1.0, beta=0.0), group(rewards, [-1.0, -2.0, -3.0])
    new, m = shaper.shape(g, step=0)
    np.testing.assert_array_equal(new, rewards)
    assert m["mara/anchored"] == 0.0 and m["mara/reward_shift_mean"] == 0.0


def test_samples_outside_the_reference_support_keep_their_reward():
    new, z = mara_augment(np.array([1.0, 1.0, 1.0]), np.array([-np.inf, -1.0, -2.0]), 0.5, 1.0)
    assert z == 1
    assert new[0] == 1.0 and new[1] == 1.0 and new[2] == pytest.approx(1.5)
    assert not np.any(np.isnan(new))


def test_ties_pick_the_first_anchor_and_inputs_are_not_mutated():
    r = np.array([1.0, 1.0, 1.0])
    lp = np.array([-2.0, -1.0, -1.0])
    new, z = mara_augment(r, lp, 0.1, 1.0)
    assert z == 1
    np.testing.assert_allclose(new, [1.1, 1.0, 1.0])
    np.testing.assert_array_equal(r, [1.0, 1.0, 1.0])


def test_errors_are_clear():
    with pytest.raises(ValueError, match="ref_logprob"):
        MARAShaper(tau=1.0, beta=0.1).shape(ScoredGroup("p", ["a"], ["a"], np.array([1.0])), step=0)
    with pytest.raises(ValueError, match="one reference log-prob per reward"):
        mara_augment(np.array([1.0, 0.0]), np.array([-1.0]), 0.1, 1.0)
    with pytest.raises(ValueError, match=">= 0"):
        MARAShaper(beta=-1.0)
    with pytest.raises(ValueError, match="positive"):
        MARAShaper(beta_coupling=0.0)
    with pytest.raises(ValueError, match="placement"):
        coupling_for("middle", 8)
    assert coupling_for("reward", 8) == 1.0
    assert coupling_for("loss", 4) == pytest.approx(4 / 3)
    assert math.isclose(MARAShaper(beta=0.2, beta_coupling=2.0).beta_for(group([1], [0.0])), 0.4)
