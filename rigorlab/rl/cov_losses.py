"""Clip-Cov and KL-Cov (Cui et al. 2025, "The Entropy Mechanism of RL for Reasoning LMs").

docs/theory.md section 5: entropy falls by the covariance, over tokens, between
log pi and the advantage. Both remedies find the tokens with the largest

    Cov_t = (A_t - mean A) * (log pi_t - mean log pi)        (means over real tokens of the batch)

and keep them from driving the policy further into its peak:

- Clip-Cov: among tokens with lb < Cov_t < ub that the PPO clip has not
  already clipped, pick max(1, floor(ratio * N)) at random and stop their
  gradient. Published defaults ratio = 2e-4, lb = 1, ub = 5.
- KL-Cov: for the top max(1, floor(k_ratio * N)) tokens by Cov_t, the loss is
  -A rho + coef * |log pi_theta - log pi_old|; the other tokens get -A rho.
  Published defaults k_ratio = 2e-3 (0.2%, their 7B setting; 2e-4 at 32B), coef = 1.

Both follow the authors' reference implementation (verl): Clip-Cov keeps the
PPO clip on the other tokens; KL-Cov has no ratio clip (set `clip_others: true`
to keep it). The KL-Cov penalty is |log rho|: 0 with a 0 subgradient at rho = 1,
so it acts only on updates after the first on a batch (num_iterations > 1).

Clip-Cov's random pick is deterministic and stateless: a torch.Generator
seeded from `seed` and a SHA-256 of the batch's contents (log-probs,
advantages, mask). The same batch gives the same pick, so a run repeats, and a
resumed run matches, without any generator state in checkpoints.

Every variant logs the share of real tokens it touched (`clip_cov/token_frac`,
`kl_cov/token_frac`) and the share DAPO's clip-higher released
(`clip_ratio/higher_released`: A > 0 and 1 + eps_low < rho <= 1 + eps_high,
tokens a symmetric clip would have cut).
"""

from __future__ import annotations

import hashlib
import math

import torch

from rigorlab.errors import UserError
from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.policy_loss import POLICY_LOSSES, PPOClip


def token_covariance(logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, T) Cov_t = (A_t - mean A)(log pi_t - mean log pi), means over real tokens; 0 on padding."""
    m = mask.to(logp.dtype)
    n = m.sum().clamp_min(1.0)
    lp, a = logp.detach(), adv.detach().to(logp.dtype)
    return (a - (a * m).sum() / n) * (lp - (lp * m).sum() / n) * m


def n_selected(ratio: float, n_tokens: int) -> int:
    """max(1, floor(ratio * N)): how many tokens a Cov remedy touches."""
    return max(1, math.floor(ratio * n_tokens))


def batch_seed(seed: int, *tensors: torch.Tensor) -> int:
    """A 63-bit seed from `seed` and the bytes of the tensors (deterministic, stateless)."""
    h = hashlib.sha256(str(int(seed)).encode())
    for t in tensors:
        h.update(t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return int.from_bytes(h.digest()[:8], "little") & (2**63 - 1)


def _log_clip_higher(metrics: dict[str, float]) -> None:
    """The Cov losses always log `clip_ratio/higher_released`: `PPOClip.surrogate` measured it when
    epsilon_high > epsilon; with a symmetric clip no token lies in (1 + eps, 1 + eps], so it is 0."""
    metrics.setdefault("clip_ratio/higher_released", 0.0)


def _check_ratio(name: str, value: float) -> None:
    if not (0 < value <= 1):
        raise UserError(f"{name} must be in (0, 1], got {value!r}")


@POLICY_LOSSES.register("clip_cov")
class ClipCov(PPOClip):
    """PPO clip with the gradient of a few high-covariance tokens stopped (Clip-Cov)."""

    def __init__(self, epsilon: float = 0.2, epsilon_high: float | None = None, ratio: float = 2e-4,
                 lb: float = 1.0, ub: float = 5.0, seed: int = 0) -> None:
        super().__init__(epsilon, epsilon_high)
        _check_ratio("clip_cov ratio", ratio)
        if not lb < ub:
            raise UserError(f"clip_cov needs lb < ub, got lb={lb!r}, ub={ub!r}")
        self.ratio, self.lb, self.ub, self.seed = float(ratio), float(lb), float(ub), int(seed)

    def select(self, batch: TokenBatch, clipped_active: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(B, T) bool of the tokens whose gradient is stopped, and how many were candidates."""
        real = batch.mask > 0
        cov = token_covariance(batch.logp, batch.advantages, batch.mask)
        cand = real & (cov > self.lb) & (cov < self.ub) & ~clipped_active
        idx = torch.nonzero(cand.flatten()).flatten()
        k = min(n_selected(self.ratio, int(real.sum().item())), idx.numel())
        picked = torch.zeros(cand.numel(), dtype=torch.bool, device=cand.device)
        if k:
            gen = torch.Generator().manual_seed(batch_seed(self.seed, batch.logp, batch.old_logp,
                                                           batch.advantages, batch.mask))
            perm = torch.randperm(idx.numel(), generator=gen)[:k].to(idx.device)
            picked[idx[perm]] = True
        return picked.view_as(cand), int(idx.numel())

    def token_loss(self, batch: TokenBatch) -> tuple[torch.Tensor, dict[str, float]]:
        unclipped, clipped, metrics = self.surrogate(batch)
        loss = -torch.minimum(unclipped, clipped)
        with torch.no_grad():
            picked, n_cand = self.select(batch, clipped < unclipped)
            n_real = batch.mask.sum().clamp_min(1.0).item()
            metrics["clip_cov/token_frac"] = float(picked.sum().item() / n_real)
            metrics["clip_cov/candidate_frac"] = float(n_cand / n_real)
            _log_clip_higher(metrics)
        # stop the gradient, keep the value (so the reported loss stays comparable)
        return torch.where(picked, loss.detach(), loss), metrics


@POLICY_LOSSES.register("kl_cov")
class KLCov(PPOClip):
    """Policy gradient with a |log rho| penalty on the top-covariance tokens (KL-Cov)."""

    def __init__(self, epsilon: float = 0.2, epsilon_high: float | None = None, k_ratio: float = 2e-3,
                 coef: float = 1.0, clip_others: bool = False) -> None:
        super().__init__(epsilon, epsilon_high)
        _check_ratio("kl_cov k_ratio", k_ratio)
        if not (math.isfinite(coef) and coef >= 0):
            raise UserError(f"kl_cov coef must be a finite number >= 0, got {coef!r}")
        self.k_ratio, self.coef, self.clip_others = float(k_ratio), float(coef), bool(clip_others)

    def select(self, batch: TokenBatch) -> torch.Tensor:
        """(B, T) bool of the top-k tokens by Cov_t among real tokens (ties: lowest index first)."""
        real = batch.mask > 0
        n_real = int(real.sum().item())
        picked = torch.zeros(real.numel(), dtype=torch.bool, device=real.device)
        if n_real:
            cov = token_covariance(batch.logp, batch.advantages, batch.mask).flatten()
            cov = cov.masked_fill(~real.flatten(), -math.inf)
            k = n_selected(self.k_ratio, n_real)
            picked[torch.topk(cov, k, largest=True, sorted=True).indices] = True
        return picked.view_as(real)

    def token_loss(self, batch: TokenBatch) -> tuple[torch.Tensor, dict[str, float]]:
        unclipped, clipped, metrics = self.surrogate(batch)
        base = -torch.minimum(unclipped, clipped) if self.clip_others else -unclipped
        abs_log_ratio = (batch.logp - batch.old_logp).abs()
        with torch.no_grad():
            picked = self.select(batch)
            metrics["kl_cov/token_frac"] = batch.masked_mean(picked.float()).item()
            n_pick = picked.sum().clamp_min(1)
            metrics["kl_cov/abs_log_ratio_selected"] = float((abs_log_ratio * picked).sum().item() / n_pick.item())
            _log_clip_higher(metrics)
        loss = torch.where(picked, -unclipped + self.coef * abs_log_ratio, base)
        return loss, metrics
