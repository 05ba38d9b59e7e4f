"""Policy-gradient surrogates: the PPO clip of GRPO and its registered variants.

A policy loss maps a TokenBatch to a (B, T) per-token loss (to be MINIMISED)
and named metrics. Variants that change which tokens get a gradient
(Clip-Cov, KL-Cov, docs/theory.md section 5) register here too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch

from rigorlab.registry import Registry
from rigorlab.rl.batch import TokenBatch

POLICY_LOSSES: Registry["PolicyLoss"] = Registry("policy loss")


def clip_higher_released(ratio: torch.Tensor, adv: torch.Tensor, eps_low: float,
                         eps_high: float) -> torch.Tensor:
    """(B, T) 1.0 where clip-higher kept a gradient that a symmetric clip at eps_low would cut."""
    return ((adv > 0) & (ratio > 1 + eps_low) & (ratio <= 1 + eps_high)).float()


class PolicyLoss(ABC):
    """Base class: `token_loss(batch) -> (loss (B, T), metrics)`."""

    @abstractmethod
    def token_loss(self, batch: TokenBatch) -> tuple[torch.Tensor, dict[str, float]]:
        """Per-token loss to minimise, and metrics."""


@POLICY_LOSSES.register("ppo_clip")
class PPOClip(PolicyLoss):
    """L = -min(rho A, clip(rho, 1 - eps_low, 1 + eps_high) A), docs/theory.md section 1.

    `epsilon_high` > `epsilon` is DAPO's clip-higher; None means symmetric.
    """

    def __init__(self, epsilon: float = 0.2, epsilon_high: float | None = None) -> None:
        self.eps_low = epsilon
        self.eps_high = epsilon if epsilon_high is None else epsilon_high

    def surrogate(self, batch: TokenBatch) -> tuple[torch.Tensor, torch.Tensor, dict[str, float]]:
        """The unclipped and clipped objectives and the clip metrics, shared by variants."""
        log_ratio = batch.logp - batch.old_logp
        ratio = torch.exp(log_ratio)
        adv = batch.advantages
        unclipped = ratio * adv
        clipped = torch.clamp(ratio, 1 - self.eps_low, 1 + self.eps_high) * adv
        with torch.no_grad():
            low = ((ratio < 1 - self.eps_low) & (adv < 0)).float()
            high = ((ratio > 1 + self.eps_high) & (adv > 0)).float()
            metrics = {
                "clip_ratio/low_mean": batch.masked_mean(low).item(),
                "clip_ratio/high_mean": batch.masked_mean(high).item(),
                "clip_ratio/region_mean": batch.masked_mean(low + high).item(),
            }
            if self.eps_high > self.eps_low:   # DAPO clip-higher: the tokens it lets through
                metrics["clip_ratio/higher_released"] = batch.masked_mean(
                    clip_higher_released(ratio, adv, self.eps_low, self.eps_high)).item()
        return unclipped, clipped, metrics

    def token_loss(self, batch: TokenBatch) -> tuple[torch.Tensor, dict[str, float]]:
        unclipped, clipped, metrics = self.surrogate(batch)
        return -torch.minimum(unclipped, clipped), metrics
