"""Clip-Cov and KL-Cov (docs/theory.md section 5) and the clip-higher share, on hand-made batches."""

from __future__ import annotations

import math

import pytest
import torch

from rigorlab.config import build_config
from rigorlab.errors import UserError
from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.components import build_components
from rigorlab.rl.cov_losses import (
    ClipCov,
    KLCov,
    batch_seed,
    n_selected,
    token_covariance,
)
from rigorlab.rl.policy_loss import PPOClip, clip_higher_released


def make_batch(logp, adv, mask=None, old=None):
    logp = torch.tensor(logp, dtype=torch.float64, requires_grad=True)
    adv = torch.tensor(adv, dtype=torch.float64)
    mask = torch.ones_like(adv) if mask is None else torch.tensor(mask, dtype=torch.float64)
    old = logp.detach().clone() if old is None else torch.tensor(old, dtype=torch.float64)
    return TokenBatch(logp=logp, old_logp=old, advantages=adv, mask=mask, num_generations=2)


def test_token_covariance_by_hand():
    b = make_batch([[-1.0, -3.0], [-2.0, 0.0]], [[1.0, 1.0], [-1.0, 0.0]], mask=[[1, 1], [1, 0]])
    # real tokens: logp -1, -3, -2 (mean -2); A 1, 1, -1 (mean 1/3)
    expected = [[(2 / 3) * 1.0, (2 / 3) * -1.0], [(-4 / 3) * 0.0, 0.0]]
    got = token_covariance(b.logp, b.advantages, b.mask)
    assert torch.allclose(got, torch.tensor(expected, dtype=torch.float64))


def test_selection_size():
    assert n_selected(2e-4, 300) == 1
    assert n_selected(2e-4, 12_000) == 2
    assert n_selected(0.1, 95) == 9


def cov_batch(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    logp = -torch.rand(4, n // 4, generator=g, dtype=torch.float64) * 6
    adv = torch.randn(4, 1, generator=g, dtype=torch.float64).expand(4, n // 4).clone() * 2
    return make_batch(logp.tolist(), adv.tolist())


def grads(loss_fn, batch):
    batch.logp.grad = None
    loss, metrics = loss_fn.token_loss(batch)
    (loss * batch.mask).sum().backward()
    return batch.logp.grad.clone(), loss.detach(), metrics


def test_clip_cov_stops_the_gradient_of_picked_candidates_only():
    b = cov_batch()
    cov = token_covariance(b.logp, b.advantages, b.mask)
    cand = (cov > 1) & (cov < 5)
    n_cand = int(cand.sum())
    assert n_cand > 20                                     # the batch has candidates to pick from
    loss_fn = ClipCov(ratio=0.05)                          # floor(0.05 * 200) = 10 tokens
    g_cov, l_cov, m = grads(loss_fn, b)
    g_ppo, l_ppo, _ = grads(PPOClip(), b)
    stopped = (g_cov == 0) & (g_ppo != 0)
    assert int(stopped.sum()) == 10
    assert bool(cand[stopped].all())                       # only candidates are touched
    assert torch.equal(g_cov[~stopped], g_ppo[~stopped])   # the rest is PPO's gradient, unchanged
    assert torch.equal(l_cov, l_ppo)                       # the value is kept, only the gradient stops
    assert m["clip_cov/token_frac"] == pytest.approx(10 / 200)
    assert m["clip_cov/candidate_frac"] == pytest.approx(n_cand / 200)


def test_clip_cov_pick_is_deterministic_and_seeded():
    picks = {}
    for seed in range(6):
        b = cov_batch()
        g, _, _ = grads(ClipCov(ratio=0.05, seed=seed), b)
        picks[seed] = tuple((g == 0).flatten().nonzero().flatten().tolist())
        again, _, _ = grads(ClipCov(ratio=0.05, seed=seed), cov_batch())
        assert tuple((again == 0).flatten().nonzero().flatten().tolist()) == picks[seed]
    assert len(set(picks.values())) >= 5                   # the seed changes the pick
    assert batch_seed(0, torch.ones(3)) != batch_seed(0, torch.zeros(3))


def test_clip_cov_skips_tokens_the_ppo_clip_already_clipped():
    # every token is a candidate by covariance (3 * 1.25), but PPO already clips the first row
    # (rho = 1.5 > 1 + 0.2 with A > 0): only the second row can be picked
    logp = [[-0.5, -0.5], [-3.0, -3.0]]
    old = [[-0.5 - math.log(1.5)] * 2, [-3.0, -3.0]]
    b = make_batch(logp, [[3.0, 3.0], [-3.0, -3.0]], old=old)
    cov = token_covariance(b.logp, b.advantages, b.mask)
    assert bool(((cov > 1) & (cov < 5)).all())
    g, _, m = grads(ClipCov(ratio=1.0), b)
    assert m["clip_cov/candidate_frac"] == 0.5 and m["clip_cov/token_frac"] == 0.5
    assert g.abs().sum().item() == 0.0     # row 1 clipped by PPO, row 2 stopped by Clip-Cov


def test_kl_cov_loss_on_selected_and_other_tokens():
    logp = [[-1.0, -2.0, -0.5], [-1.5, -0.2, -3.0]]
    old = [[-1.1, -2.0, -0.9], [-1.0, -0.2, -2.5]]
    adv = [[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]]
    b = make_batch(logp, adv, old=old)
    loss_fn = KLCov(k_ratio=2 / 6, coef=0.5)
    loss, m = loss_fn.token_loss(b)
    cov = token_covariance(b.logp, b.advantages, b.mask).flatten()
    top = set(torch.topk(cov, 2).indices.tolist())
    ratio = torch.exp(b.logp - b.old_logp).detach().flatten()
    a = b.advantages.flatten()
    lr = (b.logp - b.old_logp).detach().abs().flatten()
    for i in range(6):
        expected = -a[i] * ratio[i] + (0.5 * lr[i] if i in top else 0.0)   # no ratio clip (published form)
        assert loss.flatten()[i].item() == pytest.approx(float(expected))
    assert m["kl_cov/token_frac"] == pytest.approx(2 / 6)
    clipped = KLCov(k_ratio=2 / 6, coef=0.5, clip_others=True).token_loss(b)[0].flatten()
    ppo = PPOClip().token_loss(b)[0].flatten()
    others = [i for i in range(6) if i not in top]
    assert clipped[others].tolist() == pytest.approx(ppo[others].tolist())


def test_kl_cov_first_update_equals_policy_gradient():
    # on-policy (rho = 1) the |log rho| penalty and its subgradient are 0
    b = cov_batch()
    g_kl, _, _ = grads(KLCov(k_ratio=0.1), b)
    b2 = cov_batch()
    b2.logp.grad = None
    (-(torch.exp(b2.logp - b2.old_logp) * b2.advantages)).sum().backward()
    assert torch.allclose(g_kl, b2.logp.grad)


def test_clip_higher_released_share():
    ratio = torch.tensor([[1.1, 1.25, 1.3, 1.25]])
    adv = torch.tensor([[1.0, 1.0, 1.0, -1.0]])
    # eps_low 0.2, eps_high 0.28: only rho in (1.2, 1.28] with A > 0 is released
    assert clip_higher_released(ratio, adv, 0.2, 0.28).flatten().tolist() == [0.0, 1.0, 0.0, 0.0]


def test_parameters_and_config():
    with pytest.raises(UserError, match="lb < ub"):
        ClipCov(lb=5, ub=1)
    with pytest.raises(UserError, match="k_ratio"):
        KLCov(k_ratio=0)
    cfg = build_config({"grpo": {"epsilon_high": 0.28},
                        "loss": {"name": "clip_cov", "params": {"ratio": 0.001}}})
    loss = build_components(cfg).policy_loss
    assert isinstance(loss, ClipCov) and loss.ratio == 0.001 and loss.eps_high == 0.28
    assert (loss.lb, loss.ub) == (1.0, 5.0)
    kl = build_components(build_config({"loss": {"name": "kl_cov"}})).policy_loss
    assert (kl.k_ratio, kl.coef, kl.clip_others) == (2e-3, 1.0, False)


@pytest.mark.parametrize("eps_high", [None, 0.28])
def test_cov_losses_log_the_clip_higher_share_of_the_surrogate(eps_high):
    """Clip-Cov and KL-Cov report the surrogate's clip-higher share (0 with a symmetric clip)."""
    g = torch.Generator().manual_seed(5)
    logp = torch.randn(4, 6, generator=g, dtype=torch.float64) * 0.3
    old = logp - 0.25 * torch.rand(4, 6, generator=g, dtype=torch.float64)       # ratios in (1, 1.28]
    batch = make_batch(logp.tolist(), torch.randn(4, 6, generator=g).tolist(), old=old.tolist())
    expected = 0.0 if eps_high is None else batch.masked_mean(clip_higher_released(
        torch.exp(batch.logp - batch.old_logp), batch.advantages, 0.2, eps_high)).item()
    for loss in (ClipCov(epsilon_high=eps_high), KLCov(epsilon_high=eps_high)):
        assert loss.token_loss(batch)[1]["clip_ratio/higher_released"] == pytest.approx(expected)
    if eps_high is not None:
        assert expected > 0                                   # the case is not vacuous
