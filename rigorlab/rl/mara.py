"""MARA: mode-anchored reward augmentation (GX-Chen et al. 2025; docs/theory.md section 4).

Within a group, the samples with reward >= tau are all "good enough". Anchor
z = the one of them with the largest log pi_ref(z); each of them gets

    r_i' = r(z) + beta_m * (log pi_ref(z) - log pi_ref(y_i))

Under reverse KL the optimum is pi_ref(y) exp(r'(y) / beta) / Z, and for every
y above the threshold pi_ref(y) exp(r'(y) / beta) = pi_ref(z) exp(r(z) / beta):
the same for all of them, so the optimum is uniform over the good outcomes
instead of copying pi_ref's preferences among them.

beta_m must be the beta at which the trainer's fixed point is a reverse-KL
optimum: the nominal beta for KL in the REWARD, beta * G / (G - 1) for KL in
the LOSS with a group-mean baseline (see rl/advantages.py and
`coupling_for`). With beta = 0 there is no KL pull to cancel and MARA is a no-op.
"""

from __future__ import annotations

import numpy as np

from rigorlab.rl.shapers import REWARD_SHAPERS, RewardShaper, ScoredGroup


def mara_augment(rewards: np.ndarray, ref_logprob: np.ndarray, beta: float,
                 tau: float) -> tuple[np.ndarray, int | None]:
    """MARA rewards for one group (or a whole outcome set) and the anchor's index.

    Samples with ref log-prob -inf (outside pi_ref's support) keep their reward,
    as does everything when no sample reaches tau or beta == 0.
    """
    r = np.asarray(rewards, dtype=float)
    lp = np.asarray(ref_logprob, dtype=float)
    if r.shape != lp.shape:
        raise ValueError(f"MARA needs one reference log-prob per reward: {lp.shape} != {r.shape}")
    out = r.copy()
    above = (r >= tau) & (lp > -np.inf)
    if beta == 0 or not above.any():
        return out, None
    idx = np.flatnonzero(above)
    z = int(idx[np.argmax(lp[idx])])          # first of the most likely under pi_ref
    out[idx] = r[z] + beta * (lp[z] - lp[idx])
    return out, z


def coupling_for(placement: str, num_generations: int) -> float:
    """beta_m / beta for a KL regulariser placed in the reward or the loss (dr_grpo baseline).

    A loss-placed KL competes with (G-1)/G of the reward's policy gradient
    (the group mean includes the sample itself), so the fixed point's effective
    beta is beta * G / (G - 1); a reward-placed KL is scaled like r and keeps beta.
    """
    if placement == "reward":
        return 1.0
    if placement == "loss":
        if num_generations < 2:
            raise ValueError("a group-mean baseline needs num_generations >= 2")
        return num_generations / (num_generations - 1)
    raise ValueError(f"unknown placement {placement!r}; expected reward or loss")


@REWARD_SHAPERS.register("mara")
class MARAShaper(RewardShaper):
    """MARA as a reward shaper.

    tau: rewards >= tau count as good enough (e.g. 1.0 for a binary verifier).
    beta: the KL coefficient to use; None couples it to the trainer's current
        coefficient `coef_name`, read from `group.coefs` at every group (so a
        controller-driven beta stays in step).
    beta_coupling: multiplier applied to beta (`coupling_for(placement, G)`):
        1 for KL in the reward, G / (G - 1) for KL in the loss.
    """

    name = "mara"

    def __init__(self, tau: float = 1.0, beta: float | None = None, beta_coupling: float = 1.0,
                 coef_name: str = "beta") -> None:
        if beta is not None and not (np.isfinite(beta) and beta >= 0):
            raise ValueError(f"MARA beta must be a finite number >= 0, got {beta}")
        if not (np.isfinite(beta_coupling) and beta_coupling > 0):
            raise ValueError(f"MARA beta_coupling must be positive, got {beta_coupling}")
        self.tau = float(tau)
        self.beta = None if beta is None else float(beta)
        self.beta_coupling = float(beta_coupling)
        self.coef_name = coef_name

    def beta_for(self, group: ScoredGroup) -> float:
        """The beta MARA uses for this group, coupling included."""
        if self.beta is not None:
            base = self.beta
        elif self.coef_name in group.coefs:
            base = float(group.coefs[self.coef_name])
        else:
            raise ValueError(f"MARA has no beta: give beta=... or pass {self.coef_name!r} in the group's coefs")
        return base * self.beta_coupling

    def shape(self, group: ScoredGroup, step: int) -> tuple[np.ndarray, dict[str, float]]:
        if group.ref_logprob is None:
            raise ValueError("MARA needs the group's sequence log-probs under pi_ref (ref_logprob)")
        rewards = np.asarray(group.rewards, dtype=float)
        new, anchor = mara_augment(rewards, np.asarray(group.ref_logprob, dtype=float),
                                   self.beta_for(group), self.tau)
        metrics = {
            "mara/above_tau_frac": float((rewards >= self.tau).mean()),
            "mara/anchored": float(anchor is not None),
            "mara/reward_shift_mean": float(np.mean(new - rewards)),
        }
        return new, metrics


def mara_tau(cfg) -> float | None:
    """MARA's threshold when a training config shapes its rewards with MARA, else None
    (pi* then targets MARA's augmented rewards, docs/theory.md section 4)."""
    for spec in cfg.reward.shapers:
        if spec.name == "mara":
            return float(spec.params.get("tau", 1.0))
    return None
