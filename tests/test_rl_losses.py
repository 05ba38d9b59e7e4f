"""Advantages, PPO clipping and loss aggregation on hand-made batches (docs/theory.md section 1)."""

from __future__ import annotations

import math

import pytest
import torch

from rigorlab.rl.advantages import group_advantages, token_advantages
from rigorlab.rl.aggregation import aggregate
from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.objective import advantages_with_penalties, grpo_loss
from rigorlab.rl.policy_loss import PPOClip
from rigorlab.rl.regularisers import KLRegulariser


def test_group_advantages_grpo_and_dr_grpo():
    r = torch.tensor([1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 2.0, 2.0])
    dr = group_advantages(r, 4, scale_rewards=False)
    torch.testing.assert_close(dr, torch.tensor([0.5, -0.5, -0.5, 0.5, 0, 0, 0, 0]))
    std = torch.tensor([1.0, 0.0, 0.0, 1.0]).std()              # unbiased: sqrt(1/3)
    grpo = group_advantages(r, 4, scale_rewards=True, eps=1e-4)
    torch.testing.assert_close(grpo[:4], torch.tensor([0.5, -0.5, -0.5, 0.5]) / (std + 1e-4))
    torch.testing.assert_close(grpo[4:], torch.zeros(4))     # zero-std group: no signal


def test_token_advantages_with_reward_penalty_uses_reward_to_go():
    r = torch.tensor([1.0, 0.0])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    pen = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 9.0]])     # 9.0 sits on padding: ignored
    adv = token_advantages(r, 2, False, mask, pen)
    seq = torch.tensor([1.0 - 0.6, 0.0 - 0.9])                   # sequence rewards
    base = seq.mean()
    expected = torch.tensor([[1.0 - 0.6 - base, 1.0 - 0.5 - base, 1.0 - 0.3 - base],
                             [0.0 - 0.9 - base, 0.0 - 0.5 - base, 0.0]])
    torch.testing.assert_close(adv, expected)


def _batch(logp, old, adv, mask=None):
    mask = torch.ones_like(logp) if mask is None else mask
    return TokenBatch(logp=logp, old_logp=old, advantages=adv, mask=mask, num_generations=2)


def test_ppo_clip_symmetric_and_clip_higher():
    old = torch.zeros(1, 4)
    ratio = torch.tensor([[0.5, 0.9, 1.1, 1.5]])
    adv = torch.tensor([[1.0, -1.0, 1.0, 1.0]])
    loss, m = PPOClip(epsilon=0.2).token_loss(_batch(ratio.log(), old, adv))
    # min(rho A, clip(rho) A): 0.5 (unclipped, below range with A>0), -0.9 vs -0.9, 1.1, 1.2 (clipped)
    torch.testing.assert_close(-loss, torch.tensor([[0.5, -0.9, 1.1, 1.2]]))
    assert m["clip_ratio/high_mean"] == pytest.approx(0.25)
    loss_hi, _ = PPOClip(epsilon=0.2, epsilon_high=0.28).token_loss(_batch(ratio.log(), old, adv))
    torch.testing.assert_close(-loss_hi[0, 3], torch.tensor(1.28))
    neg = torch.tensor([[-1.0]])
    low, m = PPOClip(epsilon=0.2).token_loss(_batch(torch.tensor([[0.5]]).log(), torch.zeros(1, 1), neg))
    torch.testing.assert_close(-low, torch.tensor([[-0.8]]))      # clip(0.5) = 0.8, min(-0.5, -0.8)
    assert m["clip_ratio/low_mean"] == 1.0


def test_clipped_tokens_get_no_gradient():
    logp = torch.tensor([[math.log(1.5)]], requires_grad=True)
    loss, _ = PPOClip(0.2).token_loss(_batch(logp, torch.zeros(1, 1), torch.ones(1, 1)))
    loss.sum().backward()
    assert logp.grad.item() == 0.0


def test_aggregations():
    tl = torch.tensor([[1.0, 2.0, 3.0, 0.0], [4.0, 0.0, 0.0, 0.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    assert aggregate(tl, mask, "grpo").item() == pytest.approx((2.0 + 4.0) / 2)
    assert aggregate(tl, mask, "dapo").item() == pytest.approx(10.0 / 4)
    assert aggregate(tl, mask, "dr_grpo", max_completion_length=8).item() == pytest.approx(10.0 / 16)
    with pytest.raises(ValueError):
        aggregate(tl, mask, "nope")


def test_grpo_loss_composes_surrogate_and_loss_placed_kl():
    logp = torch.tensor([[-1.0, -2.0]], requires_grad=True)
    ref = torch.tensor([[-1.5, -1.0]])
    b = TokenBatch(logp=logp, old_logp=logp.detach(), advantages=torch.tensor([[2.0, 2.0]]),
                   mask=torch.ones(1, 2), num_generations=1, ref_logp=ref)
    reg = KLRegulariser(estimator="k2")
    loss, m = grpo_loss(b, PPOClip(), [reg], {"beta": 0.5}, "grpo")
    lw = ref - logp.detach()
    expected = (-2.0 + 0.5 * 0.5 * lw**2).mean()
    assert loss.item() == pytest.approx(expected.item())
    assert "kl/value" in m
    # reward placement leaves the loss alone and moves the advantages instead
    reg_r = KLRegulariser(estimator="k1", placement="reward")
    loss_r, _ = grpo_loss(b, PPOClip(), [reg_r], {"beta": 0.5}, "grpo")
    assert loss_r.item() == pytest.approx(-2.0)
    b2 = TokenBatch(logp=logp, old_logp=logp.detach(), advantages=torch.zeros(2, 2), mask=torch.ones(2, 2),
                    num_generations=2, ref_logp=torch.cat([ref, ref]))
    b2.logp = torch.cat([logp, logp]).detach()
    adv, m = advantages_with_penalties(torch.tensor([1.0, 0.0]), b2, False, [reg_r], {"beta": 0.5})
    assert m["kl/reward_penalty"] == pytest.approx((0.5 * -lw).sum().item())
    assert adv.shape == (2, 2)


def test_forward_direction_needs_full_estimator():
    from rigorlab.errors import UserError

    with pytest.raises(UserError, match="forward"):
        KLRegulariser(direction="forward", estimator="k3")
