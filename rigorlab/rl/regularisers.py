"""Regularisers: the KL family and the entropy bonus (docs/theory.md section 2).

With w = pi_ref(y_t) / pi_theta(y_t) on a token sampled from pi_theta:

    k1 = -log w              E = KL(q||p); in the LOSS its gradient is 0 in expectation
    k2 = (log w)^2 / 2       in the LOSS its gradient is grad KL(q||p) (reverse)
    k3 = (w - 1) - log w     E = KL(q||p); in the LOSS its gradient is grad KL(p||q) (FORWARD)
    full                     the exact token KL over the vocabulary, either direction

`placement: reward` subtracts coef * value (detached) from the reward, token
by token (see advantages.token_advantages); k1 there is the unbiased
reverse-KL policy gradient. GRPO as published is k3 in the loss.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import get_args

import torch

from rigorlab.config import KLDirection, KLEstimator, KLPlacement
from rigorlab.errors import UserError
from rigorlab.registry import Registry
from rigorlab.rl.batch import TokenBatch

REGULARISERS: Registry["Regulariser"] = Registry("regulariser")

Placement = KLPlacement


class Regulariser(ABC):
    """A term scaled by a named coefficient, in the loss or in the reward.

    `value(batch)` is the per-token value (B, T), differentiable through the
    policy. In the loss the trainer adds coef * value to the token loss; in
    the reward it subtracts coef * value.detach() from the return.
    """

    coef_name: str = "beta"
    placement: Placement = "loss"
    name: str = "regulariser"

    @abstractmethod
    def value(self, batch: TokenBatch) -> torch.Tensor:
        """Per-token value (B, T)."""

    def token_loss(self, batch: TokenBatch, coef: float) -> tuple[torch.Tensor, dict[str, float]]:
        v = self.value(batch)
        return coef * v, {f"{self.name}/value": batch.masked_mean(v.detach()).item()}

    def token_penalty(self, batch: TokenBatch, coef: float) -> torch.Tensor:
        return coef * self.value(batch).detach()


def _log_w(batch: TokenBatch) -> torch.Tensor:
    if batch.ref_logp is None:
        raise ValueError("a KL regulariser needs reference log-probs in the batch")
    return batch.ref_logp.detach() - batch.logp          # log pi_ref - log pi_theta


def k1(log_w: torch.Tensor) -> torch.Tensor:
    """k1 = -log w (docs/theory.md section 2)."""
    return -log_w


def k2(log_w: torch.Tensor) -> torch.Tensor:
    """k2 = (log w)^2 / 2 (docs/theory.md section 2)."""
    return 0.5 * log_w**2


def k3(log_w: torch.Tensor) -> torch.Tensor:
    """k3 = (w - 1) - log w (docs/theory.md section 2); >= 0."""
    return torch.expm1(log_w) - log_w


def exact_token_kl(full_logp: torch.Tensor, ref_full_logp: torch.Tensor,
                   direction: str) -> torch.Tensor:
    """Exact KL per position over the vocabulary, (B, T, V) -> (B, T).

    reverse: sum_v q_v (log q_v - log p_v);  forward: sum_v p_v (log p_v - log q_v).
    """
    ref = ref_full_logp.detach()
    if direction == "reverse":
        return (full_logp.exp() * (full_logp - ref)).sum(-1)
    if direction == "forward":
        return (ref.exp() * (ref - full_logp)).sum(-1)
    raise ValueError(f"unknown KL direction {direction!r}")


SAMPLED_ESTIMATORS = {"k1": k1, "k2": k2, "k3": k3}
ESTIMATORS: tuple[str, ...] = get_args(KLEstimator)      # the config's lists, not copies
DIRECTIONS: tuple[str, ...] = get_args(KLDirection)
PLACEMENTS: tuple[str, ...] = get_args(KLPlacement)
if set(ESTIMATORS) != set(SAMPLED_ESTIMATORS) | {"full"}:      # a new config choice needs its code here
    raise ImportError(f"KL estimators of the config {ESTIMATORS} and of rl.regularisers differ")


@REGULARISERS.register("kl")
class KLRegulariser(Regulariser):
    """KL to the reference: direction x estimator x placement, scaled by `beta`."""

    name = "kl"

    def __init__(self, direction: str = "reverse", estimator: str = "k3",
                 placement: Placement = "loss", coef_name: str = "beta") -> None:
        if estimator not in ESTIMATORS:
            raise UserError(f"unknown KL estimator {estimator!r}; expected one of {', '.join(ESTIMATORS)}")
        if direction not in DIRECTIONS:
            raise UserError(f"unknown KL direction {direction!r}; expected one of {', '.join(DIRECTIONS)}")
        if placement not in PLACEMENTS:
            raise UserError(f"unknown KL placement {placement!r}; expected one of {', '.join(PLACEMENTS)}")
        if direction == "forward" and estimator != "full":
            raise UserError(
                "KL direction 'forward' needs estimator 'full': k1/k2/k3 estimate KL(pi||pi_ref) from "
                "policy samples (docs/theory.md section 2; k3 in the loss already has the forward-KL gradient)"
            )
        self.direction, self.estimator, self.placement = direction, estimator, placement
        self.coef_name = coef_name

    def value(self, batch: TokenBatch) -> torch.Tensor:
        if self.estimator == "full":
            if batch.full_logp is None or batch.ref_full_logp is None:
                raise ValueError("the 'full' KL estimator needs full log-probs of policy and reference")
            return exact_token_kl(batch.full_logp, batch.ref_full_logp, self.direction)
        return SAMPLED_ESTIMATORS[self.estimator](_log_w(batch))


@REGULARISERS.register("entropy")
class EntropyBonus(Regulariser):
    """Entropy bonus: value = -H(pi_theta(. | s_t)), exact over the vocabulary.

    Minimising coef * value maximises entropy; coefficient `entropy_coef`.
    """

    name = "entropy"

    def __init__(self, placement: Placement = "loss", coef_name: str = "entropy_coef") -> None:
        if placement != "loss":
            raise UserError("the entropy bonus is placed in the loss only")
        self.placement, self.coef_name = placement, coef_name

    def value(self, batch: TokenBatch) -> torch.Tensor:
        if batch.full_logp is None:
            raise ValueError("the entropy bonus needs full log-probs of the policy")
        return (batch.full_logp.exp() * batch.full_logp).sum(-1)   # = -H


@torch.no_grad()
def kl_diagnostics(batch: TokenBatch) -> dict[str, float]:
    """KL figures logged every step whatever is optimised: k1, k3, and the exact
    reverse and forward token KL when full log-probs are at hand."""
    out: dict[str, float] = {}
    if batch.ref_logp is not None:
        lw = (batch.ref_logp - batch.logp).detach()
        out["kl/k1"] = batch.masked_mean(k1(lw)).item()
        out["kl/k3"] = batch.masked_mean(k3(lw)).item()
    if batch.full_logp is None:
        return out
    q = batch.full_logp.detach()
    q_prob = q.exp()                                  # one pass each over (B, T, V), shared below
    out["entropy"] = batch.masked_mean(-(q_prob * q).sum(-1)).item()
    if batch.ref_full_logp is not None:
        p = batch.ref_full_logp
        d = q - p                                     # exact_token_kl's two directions, sharing q - p
        out["kl/reverse_exact"] = batch.masked_mean((q_prob * d).sum(-1)).item()
        out["kl/forward_exact"] = batch.masked_mean(-(p.exp() * d).sum(-1)).item()
    return out
