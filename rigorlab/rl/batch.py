"""The token batch that every loss component reads.

Shapes: B = number of completions (prompts x G), T = completion length
(padded), V = vocabulary size. A bandit (tabular) policy is the special case
T = 1, V = K outcomes, so the same components serve both trainers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class TokenBatch:
    logp: torch.Tensor                      # (B, T) log pi_theta of sampled tokens, carries grad
    old_logp: torch.Tensor                  # (B, T) log pi_old (sampling policy), detached
    advantages: torch.Tensor                # (B, T) per-token advantage
    mask: torch.Tensor                      # (B, T) 1.0 on completion tokens, 0.0 on padding
    num_generations: int                    # G completions per prompt
    ref_logp: torch.Tensor | None = None    # (B, T) log pi_ref of sampled tokens, detached
    full_logp: torch.Tensor | None = None   # (B, T, V) log-softmax of pi_theta, carries grad
    ref_full_logp: torch.Tensor | None = None  # (B, T, V) log-softmax of pi_ref, detached
    max_completion_length: int | None = None   # for dr_grpo's constant normaliser

    def masked_mean(self, x: torch.Tensor) -> torch.Tensor:
        """Mean of x over real tokens of the whole batch (a scalar, for metrics)."""
        return (x * self.mask).sum() / self.mask.sum().clamp_min(1.0)
