"""Which closed-form optimum a GRPO configuration converges to, and at which beta.

With dr_grpo advantages A_i = r_i - mean_j r_j over G i.i.d. samples,
E[A_i grad log q(y_i)] = (G - 1)/G * grad E_q[r] exactly (the mean includes
r_i itself, rl/advantages.py). So, for one token (T = 1, the bandit):

- a regulariser in the LOSS, coefficient beta, has expected gradient beta * grad D
  against (G-1)/G * grad E_q[r]: the fixed point is the D-optimum at
  beta_eff = beta * G / (G - 1);
- k1 in the REWARD is scaled like r: its fixed point is the reverse-KL optimum
  at the nominal beta (docs/theory.md section 2: an unbiased reverse-KL gradient);
- k1 in the loss has zero expected gradient (section 2): no regularisation,
  the policy climbs to the highest reward;
- the exact ("full") KL in the reward is the same for every sample of a bandit
  group, so the baseline removes it: no regularisation either;
- k2 / k3 values used as rewards are not the gradient of any KL: no closed form;
- GRPO's std scaling divides each group's advantages by a sample std that
  depends on the policy: there is no fixed beta (see tests/test_theory_bandit.py).

The loss type (grpo / dapo / dr_grpo aggregation) and PPO's clip and number of
iterations leave the T = 1 fixed point unchanged: all aggregations are the
batch mean when every completion has one token, and at a fixed point the
first, on-policy iteration already has zero expected gradient.
For sequences (T > 1) only k1 in the reward is the sequence-level reverse-KL
gradient; loss-placed estimators act per token under the policy's own prefix
distribution (see theory/bridge.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rigorlab.rl.regularisers import EntropyBonus, KLRegulariser, Regulariser
from rigorlab.theory.optima import optimum_logp


@dataclass(frozen=True)
class FixedPoint:
    """The optimum a configuration's expected update is zero at.

    direction: reverse | forward | entropy, or "none" for no regularisation.
    beta: the effective coefficient of the closed form (0 for "none").
    """

    direction: str
    beta: float
    reason: str

    def logp(self, ref_logp: np.ndarray, rewards: np.ndarray, mara_tau: float | None = None) -> np.ndarray:
        """log pi* of this fixed point. For "none": the beta -> 0 limit, the best
        outcomes in pi_ref's proportions (policy gradient alone does not choose
        among tied best outcomes, so use a unique best in checks)."""
        if self.direction == "none":
            lp, r = np.asarray(ref_logp, float), np.asarray(rewards, float)
            best = r >= r[lp > -np.inf].max()
            z = np.where(best, lp, -np.inf)
            return z - np.logaddexp.reduce(z)
        return optimum_logp(ref_logp, rewards, self.beta, self.direction, mara_tau)


def fixed_point(reg: Regulariser | None, coef: float, num_generations: int,
                scale_rewards: bool = False) -> FixedPoint | None:
    """The T = 1 fixed point of dr_grpo-style training with one regulariser (None: no closed form)."""
    if scale_rewards:
        return None
    if num_generations < 2:
        raise ValueError("a group-mean baseline needs num_generations >= 2")
    loss_beta = coef * num_generations / (num_generations - 1)
    if reg is None or coef == 0:
        return FixedPoint("none", 0.0, "no regulariser")
    if isinstance(reg, EntropyBonus):
        return FixedPoint("entropy", loss_beta, "entropy bonus in the loss: beta * G/(G-1)")
    if not isinstance(reg, KLRegulariser):
        return None
    est, place = reg.estimator, reg.placement
    if place == "reward":
        if est == "k1":
            return FixedPoint("reverse", coef, "k1 in the reward: unbiased reverse-KL gradient, nominal beta")
        if est == "full":
            return FixedPoint("none", 0.0, "exact KL in the reward is constant within a bandit group")
        return None
    if est == "k1":
        return FixedPoint("none", 0.0, "k1 in the loss has zero expected gradient")
    if est == "k2":
        return FixedPoint("reverse", loss_beta, "k2 in the loss: reverse-KL gradient, beta * G/(G-1)")
    if est == "k3":
        return FixedPoint("forward", loss_beta, "k3 in the loss: forward-KL gradient, beta * G/(G-1)")
    return FixedPoint(reg.direction, loss_beta, f"exact {reg.direction} KL in the loss: beta * G/(G-1)")
