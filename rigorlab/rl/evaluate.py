"""Evaluate a policy on a task: accuracy, the whole pass@k curve, and diversity.

Yue et al. 2025: RL-trained models win at small k and lose to their base at
large k, so a run always reports the whole curve of both policies, not
pass@1 alone (docs/theory.md section 8). For finite tasks the per-prompt answer
counts are kept, so the empirical distribution can be compared with the
exact optimum (rigorlab.theory).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import torch

from rigorlab.config import EvalConfig
from rigorlab.metrics.answers import answer_entropy, coverage, distinct_answers
from rigorlab.metrics.chain_steps import StepCounts, count_steps, has_step_labels
from rigorlab.metrics.passk import pass_at_k_curve
from rigorlab.metrics.paths import distinct_paths, path_entropy
from rigorlab.metrics.repetition import repetition_profile
from rigorlab.policy.sampling import AUTO, encode_prompts, sample
from rigorlab.tasks.base import Prompt, Task


def eval_prompts(task: Task, cfg: EvalConfig, seed: int) -> list[Prompt]:
    """Every distinct target of a finite task (pairs), else `cfg.prompts` (default 16) eval prompts."""
    if cfg.prompts == 0 and hasattr(task, "targets"):
        return [task.make_prompt(n) for n in task.targets()]
    return task.prompts("eval", cfg.prompts or 16, seed)


def _token_repetition(tokenizer, ids: list[int], n_tokens: int) -> dict:
    """Repetition inside one completion, over the model's own tokens (docs/theory.md section 8):
    4-gram repetition rate and the share of tokens inside back-to-back loops."""
    tokens = tokenizer.convert_ids_to_tokens(ids[:n_tokens], skip_special_tokens=True)
    return repetition_profile(" ".join(t.replace(" ", "_") for t in tokens), n=4)


@torch.no_grad()
def evaluate(model, tokenizer, task: Task, cfg: EvalConfig, max_completion_length: int, seed: int,
             device: torch.device | str = "cpu", rows_per_batch: int = 1024, fast=AUTO) -> dict:
    """Sample `cfg.samples` completions per eval prompt and summarise them (`fast`: see sampling.sample)."""
    prompts = eval_prompts(task, cfg, seed)
    n = cfg.samples
    model.eval()
    gen = torch.Generator(device=device).manual_seed(seed)
    per_prompt = []
    per_chunk = max(1, rows_per_batch // n)
    for start in range(0, len(prompts), per_chunk):
        chunk = prompts[start: start + per_chunk]
        pids, pmask = encode_prompts(tokenizer, [p.text for p in chunk for _ in range(n)], device)
        ro = sample(model, tokenizer, pids, pmask, max_completion_length, cfg.temperature, 1.0, gen, group_size=n,
                    fast=fast)
        texts = tokenizer.batch_decode(ro.completion_ids, skip_special_tokens=True)
        lengths = ro.completion_mask.sum(1).cpu().numpy()
        reps = [_token_repetition(tokenizer, ids, int(n_tok)) for ids, n_tok in zip(ro.completion_ids.tolist(), lengths)]
        for i, p in enumerate(chunk):
            comps = texts[i * n:(i + 1) * n]
            answers = [task.extract(c) for c in comps]
            scores = [task.verify(p, a) for a in answers]
            correct_answers = [a for a, s in zip(answers, scores) if s > 0]
            sigs = [task.signature(c) for c, s in zip(comps, scores) if s > 0]
            correct_set = task.correct_answers(p)
            per_prompt.append({
                "prompt": p.id,
                "n": n,
                "correct": int(sum(s > 0 for s in scores)),
                "answers": dict(Counter(a if a is not None else "<none>" for a in answers)),
                "distinct_correct": distinct_answers(correct_answers),
                "answer_entropy": answer_entropy(answers),
                "coverage": coverage(correct_answers, correct_set) if correct_set else None,
                "correct_set_size": len(correct_set) if correct_set else None,
                "distinct_paths": distinct_paths(sigs) if any(s is not None for s in sigs) else None,
                "path_entropy": path_entropy(sigs) if any(s is not None for s in sigs) else None,
                "mean_length": float(lengths[i * n:(i + 1) * n].mean()),
                "repeated_ngram_rate": float(np.mean([r["repeated_ngram_rate"] for r in reps[i * n:(i + 1) * n]])),
                "loop_share": float(np.mean([r["loop_share"] for r in reps[i * n:(i + 1) * n]])),
                "sample": comps[:3],
            })
            if has_step_labels(task):      # where the length goes (metrics/chain_steps.py)
                counts = count_steps(task, [p] * n, comps, scores, lengths[i * n:(i + 1) * n])
                per_prompt[-1].update({k: v for k, v in counts.summary().items() if v is not None and k != "accuracy"})
                per_prompt[-1]["steps"] = counts.as_dict()
    ks = [k for k in cfg.ks if k <= n]
    curve = pass_at_k_curve([r["n"] for r in per_prompt], [r["correct"] for r in per_prompt], ks)
    summary = {
        "accuracy": float(np.mean([r["correct"] / r["n"] for r in per_prompt])),
        "pass_at_k": {str(k): float(v) for k, v in curve.items()},
        "distinct_correct": float(np.mean([r["distinct_correct"] for r in per_prompt])),
        "answer_entropy": float(np.mean([r["answer_entropy"] for r in per_prompt])),
        "mean_length": float(np.mean([r["mean_length"] for r in per_prompt])),
        "repeated_ngram_rate": float(np.mean([r["repeated_ngram_rate"] for r in per_prompt])),
        "loop_share": float(np.mean([r["loop_share"] for r in per_prompt])),
        "prompts": len(per_prompt),
        "samples_per_prompt": n,
    }
    cov = [r["coverage"] for r in per_prompt if r["coverage"] is not None]
    if cov:
        summary["coverage"] = float(np.mean(cov))
    paths = [r["distinct_paths"] for r in per_prompt if r["distinct_paths"] is not None]
    if paths:
        summary["distinct_paths"] = float(np.mean(paths))
        summary["path_entropy"] = float(np.mean([r["path_entropy"] for r in per_prompt if r["path_entropy"] is not None]))
    if has_step_labels(task):
        pooled = StepCounts()
        for r in per_prompt:
            pooled = pooled.merge(StepCounts.from_dict(r["steps"]))
        summary["steps"] = {**pooled.summary(), "counts": pooled.as_dict(),
                            "accuracy_by_length": pooled.accuracy_by_bucket()}
    summary["per_prompt"] = per_prompt
    return summary
