"""The tabular trainer, sampling G outcomes per group, converges where docs/theory.md says.

It goes through rl/objective.py (`advantages_with_penalties`, `grpo_loss`) exactly
as the language-model trainer does, with dr_grpo advantages A_i = r_i - mean_j r_j.

Which beta each test compares against, and why (derivation in theory/fixed_points.py):
the group mean includes r_i, so E[A_i grad log q(y_i)] = (G-1)/G grad E_q[r] exactly.
- KL in the REWARD is part of r_i, scaled by the same (G-1)/G: nominal BETA.
- KL or entropy in the LOSS is not: its fixed point is the optimum at
  BETA_LOSS = BETA * G / (G - 1) = 0.2857 for G = 8.
The two optima differ by 0.053 in TV here, so the tests also check that the
trained policy is on the right one of them, not only near both.

The (pi_ref, reward) pair is chosen so that the reverse- and forward-KL optima
differ by 0.31 in TV, far above the 0.03 tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from rigorlab.rl.mara import MARAShaper, coupling_for
from rigorlab.rl.regularisers import EntropyBonus, KLRegulariser
from rigorlab.theory.bandit import BanditConfig, expected_bandit, train_bandit
from rigorlab.theory.fixed_points import fixed_point
from rigorlab.theory.optima import optimum
from rigorlab.theory.summaries import tv_distance

P = np.array([0.05, 0.15, 0.3, 0.5])
R = np.array([1.0, 0.8, 0.5, 0.0])
G = 8
BETA = 0.25
BETA_LOSS = BETA * G / (G - 1)
TOL = 0.03
CFG = BanditConfig(steps=400, groups_per_step=32, num_generations=G, learning_rate=0.05, seed=0)


def rev(beta):
    return optimum(P, R, beta, "reverse")


def fwd(beta):
    return optimum(P, R, beta, "forward")


def kl(estimator, placement="loss", direction="reverse"):
    return KLRegulariser(direction=direction, estimator=estimator, placement=placement)


def test_the_problem_separates_the_optima():
    assert tv_distance(rev(BETA_LOSS), fwd(BETA_LOSS)) > 0.3
    assert tv_distance(rev(BETA), fwd(BETA_LOSS)) > 0.25
    assert tv_distance(rev(BETA), rev(BETA_LOSS)) > 0.05     # nominal vs G/(G-1) is measurable


def test_k1_in_the_reward_reaches_the_reverse_optimum_at_nominal_beta():
    q = train_bandit(P, R, [kl("k1", "reward")], {"beta": BETA}, CFG).policy
    assert tv_distance(q, rev(BETA)) < TOL
    # At pi* the shaped reward r - beta log(q/p) is the same for every outcome, so the
    # advantages vanish exactly: no sampling noise is left at the fixed point.
    assert tv_distance(q, rev(BETA)) < 1e-3
    assert tv_distance(q, rev(BETA_LOSS)) > 0.04


def test_k2_in_the_loss_reaches_the_reverse_optimum_at_beta_g_over_g_minus_1():
    q = train_bandit(P, R, [kl("k2")], {"beta": BETA}, CFG).policy
    assert tv_distance(q, rev(BETA_LOSS)) < TOL
    assert tv_distance(q, rev(BETA)) > 0.035


def test_k3_in_the_loss_reaches_the_forward_optimum_not_the_reverse_one():
    """GRPO as published: k3 in the loss regularises towards the FORWARD-KL optimum."""
    q = train_bandit(P, R, [kl("k3")], {"beta": BETA}, CFG).policy
    assert tv_distance(q, fwd(BETA_LOSS)) < TOL
    assert tv_distance(q, rev(BETA_LOSS)) > 0.25
    assert tv_distance(q, rev(BETA)) > 0.25


def test_k1_in_the_loss_regularises_nothing():
    """Zero expected gradient: the policy climbs to the highest reward as if beta were 0."""
    q = train_bandit(P, R, [kl("k1")], {"beta": BETA}, CFG).policy
    assert q[0] > 0.95                                  # reverse optimum gives it 0.26
    assert tv_distance(q, rev(BETA_LOSS)) > 0.6
    # same run with no regulariser at all, same seed: the same place
    q0 = train_bandit(P, R, [], {}, CFG).policy
    assert q0[0] > 0.95 and tv_distance(q, q0) < 0.02


@pytest.mark.parametrize("direction, target", [("reverse", rev), ("forward", fwd)])
def test_exact_full_kl_in_the_loss_reaches_its_optimum(direction, target):
    q = train_bandit(P, R, [kl("full", "loss", direction)], {"beta": BETA}, CFG).policy
    other = fwd if target is rev else rev
    assert tv_distance(q, target(BETA_LOSS)) < TOL
    assert tv_distance(q, other(BETA_LOSS)) > 0.25


def test_entropy_bonus_reaches_the_softmax_of_r_over_beta_g_over_g_minus_1():
    q = train_bandit(P, R, [EntropyBonus()], {"entropy_coef": BETA}, CFG).policy
    assert tv_distance(q, optimum(P, R, BETA_LOSS, "entropy")) < TOL
    assert tv_distance(q, optimum(P, R, BETA, "entropy")) > 0.035


def test_ppo_iterations_clip_optimiser_and_aggregation_leave_the_fixed_point():
    """num_iterations > 1 (the clip binds), clip-higher, SGD, grpo aggregation: same T = 1 fixed point."""
    cfg = BanditConfig(steps=400, groups_per_step=32, num_generations=G, learning_rate=0.05, seed=1, num_iterations=4,
                       epsilon_high=0.28, loss_type="grpo")
    q = train_bandit(P, R, [kl("k3")], {"beta": BETA}, cfg).policy
    assert tv_distance(q, fwd(BETA_LOSS)) < TOL
    cfg = BanditConfig(steps=400, groups_per_step=32, num_generations=G, learning_rate=1.0, optimizer="sgd", seed=2,
                       loss_type="dapo", init="uniform")
    q = train_bandit(P, R, [kl("k2")], {"beta": BETA}, cfg).policy
    assert tv_distance(q, rev(BETA_LOSS)) < TOL


# ---------------------------------------------------------------- MARA

RB = np.array([1.0, 1.0, 0.0, 0.0])        # a binary verifier: two correct answers, pi_ref 1:3 between them


@pytest.mark.parametrize("placement, estimator", [("reward", "k1"), ("loss", "full")])
def test_mara_with_reverse_kl_is_uniform_over_the_correct_outcomes(placement, estimator):
    """MARA's beta must be the fixed point's beta: nominal in the reward, G/(G-1) in the loss."""
    coupling = coupling_for(placement, G)
    shaper = MARAShaper(tau=1.0, beta_coupling=coupling)        # beta read from the trainer's coefs
    cfg = BanditConfig(steps=400, groups_per_step=16, num_generations=G, learning_rate=0.05, seed=0)
    q = train_bandit(P, RB, [kl(estimator, placement)], {"beta": BETA}, cfg, shaper=shaper).policy
    b = BETA * coupling
    assert tv_distance(q, optimum(P, RB, b, "reverse", mara_tau=1.0)) < TOL
    assert abs(q[0] - q[1]) < 0.01
    # without MARA the optimum keeps pi_ref's 1:3 ratio among the correct answers
    assert tv_distance(q, optimum(P, RB, b, "reverse")) > 0.2


def test_mara_is_a_no_op_at_beta_zero():
    shaper = MARAShaper(tau=1.0)
    cfg = BanditConfig(steps=50, groups_per_step=4, num_generations=G, seed=3)
    with_mara = train_bandit(P, RB, [kl("k2")], {"beta": 0.0}, cfg, shaper=shaper).policy
    without = train_bandit(P, RB, [kl("k2")], {"beta": 0.0}, cfg).policy
    np.testing.assert_array_equal(with_mara, without)


# ---------------------------------------------------------------- std-scaled advantages

SCALED = BanditConfig(steps=400, groups_per_step=32, num_generations=G, learning_rate=0.05, seed=0, scale_rewards=True)


def test_std_scaling_moves_a_loss_placed_kl_towards_collapse():
    """GRPO's A_i = (r_i - mean) / std: each group's reward is multiplied by 1/std, and the
    std shrinks as the policy sharpens, so the reward's pull grows against a fixed
    loss-placed KL: there is no fixed beta (fixed_point returns None). Here the
    fixed point moves from top mass 0.26 (reverse optimum at BETA_LOSS) to > 0.97;
    the exact expected update (every group enumerated) goes to the same place,
    so this is the algorithm's fixed point, not sampling noise."""
    assert fixed_point(kl("k2"), BETA, G, scale_rewards=True) is None
    q = train_bandit(P, R, [kl("k2")], {"beta": BETA}, SCALED).policy
    assert q[0] > 0.97
    assert tv_distance(q, rev(BETA_LOSS)) > 0.6
    exact = BanditConfig(steps=300, num_generations=G, learning_rate=0.05, scale_rewards=True)
    q_exp = expected_bandit(P, R, [kl("k2")], {"beta": BETA}, exact).policy
    assert q_exp[0] > 0.97


def test_std_scaling_leaves_k1_in_the_reward_at_the_reverse_optimum():
    """With k1 in the reward every shaped reward is equal at pi*, so every advantage is
    0 / (0 + eps) = 0 whatever the scaling: pi* stays a fixed point (nominal beta)."""
    q = train_bandit(P, R, [kl("k1", "reward")], {"beta": BETA}, SCALED).policy
    assert tv_distance(q, rev(BETA)) < TOL


# ---------------------------------------------------------------- plumbing


def test_same_seed_same_numbers_and_history_is_recorded():
    cfg = BanditConfig(steps=30, groups_per_step=4, num_generations=G, seed=7, log_every=10)
    a = train_bandit(P, R, [kl("k3")], {"beta": BETA}, cfg)
    b = train_bandit(P, R, [kl("k3")], {"beta": BETA}, cfg)
    np.testing.assert_array_equal(a.policy, b.policy)
    assert [h["step"] for h in a.history] == [0, 10, 20, 29]
    assert {"loss", "kl/k3", "kl/reverse_exact", "kl/forward_exact", "entropy", "reward"} <= set(a.history[0])
    assert a.history[0]["policy"] == pytest.approx(P.tolist())
    c = train_bandit(P, R, [kl("k3")], {"beta": BETA}, BanditConfig(steps=30, groups_per_step=4, seed=8))
    assert not np.array_equal(a.policy, c.policy)


def test_bad_configurations_are_user_errors():
    from rigorlab.errors import UserError

    with pytest.raises(UserError, match="strictly positive"):
        train_bandit([0.5, 0.5, 0.0], [1, 0, 0], [], {}, CFG)
    with pytest.raises(UserError, match="same length"):
        train_bandit([0.5, 0.5], [1, 0, 0], [], {}, CFG)
    with pytest.raises(UserError, match="needs coefficient 'beta'"):
        train_bandit(P, R, [kl("k3")], {}, CFG)
    with pytest.raises(UserError, match="optimizer"):
        train_bandit(P, R, [], {}, BanditConfig(optimizer="lion"))
