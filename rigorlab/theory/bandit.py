"""A tabular (bandit) policy trained with the language model's GRPO components.

The policy is a softmax over K outcomes: one "token" per completion (T = 1)
and a vocabulary of K (V = K). Each step samples `groups_per_step` groups of G
outcomes, optionally reshapes each group's rewards (a RewardShaper such as
MARA), computes advantages with `objective.advantages_with_penalties` at the
sampling policy, then takes `num_iterations` optimiser steps on
`objective.grpo_loss` -- the same two functions the language-model trainer
calls. So a convergence test here tests the production loss, and
`fixed_points.fixed_point` says which closed form it must reach.

`expected_bandit` runs the same step on every possible group at once (each
multiset of G outcomes, weighted by its multinomial probability under the
sampling policy): its update is the exact expected update of `train_bandit`,
so its limit is the exact fixed point of the sampled algorithm, including
effects no closed form covers (std-scaled advantages, MARA's in-group anchor).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch

from rigorlab.errors import UserError
from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.objective import advantages_with_penalties, grpo_loss
from rigorlab.rl.policy_loss import POLICY_LOSSES, PolicyLoss
from rigorlab.rl.regularisers import Regulariser, kl_diagnostics
from rigorlab.rl.shapers import RewardShaper, ScoredGroup


@dataclass
class BanditConfig:
    """How the tabular policy is trained (names follow TRL's GRPOConfig where one exists)."""

    steps: int = 400
    """Optimiser rounds; each samples a fresh batch."""
    groups_per_step: int = 32
    """Groups (prompts) per batch; the bandit has one prompt, so these are i.i.d. groups."""
    num_generations: int = 8
    """G samples per group (num_generations)."""
    learning_rate: float = 0.05
    """Initial learning rate."""
    learning_rate_final: float = 0.0
    """Learning rate at the last step, reached by cosine decay (torch's CosineAnnealingLR; 0 removes
    the sampling noise at the end)."""
    optimizer: str = "adam"
    """adam | sgd."""
    num_iterations: int = 1
    """Optimiser steps per sampled batch (PPO epochs); >1 makes the clip matter."""
    epsilon: float = 0.2
    """PPO clip range (lower)."""
    epsilon_high: float | None = None
    """PPO clip range (upper); None = symmetric."""
    loss_type: str = "dr_grpo"
    """grpo | dapo | dr_grpo aggregation (identical for T = 1)."""
    scale_rewards: bool = False
    """GRPO's std normalisation of advantages (moves the fixed point)."""
    init: str = "ref"
    """ref: start at pi_ref; uniform: start at equal logits."""
    seed: int = 0
    """Seed of the sampling generator (unused by expected_bandit)."""
    log_every: int = 10
    """Record metrics and the policy every this many steps (and at the last)."""


@dataclass
class BanditResult:
    policy: np.ndarray                       # (K,) final probabilities
    logits: np.ndarray                       # (K,) final logits
    history: list[dict] = field(default_factory=list)   # one row per logged step


def _shape_groups(shaper: RewardShaper, ys: torch.Tensor, rewards: torch.Tensor, ref_logp: torch.Tensor,
                  num_generations: int, step: int, coefs: Mapping[str, float]) -> tuple[torch.Tensor, dict[str, float]]:
    """Apply a reward shaper group by group, as the LM trainer does."""
    G = num_generations
    outs = ys.numpy().reshape(-1, G)                                      # (n_groups, G)
    rew = rewards.numpy().reshape(-1, G).copy()
    ref = ref_logp.numpy()[outs]
    coefs = dict(coefs)
    sums: dict[str, float] = {}
    for g in range(outs.shape[0]):
        answers = outs[g].tolist()
        group = ScoredGroup(prompt="bandit", completions=[str(y) for y in answers], answers=answers,
                            rewards=rew[g].copy(), correct=None, ref_logprob=ref[g], coefs=coefs)
        shaped, m = shaper.shape(group, step)
        rew[g] = shaped
        for k, v in m.items():
            sums[k] = sums.get(k, 0.0) + v / outs.shape[0]
    return torch.as_tensor(rew.reshape(-1), dtype=rewards.dtype), sums


def _check(p: np.ndarray, r: np.ndarray, cfg: BanditConfig, regularisers: Sequence[Regulariser],
           coefs: Mapping[str, float]) -> None:
    if p.ndim != 1 or p.shape != r.shape:
        raise UserError(f"pi_ref ({p.size} outcomes) and rewards ({r.size}) must be 1-D of the same length")
    if np.any(p <= 0) or abs(p.sum() - 1) > 1e-6:
        raise UserError("the bandit trainer needs a strictly positive pi_ref that sums to 1")
    if not np.all(np.isfinite(r)):
        raise UserError("rewards must be finite numbers")
    if cfg.num_generations < 2:
        raise UserError("num_generations must be at least 2 for a group baseline")
    if cfg.optimizer not in ("adam", "sgd"):
        raise UserError(f"unknown optimizer {cfg.optimizer!r}; expected adam or sgd")
    if cfg.init not in ("ref", "uniform"):
        raise UserError(f"unknown init {cfg.init!r}; expected ref or uniform")
    for reg in regularisers:
        if reg.coef_name not in coefs:
            raise UserError(f"regulariser {reg.name!r} needs coefficient {reg.coef_name!r} in coefs")


class _Batches:
    """Where a step's outcomes come from: i.i.d. samples, or every group with its probability."""

    def __init__(self, K: int, cfg: BanditConfig, expected: bool) -> None:
        self.expected, self.G = expected, cfg.num_generations
        if expected:
            comps = list(itertools.combinations_with_replacement(range(K), cfg.num_generations))
            if len(comps) > 50_000:
                raise UserError(f"{len(comps)} distinct groups of {cfg.num_generations} over {K} outcomes "
                                "are too many to enumerate; use train_bandit (sampling)")
            self.ys = torch.tensor(comps, dtype=torch.long).reshape(-1)              # (C*G,)
            counts = np.zeros((len(comps), K))
            for i, c in enumerate(comps):
                np.add.at(counts[i], list(c), 1)
            self.counts = torch.as_tensor(counts, dtype=torch.float64)                # (C, K)
            # log multinomial coefficient G! / prod n_k!
            self.log_coef = math.lgamma(cfg.num_generations + 1) - torch.lgamma(self.counts + 1).sum(1)
        else:
            self.gen = torch.Generator().manual_seed(cfg.seed)
            self.B = cfg.groups_per_step * cfg.num_generations

    def draw(self, old_full: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Outcomes (B,) and row weights (B,) whose weighted mean is the expectation over groups."""
        if not self.expected:
            ys = torch.multinomial(old_full.exp(), self.B, replacement=True, generator=self.gen)
            return ys, torch.ones(self.B, dtype=old_full.dtype)
        log_w = self.log_coef + self.counts @ old_full                               # (C,)
        w = torch.softmax(log_w, 0) * log_w.numel()                                  # mean 1 over groups
        return self.ys, w.repeat_interleave(self.G)


def _run(pi_ref: Sequence[float] | np.ndarray, rewards: Sequence[float] | np.ndarray,
         regularisers: Sequence[Regulariser], coefs: Mapping[str, float] | None,
         config: BanditConfig | None, shaper: RewardShaper | None, policy_loss: PolicyLoss | None,
         expected: bool) -> BanditResult:
    # The tensors are tiny (K outcomes): intra-op threads only add synchronisation, which on a
    # busy 2-core machine made a run 30x slower. One thread for the run, then restored.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(pi_ref, rewards, regularisers, coefs, config, shaper, policy_loss, expected)
    finally:
        torch.set_num_threads(threads)


def _train(pi_ref: Sequence[float] | np.ndarray, rewards: Sequence[float] | np.ndarray,
           regularisers: Sequence[Regulariser], coefs: Mapping[str, float] | None,
           config: BanditConfig | None, shaper: RewardShaper | None, policy_loss: PolicyLoss | None,
           expected: bool) -> BanditResult:
    cfg = config or BanditConfig()
    coefs = dict(coefs or {})
    p, r = np.asarray(pi_ref, dtype=float), np.asarray(rewards, dtype=float)
    _check(p, r, cfg, regularisers, coefs)
    policy_loss = policy_loss or POLICY_LOSSES.build("ppo_clip", epsilon=cfg.epsilon,
                                                     epsilon_high=cfg.epsilon_high)
    dt = torch.float64
    K, G = p.size, cfg.num_generations
    ref_logp = torch.log(torch.as_tensor(p / p.sum(), dtype=dt))                     # (K,)
    reward_t = torch.as_tensor(r, dtype=dt)                                          # (K,)
    logits = torch.nn.Parameter(ref_logp.clone() if cfg.init == "ref" else torch.zeros(K, dtype=dt))
    opt_cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.SGD
    opt = opt_cls([logits], lr=cfg.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(cfg.steps - 1, 1),
                                                          eta_min=cfg.learning_rate_final)
    batches = _Batches(K, cfg, expected)
    # For T = 1 the three aggregations agree on unit masks; with weighted rows only
    # dr_grpo's constant normaliser keeps the weights (grpo's per-row mean cancels them).
    loss_type = "dr_grpo" if expected else cfg.loss_type
    shaped_once: tuple[torch.Tensor, dict[str, float]] | None = None
    history: list[dict] = []

    for step in range(cfg.steps):
        with torch.no_grad():
            old_full = torch.log_softmax(logits, dim=-1)                             # (K,)
        ys, weight = batches.draw(old_full)                                          # (B,), (B,)
        B = ys.numel()
        step_rewards = reward_t[ys]                                                  # (B,)
        metrics: dict[str, float] = {}
        if shaper is not None:
            if not expected:
                step_rewards, m = _shape_groups(shaper, ys, step_rewards, ref_logp, G, step, coefs)
            else:   # every group is the same each step: shape once (stateless shapers only)
                shaped_once = shaped_once or _shape_groups(shaper, ys, step_rewards, ref_logp, G, 0, coefs)
                step_rewards, m = shaped_once
            metrics.update(m)
        ones = torch.ones(B, 1, dtype=dt)
        old_logp = old_full[ys][:, None]                                             # (B, 1)
        ref_tok = ref_logp[ys][:, None]                                              # (B, 1)
        ref_full = ref_logp.expand(B, 1, K)                                          # (B, 1, K)
        at_old = TokenBatch(logp=old_logp, old_logp=old_logp, advantages=torch.zeros_like(old_logp),
                            mask=ones, num_generations=G, ref_logp=ref_tok,
                            full_logp=old_full.expand(B, 1, K), ref_full_logp=ref_full,
                            max_completion_length=1)
        adv, m = advantages_with_penalties(step_rewards, at_old, cfg.scale_rewards, regularisers, coefs)
        metrics.update(m)
        # The loss mask carries the row weights: dr_grpo's sum / (B * 1) is then the
        # expectation over groups (weights are all 1 when sampling).
        mask = weight[:, None]
        for _ in range(cfg.num_iterations):
            full = torch.log_softmax(logits, dim=-1).expand(B, 1, K)                # (B, 1, K), carries grad
            batch = TokenBatch(logp=full[:, 0].gather(1, ys[:, None]), old_logp=old_logp,
                               advantages=adv, mask=mask, num_generations=G, ref_logp=ref_tok,
                               full_logp=full, ref_full_logp=ref_full, max_completion_length=1)
            loss, m = grpo_loss(batch, policy_loss, regularisers, coefs, loss_type)
            opt.zero_grad()
            loss.backward()
            opt.step()
        schedule.step()
        metrics.update(m)
        if step % cfg.log_every == 0 or step == cfg.steps - 1:
            if not expected:
                metrics.update(kl_diagnostics(at_old))
            metrics.update({"step": step, "reward": float((weight * step_rewards).mean()),
                            "policy": old_full.exp().tolist()})
            history.append(metrics)

    with torch.no_grad():
        final = torch.softmax(logits, dim=-1)
    return BanditResult(policy=final.numpy().copy(), logits=logits.detach().numpy().copy(),
                        history=history)


def train_bandit(pi_ref: Sequence[float] | np.ndarray, rewards: Sequence[float] | np.ndarray,
                 regularisers: Sequence[Regulariser] = (), coefs: Mapping[str, float] | None = None,
                 config: BanditConfig | None = None, shaper: RewardShaper | None = None,
                 policy_loss: PolicyLoss | None = None) -> BanditResult:
    """Train a softmax policy over K outcomes from sampled groups; returns its final distribution.

    pi_ref must be strictly positive (the KL estimators need log pi_ref of every
    sample). `coefs` maps coefficient names (`beta`, `entropy_coef`) to values.
    """
    return _run(pi_ref, rewards, regularisers, coefs, config, shaper, policy_loss, expected=False)


def expected_bandit(pi_ref: Sequence[float] | np.ndarray, rewards: Sequence[float] | np.ndarray,
                    regularisers: Sequence[Regulariser] = (), coefs: Mapping[str, float] | None = None,
                    config: BanditConfig | None = None, shaper: RewardShaper | None = None,
                    policy_loss: PolicyLoss | None = None) -> BanditResult:
    """The same training with the exact expected update: every group of G outcomes, weighted.

    No sampling noise, so the result is the sampled trainer's fixed point to
    optimiser precision. Needs C(K + G - 1, G) groups (<= 50,000); the shaper
    must be stateless with a fixed beta (each group is shaped once).
    """
    return _run(pi_ref, rewards, regularisers, coefs, config, shaper, policy_loss, expected=True)
