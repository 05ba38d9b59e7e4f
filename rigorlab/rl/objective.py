"""The GRPO objective assembled from components: the one place they meet.

    advantages = group baseline (+ reward-placed regularisers, token by token)
    loss       = aggregate(policy surrogate + sum_j coef_j * regulariser_j)

Both the language-model trainer and the tabular (bandit) trainer call these
two functions, so the theory tests exercise the production code.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch

from rigorlab.rl.advantages import token_advantages
from rigorlab.rl.aggregation import aggregate
from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.policy_loss import PolicyLoss
from rigorlab.rl.regularisers import Regulariser


def advantages_with_penalties(rewards: torch.Tensor, batch: TokenBatch, scale_rewards: bool,
                              regularisers: Sequence[Regulariser],
                              coefs: Mapping[str, float]) -> tuple[torch.Tensor, dict[str, float]]:
    """(B, T) advantages: rewards minus every reward-placed regulariser (at pi_old)."""
    penalty = None
    metrics: dict[str, float] = {}
    for reg in regularisers:
        if reg.placement != "reward":
            continue
        pen = reg.token_penalty(batch, coefs[reg.coef_name])
        metrics[f"{reg.name}/reward_penalty"] = (pen * batch.mask).sum(1).mean().item()
        penalty = pen if penalty is None else penalty + pen
    adv = token_advantages(rewards, batch.num_generations, scale_rewards, batch.mask, penalty)
    return adv, metrics


def grpo_loss(batch: TokenBatch, policy_loss: PolicyLoss, regularisers: Sequence[Regulariser],
              coefs: Mapping[str, float], loss_type: str) -> tuple[torch.Tensor, dict[str, float]]:
    """The scalar loss to minimise and its named metrics (docs/theory.md sections 1-2)."""
    token_loss, metrics = policy_loss.token_loss(batch)
    for reg in regularisers:
        if reg.placement != "loss":
            continue
        term, m = reg.token_loss(batch, coefs[reg.coef_name])
        token_loss = token_loss + term
        metrics.update(m)
    loss = aggregate(token_loss, batch.mask, loss_type, batch.max_completion_length)
    metrics["loss"] = loss.item()
    return loss, metrics
