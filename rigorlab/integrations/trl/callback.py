"""rigorlab's collapse diagnostics inside a stock TRL GRPOTrainer run (docs/evaluate.md).

A `TrainerCallback` cannot see the completions TRL generates, but a reward
function can: `CollapseDiagnostics.probe` is a reward function of weight 0
(it returns zeros) that measures every generation batch and reports through
TRL's `log_metric`, so the numbers land in `trainer.state.log_history` beside
TRL's own, averaged over the logging interval:

- `rigorlab/answers/entropy`, `rigorlab/answers/distinct`: per prompt, the
  entropy (nats) and number of distinct extracted answers (metrics/answers.py);
- `rigorlab/answers/coverage`: the share of a prompt's correct set produced,
  where the task knows the set (`Task.correct_answers`);
- `rigorlab/cov_logp_adv`: the token covariance of log pi and the advantage
  (Cui et al. 2025; docs/theory.md section 5), the advantage taken from the
  `verifier` rewards with TRL's group normalisation, log pi from the policy
  that generated the batch (needs `bind(trainer)`);
- `rigorlab/repetition/ngram_rate`, `rigorlab/repetition/loop_share`
  (metrics/repetition.py).

The callback itself runs a pass@k evaluation every `eval_every` steps on the
task's eval prompts and appends `rigorlab/eval/pass@k` rows to the log history.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

import numpy as np
from transformers import TrainerCallback

from rigorlab.integrations.trl.kl import PolicyScorer
from rigorlab.integrations.trl.rewards import _extractor, completion_text, prompt_key
from rigorlab.metrics.answers import answer_entropy, coverage, distinct_answers
from rigorlab.metrics.repetition import loop_share, repeated_ngram_rate
from rigorlab.tasks import Prompt, build_task


class CollapseDiagnostics(TrainerCallback):
    """Diagnostics probe (a weight-0 reward function) and a periodic pass@k evaluation."""

    def __init__(self, task: str | None = None, extract: Callable[[str], Any] | str | None = None,
                 verifier: Callable[..., list[float]] | None = None, eval_every: int = 0, eval_prompts: int = 8,
                 eval_samples: int = 8, ks: Sequence[int] = (1, 4, 8), eval_max_new_tokens: int = 32,
                 seed: int = 0, prefix: str = "rigorlab/", **task_params: Any) -> None:
        self.task = build_task(task, **task_params) if task else None
        self.extract = self.task.extract if self.task and extract is None else _extractor(extract)
        self.verifier, self.prefix, self.seed = verifier, prefix, seed
        self.eval_every, self.eval_prompts, self.eval_samples = eval_every, eval_prompts, eval_samples
        self.ks, self.eval_max_new_tokens = [k for k in ks if k <= eval_samples], eval_max_new_tokens
        if eval_every and self.task is None:
            raise ValueError("a periodic pass@k evaluation needs a rigorlab task (task=...)")
        self.scorer = PolicyScorer()        # the policy only: bind() sets its trainer, no reference copy
        self.probe = _Probe(self)

    def bind(self, trainer) -> "CollapseDiagnostics":
        """Give the probe the trainer's policy (for cov(log pi, A)) and add this callback to the trainer."""
        self.scorer.trainer = trainer
        trainer.add_callback(self)
        return self

    # ---------------------------------------------------------------- per generation batch
    def measure(self, prompts, completions, completion_ids=None, **kwargs) -> dict[str, float]:
        texts = [completion_text(c) for c in completions]
        answers = [self.extract(t) for t in texts]
        groups: dict[str, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(prompt_key(p), []).append(i)
        m = {"answers/entropy": float(np.mean([answer_entropy([answers[i] for i in g]) for g in groups.values()])),
             "answers/distinct": float(np.mean([distinct_answers([answers[i] for i in g]) for g in groups.values()])),
             "repetition/ngram_rate": float(np.mean([repeated_ngram_rate(t) for t in texts])),
             "repetition/loop_share": float(np.mean([loop_share(t) for t in texts]))}
        rows = kwargs.get("rigorlab_prompt")
        if self.task is not None and rows is not None:
            covs = []
            for g in groups.values():
                correct = self.task.correct_answers(Prompt(**json.loads(rows[g[0]])))
                if correct:
                    covs.append(coverage([answers[i] for i in g], correct))
            if covs:
                m["answers/coverage"] = float(np.mean(covs))
        if self.verifier is not None and self.scorer.trainer is not None and completion_ids is not None:
            m["cov_logp_adv"] = self._cov(prompts, completions, completion_ids, groups, kwargs)
        return m

    def _cov(self, prompts, completions, completion_ids, groups, kwargs) -> float:
        import torch

        r = np.asarray(self.verifier(prompts, completions, completion_ids=completion_ids, **kwargs), dtype=float)
        adv = np.zeros_like(r)
        scale = getattr(self.scorer.trainer, "scale_rewards", "group") != "none"
        for g in groups.values():
            x = r[g]
            adv[g] = x - x.mean()
            if scale and len(g) > 1:
                adv[g] /= x.std(ddof=1) + 1e-4
        pids, pmask, cids, cmask = self.scorer.encode(prompts, completion_ids)
        policy = self.scorer.trainer.accelerator.unwrap_model(self.scorer.trainer.model)
        logp = self.scorer.token_logps(policy, pids, pmask, cids, cmask)
        a = torch.as_tensor(adv, dtype=logp.dtype, device=logp.device)[:, None] * cmask
        n = cmask.sum().clamp_min(1.0)
        a_mean, l_mean = a.sum() / n, logp.sum() / n
        return float((((a - a_mean) * (logp - l_mean)) * cmask).sum() / n)

    # ---------------------------------------------------------------- periodic evaluation
    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.eval_every and state.global_step % self.eval_every == 0 and model is not None:
            row = self.evaluate(model, processing_class)
            state.log_history.append({**row, "step": state.global_step})
        return control

    def evaluate(self, model, tokenizer) -> dict[str, float]:
        """pass@k on `eval_prompts` eval prompts of the task, `eval_samples` samples each."""
        import torch

        from rigorlab.metrics.passk import pass_at_k_curve
        from rigorlab.policy.sampling import sample

        prompts = self.task.prompts("eval", self.eval_prompts, self.seed)
        G = self.eval_samples
        enc = tokenizer(text=[p.text for p in prompts for _ in range(G)])["input_ids"]
        width = max(map(len, enc))
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        dev = next(model.parameters()).device
        ids = torch.tensor([[pad] * (width - len(e)) + e for e in enc], device=dev)
        mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in enc], device=dev)
        was_training = model.training
        model.eval()
        ro = sample(model, tokenizer, ids, mask, self.eval_max_new_tokens, 1.0, 1.0,
                    torch.Generator(device=dev).manual_seed(self.seed), group_size=G)
        model.train(was_training)
        texts = tokenizer.batch_decode(ro.completion_ids, skip_special_tokens=True)
        correct = [sum(self.task.verify(p, self.task.extract(texts[i * G + j])) >= 1.0 for j in range(G))
                   for i, p in enumerate(prompts)]
        curve = pass_at_k_curve([G] * len(prompts), correct, self.ks)
        return {f"{self.prefix}eval/pass@{k}": v for k, v in curve.items()}


class _Probe:
    """The weight-0 reward function that feeds `CollapseDiagnostics` (returns zeros)."""

    def __init__(self, owner: CollapseDiagnostics) -> None:
        self.owner = owner
        self.__name__ = "rigorlab_diagnostics"

    def __call__(self, prompts, completions, **kwargs) -> list[float]:
        metrics = self.owner.measure(prompts, completions, **kwargs)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            for k, v in metrics.items():
                log_metric(self.owner.prefix + k, v)
        return [0.0] * len(completions)
