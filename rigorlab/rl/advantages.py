"""Group-relative advantages (docs/theory.md section 1).

    grpo:    A_i = (r_i - mean(r)) / (std(r) + eps)
    dr_grpo: A_i =  r_i - mean(r)

Note: the baseline mean(r) includes r_i itself, so E[A_i grad log pi(y_i)] is
(G-1)/G times the true policy gradient; for a regulariser placed in the LOSS
this acts like beta * G/(G-1). A regulariser placed in the REWARD is scaled
the same way as r, so it keeps the nominal beta.
"""

from __future__ import annotations

import torch


def group_advantages(rewards: torch.Tensor, num_generations: int, scale_rewards: bool,
                     eps: float = 1e-4) -> torch.Tensor:
    """Per-completion advantages from rewards laid out as consecutive groups of G.

    rewards: (B,) with B = n_prompts * G. Returns (B,). `scale_rewards=True` is
    GRPO's std normalisation (torch.std, unbiased, as DeepSeekMath and TRL).
    """
    if rewards.ndim != 1 or rewards.numel() % num_generations:
        raise ValueError(f"rewards of shape {tuple(rewards.shape)} do not split into groups of {num_generations}")
    r = rewards.view(-1, num_generations)                       # (P, G)
    adv = r - r.mean(dim=1, keepdim=True)
    if scale_rewards:
        std = r.std(dim=1, keepdim=True) if num_generations > 1 else torch.zeros_like(r[:, :1])
        adv = adv / (std + eps)
    return adv.reshape(-1)


def token_advantages(rewards: torch.Tensor, num_generations: int, scale_rewards: bool,
                     mask: torch.Tensor, token_penalty: torch.Tensor | None = None,
                     eps: float = 1e-4) -> torch.Tensor:
    """Per-token advantages (B, T), optionally with a per-token reward penalty.

    Without a penalty every token of completion i gets A_i. With a per-token
    penalty c_t (a regulariser placed in the reward, docs/theory.md section 2), the
    sequence reward is r_i - sum_t c_t and token t's return is
    r_i - sum_{s>=t} c_s (tokens before t cannot depend on the action at t, so
    dropping them removes variance, not correctness). The baseline and the std
    scale come from the group's sequence rewards.
    """
    mask = mask.to(rewards.dtype)
    if token_penalty is None:
        return group_advantages(rewards, num_generations, scale_rewards, eps)[:, None] * mask
    pen = (token_penalty * mask).detach()
    seq_reward = rewards - pen.sum(dim=1)                  # (B,)
    r = seq_reward.view(-1, num_generations)
    baseline = r.mean(dim=1, keepdim=True).expand_as(r).reshape(-1)
    to_go = pen.flip(1).cumsum(1).flip(1)                  # sum_{s>=t} c_s, (B, T)
    adv = (rewards[:, None] - to_go) - baseline[:, None]
    if scale_rewards:
        std = r.std(dim=1, keepdim=True) if num_generations > 1 else torch.zeros_like(r[:, :1])
        adv = adv / (std.expand_as(r).reshape(-1)[:, None] + eps)
    return adv * mask
