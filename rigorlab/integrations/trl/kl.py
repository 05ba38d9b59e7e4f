"""KL in the reward for a stock TRL GRPOTrainer: k1, the unbiased reverse-KL gradient (docs/theory.md section 2).

TRL puts its KL term (k3) in the loss, where its gradient is that of the
FORWARD KL; TRL issue #4967 asked for k1 in the reward. With the sequence's
k1 = sum_t (log pi_theta(y_t) - log pi_ref(y_t)) subtracted from the reward,

    E_y[grad log pi(y) * (r(y) - beta * k1(y))] = grad (E[r] - beta * KL(pi || pi_ref))

since E[grad log pi(y) * log pi(y)] = grad E[log pi] (the extra term
E[grad log pi] is 0): the score-function gradient of the reverse KL, unbiased.
`KLRewardPenalty` is a TRL reward function returning -beta * k1 per
completion; TRL adds it to the other rewards before the group baseline, so
the advantages are those of rigorlab's trainer with `kl.placement: reward`,
`estimator: k1` at the completion's first token (rigorlab also drops the
penalties of earlier tokens from later ones, a variance reduction TRL's
per-sequence advantages cannot express). Set GRPOConfig(beta=0.0) so TRL
does not add its own k3 in the loss as well.

The penalty needs the policy that generated the batch and a frozen
reference: call `bind(trainer)` once after building the trainer.
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

import torch

from rigorlab.errors import UserError


def sequence_k1(logp: torch.Tensor, ref_logp: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sum_t (log pi_theta - log pi_ref) over real tokens, (B, T) -> (B,) (rl/regularisers.k1, summed)."""
    return ((logp - ref_logp) * mask).sum(-1)


class PolicyScorer:
    """Token log-probs of TRL completions under the trainer's policy and a frozen reference.

    Prompts are tokenized by the trainer's own prompt tokenizer, so the ids are
    the ones TRL generated from; log-probs use TRL's sampling temperature, as
    TRL's and rigorlab's KL terms do.
    """

    def __init__(self, ref_model: Any | None = None) -> None:
        self.ref = ref_model
        self.trainer = None

    def bind(self, trainer) -> "PolicyScorer":
        self.trainer = trainer
        if self.ref is None:    # the initial weights, frozen (TRL's own reference when beta > 0)
            base = trainer.ref_model if getattr(trainer, "ref_model", None) is not None else \
                trainer.accelerator.unwrap_model(trainer.model)
            self.ref = copy.deepcopy(base)
        self.ref.eval().requires_grad_(False)
        return self

    def _check(self) -> None:
        if self.trainer is None:
            raise UserError("call .bind(trainer) on the rigorlab KL penalty / scorer after building the GRPOTrainer")

    def encode(self, prompts: Sequence[Any], completion_ids: Sequence[Sequence[int]]):
        """(prompt ids, prompt mask) left-padded, (completion ids, mask) right-padded, on the model's device."""
        self._check()
        tok = self.trainer.processing_class
        prompt_ids = self.trainer._tokenize_prompts(list(prompts))[0]     # TRL's own tokenization
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        dev = next(self.trainer.model.parameters()).device
        lp, lc = max(map(len, prompt_ids)), max(1, max(map(len, completion_ids)))
        pids = torch.tensor([[pad] * (lp - len(p)) + list(p) for p in prompt_ids], device=dev)
        pmask = torch.tensor([[0] * (lp - len(p)) + [1] * len(p) for p in prompt_ids], device=dev)
        cids = torch.tensor([list(c) + [pad] * (lc - len(c)) for c in completion_ids], device=dev)
        cmask = torch.tensor([[1.0] * len(c) + [0.0] * (lc - len(c)) for c in completion_ids], device=dev)
        return pids, pmask, cids, cmask

    @torch.no_grad()
    def token_logps(self, model, pids, pmask, cids, cmask) -> torch.Tensor:
        from rigorlab.policy.sampling import forward_logprobs, gather_tokens

        full = forward_logprobs(model, pids, pmask, cids, cmask, float(self.trainer.temperature))
        return gather_tokens(full, cids) * cmask

    def policy_and_ref(self, prompts, completion_ids) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(log pi_theta, log pi_ref, mask), each (B, T), for the completions as generated."""
        pids, pmask, cids, cmask = self.encode(prompts, completion_ids)
        policy = self.trainer.accelerator.unwrap_model(self.trainer.model)
        return self.token_logps(policy, pids, pmask, cids, cmask), self.token_logps(self.ref, pids, pmask, cids, cmask), cmask


class KLRewardPenalty:
    """-beta * k1 per completion as a TRL reward function (weight 1 in GRPOConfig.reward_weights).

    k1 is exactly the sequence's log pi_theta - log pi_ref, so a reward-placed
    penalty gives the unbiased reverse-KL policy gradient (module doc). Logs
    `kl_reward/k1_mean` through TRL's `log_metric`.
    """

    def __init__(self, beta: float, ref_model: Any | None = None, name: str = "kl_k1") -> None:
        if not beta >= 0:
            raise UserError(f"KLRewardPenalty beta must be >= 0, got {beta!r}")
        self.beta = float(beta)
        self.scorer = PolicyScorer(ref_model)
        self.__name__ = name

    def bind(self, trainer) -> "KLRewardPenalty":
        self.scorer.bind(trainer)
        return self

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids=None,
                 **kwargs: Any) -> list[float]:
        if completion_ids is None:
            raise UserError("KLRewardPenalty needs TRL's completion_ids (TRL >= 0.20 passes them)")
        logp, ref_logp, mask = self.scorer.policy_and_ref(prompts, completion_ids)
        k1 = sequence_k1(logp, ref_logp, mask)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            log_metric("kl_reward/k1_mean", float(k1.mean()))
        return (-self.beta * k1).float().cpu().tolist()
