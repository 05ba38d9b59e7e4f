"""A whole training run: train, evaluate against the reference and the exact
optimum, save the model, record provenance, and write the disclosure documents.

This is what `rigorlab train` and every study run call; the run directory is
then self-describing (config, metrics, eval with per-prompt pi_ref / pi* / TV,
provenance, model, docs).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from rigorlab.config import TrainConfig
from rigorlab.io import atomic_write_json
from rigorlab.pipeline.optimum import final_beta, run_optimum
from rigorlab.pipeline.start import claim_run_dir
from rigorlab.policy.sampling import sequence_logprobs
from rigorlab.rl.evaluate import evaluate
from rigorlab.rl.trainer import GRPOTrainer, step_seed

Progress = Callable[[str, int, int, dict], None]
SUMMARY_EXCLUDES = ("per_prompt", "optimum")     # per-prompt detail stays in eval.json


def optimum_distances(cfg: TrainConfig, trainer: GRPOTrainer, per_prompt: list[dict]) -> dict:
    """The trained policy's distance to pi* per prompt and on average, scored with the run's reference."""
    def score(prompt: str, outcomes: list[str]) -> np.ndarray:
        return np.array(sequence_logprobs(trainer.ref, trainer.tokenizer, prompt, outcomes, fast=trainer.ref_fast))

    return run_optimum(cfg, trainer.task, score, per_prompt, final_beta(trainer.components.controllers))


def run_training(cfg: TrainConfig, run_dir: str | Path, resume: bool = False,
                 progress: Progress | None = None, documents: bool = True) -> dict:
    """Train, evaluate, save; returns the run's summary (also written to summary.json)."""
    with claim_run_dir(run_dir):   # one process per run directory; a failed start leaves nothing behind
        return _train_and_evaluate(cfg, run_dir, resume, progress, documents)


def _train_and_evaluate(cfg: TrainConfig, run_dir: str | Path, resume: bool, progress: Progress | None,
                        documents: bool) -> dict:
    t0 = time.perf_counter()
    trainer = GRPOTrainer(cfg, run_dir, resume=resume)
    cb = (lambda s, n, row: progress("pretrain" if "pretrain_loss" in row else "train", s, n, row)) if progress else None
    trainer.setup(cb)
    rows = trainer.train(cb)
    trainer.save_model()
    eval_seed = step_seed(cfg.seed, 0, "eval")
    if progress:
        progress("evaluate", 0, 2, {})
    reference = evaluate(trainer.ref, trainer.tokenizer, trainer.task, cfg.eval, cfg.grpo.max_completion_length,
                         eval_seed, trainer.device, fast=trainer.ref_fast)
    if progress:
        progress("evaluate", 1, 2, {})
    trained = evaluate(trainer.policy, trainer.tokenizer, trainer.task, cfg.eval, cfg.grpo.max_completion_length,
                       eval_seed, trainer.device, fast=trainer.fast)
    trained.update(optimum_distances(cfg, trainer, trained["per_prompt"]))
    if progress:
        progress("evaluate", 2, 2, {})
    atomic_write_json(trainer.run_dir / "eval.json", {"reference": reference, "trained": trained})
    last = rows[-1] if rows else {}
    summary = {
        "steps": trainer.step, "seconds": round(time.perf_counter() - t0, 2),
        "reference_dir": str(trainer.ref_dir), "config_hash": cfg.hash(), "complete": False,
        "train": {k: last.get(k) for k in ("accuracy", "reward/mean", "entropy", "kl/k3", "kl/reverse_exact",
                                          "answers/distinct", "answers/entropy") if k in last},
        "reference": {k: v for k, v in reference.items() if k not in SUMMARY_EXCLUDES},
        "trained": {k: v for k, v in trained.items() if k not in SUMMARY_EXCLUDES},
    }
    atomic_write_json(trainer.run_dir / "summary.json", summary)
    if documents:
        from rigorlab.disclosure.documents.run_documents import write_run_documents
        from rigorlab.pipeline.provenance import record_provenance

        record_provenance(cfg, trainer)
        summary["documents"] = {k: str(v) for k, v in write_run_documents(trainer.run_dir).items()}
    summary["complete"] = True   # written last: a study treats a run as finished only now
    atomic_write_json(trainer.run_dir / "summary.json", summary)
    return summary
