"""MARA for a stock TRL GRPOTrainer (GX-Chen et al. 2025; docs/theory.md section 4, rl/mara.py).

MARA rewrites the rewards of a group's good-enough samples (reward >= tau) to
r(z) + beta_m (log pi_ref(z) - log pi_ref(y)), anchored at the most likely of
them under the reference. TRL sums reward functions, so `MARAReward`
returns the change, mara(r) - r, for the verifier it wraps: give the verifier
and this function weight 1 each and the total is MARA's reward. beta_m is
`beta * coupling_for(placement, G)`: the KL coefficient at which the
trainer's fixed point is a reverse-KL optimum (1x for `KLRewardPenalty`, the
reward placement; G/(G-1) x TRL's beta for its loss-placed KL).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from rigorlab.errors import UserError
from rigorlab.integrations.trl.kl import PolicyScorer
from rigorlab.integrations.trl.rewards import prompt_key
from rigorlab.rl.mara import mara_augment


class MARAReward:
    """mara(r) - r per completion, r = `verifier`'s rewards; needs `bind(trainer)` for pi_ref."""

    def __init__(self, verifier: Callable[..., list[float]], beta: float, tau: float = 1.0,
                 ref_model: Any | None = None, name: str = "mara") -> None:
        if not beta >= 0:
            raise UserError(f"MARAReward beta must be >= 0, got {beta!r}")
        self.verifier, self.beta, self.tau = verifier, float(beta), float(tau)
        self.scorer = PolicyScorer(ref_model)
        self.__name__ = name

    def bind(self, trainer) -> "MARAReward":
        self.scorer.bind(trainer)
        return self

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids=None,
                 **kwargs: Any) -> list[float]:
        if completion_ids is None:
            raise UserError("MARAReward needs TRL's completion_ids")
        r = np.asarray(self.verifier(prompts, completions, completion_ids=completion_ids, **kwargs), dtype=float)
        pids, pmask, cids, cmask = self.scorer.encode(prompts, completion_ids)
        ref = self.scorer.token_logps(self.scorer.ref, pids, pmask, cids, cmask).sum(-1).double().cpu().numpy()
        delta = np.zeros_like(r)
        anchored = 0
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(prompt_key(p), []).append(i)
        for idx in groups.values():
            new, z = mara_augment(r[idx], ref[idx], self.beta, self.tau)
            delta[idx] = new - r[idx]
            anchored += z is not None
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric("mara/anchored_groups", anchored / len(groups))
        return delta.tolist()
