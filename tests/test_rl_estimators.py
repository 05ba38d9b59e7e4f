"""KL estimators: values and gradients by exact enumeration (docs/theory.md section 2)."""

from __future__ import annotations

import pytest
import torch

from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.policy_loss import PPOClip
from rigorlab.rl.regularisers import KLRegulariser, exact_token_kl

K = 7


def _dists(seed: int):
    g = torch.Generator().manual_seed(seed)
    theta = (torch.randn(K, generator=g, dtype=torch.float64) * 1.5).requires_grad_(True)
    ref_logits = torch.randn(K, generator=g, dtype=torch.float64) * 1.5
    return theta, torch.log_softmax(ref_logits, 0)


def _enumerated_batch(theta, ref_lp):
    """One row per outcome y (T = 1); weights q(y) make sums into exact expectations."""
    lq = torch.log_softmax(theta, 0)
    ys = torch.arange(K)
    logp = lq[ys][:, None]
    return TokenBatch(logp=logp, old_logp=logp.detach(), advantages=torch.zeros(K, 1, dtype=lq.dtype),
                      mask=torch.ones(K, 1, dtype=lq.dtype), num_generations=1, ref_logp=ref_lp[ys][:, None],
                      full_logp=lq.expand(K, K)[:, None, :], ref_full_logp=ref_lp.expand(K, K)[:, None, :]), lq


def _kl(a_lp, b_lp):
    return (a_lp.exp() * (a_lp - b_lp)).sum()


@pytest.mark.parametrize("seed", range(5))
def test_estimator_values_match_exact_kl(seed):
    theta, ref = _dists(seed)
    batch, lq = _enumerated_batch(theta, ref)
    q = lq.exp().detach()
    reverse = _kl(lq, ref).item()
    for est in ("k1", "k3"):  # unbiased estimators of KL(q||p)
        v = KLRegulariser(estimator=est).value(batch)[:, 0].detach()
        assert (q * v).sum().item() == pytest.approx(reverse, rel=1e-10)
    k2 = (q * KLRegulariser(estimator="k2").value(batch)[:, 0].detach()).sum().item()
    assert k2 != pytest.approx(reverse, rel=1e-3)                 # k2 is biased
    assert (KLRegulariser(estimator="k3").value(batch) >= 0).all()  # k3 is non-negative per sample
    full_rev = KLRegulariser(estimator="full", direction="reverse").value(batch)[0, 0].item()
    full_fwd = KLRegulariser(estimator="full", direction="forward").value(batch)[0, 0].item()
    assert full_rev == pytest.approx(reverse, rel=1e-12)
    assert full_fwd == pytest.approx(_kl(ref, lq).item(), rel=1e-12)


def test_sampled_estimator_means_converge():
    """Monte-Carlo: the mean of k1 and k3 over samples from q approaches KL(q||p)."""
    theta, ref = _dists(11)
    lq = torch.log_softmax(theta.detach(), 0)
    ys = torch.multinomial(lq.exp(), 200_000, replacement=True, generator=torch.Generator().manual_seed(0))
    log_w = ref[ys] - lq[ys]
    reverse = _kl(lq, ref).item()
    assert (-log_w).mean().item() == pytest.approx(reverse, abs=0.02)
    assert (torch.expm1(log_w) - log_w).mean().item() == pytest.approx(reverse, abs=0.02)


def _expected_loss_grad(reg: KLRegulariser, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    theta, ref = _dists(seed)
    batch, lq = _enumerated_batch(theta, ref)
    q = lq.exp().detach()
    if reg.placement == "loss":
        per_row = reg.value(batch)[:, 0]
    else:  # reward placement: reward = -penalty (detached), policy-gradient surrogate without baseline
        batch.advantages = -reg.token_penalty(batch, 1.0)
        per_row = PPOClip().token_loss(batch)[0][:, 0]
    (q * per_row).sum().backward()
    rev = torch.autograd.grad(_kl(torch.log_softmax(theta, 0), ref), theta)[0]
    fwd = torch.autograd.grad(_kl(ref, torch.log_softmax(theta, 0)), theta)[0]
    return theta.grad.detach(), rev, fwd


@pytest.mark.parametrize("seed", range(5))
def test_k2_in_loss_is_reverse_kl_gradient(seed):
    g, rev, fwd = _expected_loss_grad(KLRegulariser(estimator="k2", placement="loss"), seed)
    torch.testing.assert_close(g, rev, rtol=1e-9, atol=1e-12)
    assert (g - fwd).abs().max() > 1e-3


@pytest.mark.parametrize("seed", range(5))
def test_k3_in_loss_is_forward_kl_gradient(seed):
    g, rev, fwd = _expected_loss_grad(KLRegulariser(estimator="k3", placement="loss"), seed)
    torch.testing.assert_close(g, fwd, rtol=1e-9, atol=1e-12)
    assert (g - rev).abs().max() > 1e-3


@pytest.mark.parametrize("seed", range(5))
def test_k1_in_loss_has_zero_expected_gradient(seed):
    g, rev, _ = _expected_loss_grad(KLRegulariser(estimator="k1", placement="loss"), seed)
    assert g.abs().max().item() < 1e-12
    assert rev.abs().max().item() > 1e-2


@pytest.mark.parametrize("seed", range(5))
def test_k1_in_reward_is_reverse_kl_gradient(seed):
    g, rev, _ = _expected_loss_grad(KLRegulariser(estimator="k1", placement="reward"), seed)
    torch.testing.assert_close(g, rev, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("direction", ["reverse", "forward"])
def test_full_estimator_gradient_is_exact(direction):
    theta, ref = _dists(3)
    batch, _ = _enumerated_batch(theta, ref)
    KLRegulariser(estimator="full", direction=direction).value(batch)[0, 0].backward()
    lq = torch.log_softmax(theta, 0)
    target = _kl(lq, ref) if direction == "reverse" else _kl(ref, lq)
    torch.testing.assert_close(theta.grad, torch.autograd.grad(target, theta)[0])


def test_exact_token_kl_shapes():
    a = torch.log_softmax(torch.randn(2, 3, 5), -1)
    b = torch.log_softmax(torch.randn(2, 3, 5), -1)
    assert exact_token_kl(a, b, "reverse").shape == (2, 3)
    assert (exact_token_kl(a, b, "forward") >= -1e-7).all()


def test_kl_diagnostics_are_the_exact_kls_and_entropy_over_real_tokens():
    """The logged exact KLs and entropy are masked means of exact_token_kl and -sum p log p,
    computed independently here with torch.distributions."""
    from rigorlab.rl.regularisers import kl_diagnostics

    g = torch.Generator().manual_seed(3)
    q = torch.log_softmax(torch.randn(4, 6, 9, generator=g, dtype=torch.float64) * 2, -1)
    p = torch.log_softmax(torch.randn(4, 6, 9, generator=g, dtype=torch.float64) * 2, -1)
    mask = (torch.rand(4, 6, generator=g) > 0.3).double()
    mask[:, 0] = 1
    lq, lp = q.gather(-1, torch.zeros(4, 6, 1, dtype=torch.long)).squeeze(-1), p[..., 0]
    batch = TokenBatch(logp=lq, old_logp=lq, advantages=torch.zeros_like(lq), mask=mask, num_generations=2,
                       ref_logp=lp, full_logp=q, ref_full_logp=p)
    out = kl_diagnostics(batch)
    dq, dp = torch.distributions.Categorical(logits=q), torch.distributions.Categorical(logits=p)
    real = mask.bool()
    assert out["kl/reverse_exact"] == pytest.approx(torch.distributions.kl_divergence(dq, dp)[real].mean().item())
    assert out["kl/forward_exact"] == pytest.approx(torch.distributions.kl_divergence(dp, dq)[real].mean().item())
    assert out["entropy"] == pytest.approx(dq.entropy()[real].mean().item())
    assert out["kl/reverse_exact"] != pytest.approx(out["kl/forward_exact"])   # directions not swapped
