"""How per-token losses become one scalar (docs/theory.md section 1).

The choice changes the optimum (longer completions weigh more or less), so
it is explicit:
- grpo:    mean over tokens of each completion, then mean over completions;
- dapo:    sum over all tokens / total number of tokens in the batch;
- dr_grpo: sum over all tokens / (B * max_completion_length), a constant.
"""

from __future__ import annotations

from typing import get_args

import torch

from rigorlab.config import LossType

LOSS_TYPES: tuple[str, ...] = get_args(LossType)      # the config's list, not a copy


def aggregate(token_loss: torch.Tensor, mask: torch.Tensor, loss_type: str,
              max_completion_length: int | None = None) -> torch.Tensor:
    """Reduce a (B, T) token loss to a scalar according to `loss_type`."""
    mask = mask.to(token_loss.dtype)
    masked = token_loss * mask
    if loss_type == "grpo":
        per_seq = masked.sum(1) / mask.sum(1).clamp_min(1.0)
        return per_seq.mean()
    if loss_type == "dapo":
        return masked.sum() / mask.sum().clamp_min(1.0)
    if loss_type == "dr_grpo":
        length = max_completion_length or token_loss.shape[1]
        return masked.sum() / (token_loss.shape[0] * length)
    raise ValueError(f"unknown loss_type {loss_type!r}; expected one of {LOSS_TYPES}")
