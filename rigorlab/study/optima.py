"""pi_ref and pi* over a finite answer set for every run of a study, and TV per prompt.

For a task that enumerates its outcomes (`pairs`: the 100 strings "a+b"),
pi_ref is the reference model's exact sequence probability of each outcome,
renormalised over the set (theory/bridge.py); pi* is the closed-form optimum
of E[r] - beta D(pi, pi_ref) at the run's final beta (THEORY.md section 3),
with MARA's rewards when the arm uses MARA (section 4). TV counts samples
outside the set as distance (bridge.tv_to_optimum). Reference scores are
cached per study in reference_answers.json, so rebuilding a report does not
load a model again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rigorlab.io import atomic_write_json
from rigorlab.rl.mara import mara_tau


def reference_dir(cfg, summary: dict) -> Path | None:
    """The run's reference model directory, if it is on this machine (never trains one)."""
    recorded = summary.get("reference_dir")
    if recorded and (Path(recorded) / "config.json").is_file():
        return Path(recorded)
    if cfg.policy.model == "tiny":
        from rigorlab.policy.pretrain import cache_root, pretrain_key

        path = cache_root() / "pretrained" / f"{cfg.task.name}-{pretrain_key(cfg.task, cfg.policy)}"
        return path if (path / "config.json").is_file() else None
    p = Path(cfg.policy.model)
    return p if (p / "config.json").is_file() else None


def _ref_key(cfg) -> str:
    from rigorlab.config import config_hash

    return config_hash({"task": cfg.task.model_dump(mode="json"), "policy": cfg.policy.model_dump(mode="json")})


def attach_optima(res) -> None:
    """Fill run.tv (direction -> prompt -> TV) and res.optima (group -> prompt -> pi_ref data)."""
    from rigorlab.rl.evaluate import eval_prompts
    from rigorlab.rl.trainer import step_seed
    from rigorlab.tasks import build_task
    from rigorlab.theory.bridge import AnswerDistribution, tv_to_optimum
    from rigorlab.theory.optima import logsumexp

    cache_path = res.study_dir / "reference_answers.json"
    try:
        cache = json.loads(cache_path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        cache = {}
    dirty = False
    models: dict[str, tuple] = {}
    for run in res.runs:
        cfg = run.config
        task = build_task(cfg.task.name, **cfg.task.params)
        prompts = {p.id: p for p in eval_prompts(task, cfg.eval, step_seed(cfg.seed, 0, "eval"))}
        key = _ref_key(cfg)
        scores = cache.setdefault(key, {})
        beta = run.summary.get("trained", {}).get("beta_used")
        beta = max(float(beta if beta is not None else cfg.grpo.beta), 1e-6)
        tau = mara_tau(cfg)
        for row in run.eval["trained"]["per_prompt"]:
            prompt = prompts.get(row["prompt"])
            outcomes = task.outcomes(prompt) if prompt is not None else None
            if not outcomes:
                continue
            if prompt.id not in scores:
                if key not in models:
                    rdir = reference_dir(cfg, run.summary)
                    if rdir is None:
                        break
                    from rigorlab.policy.model import load_pretrained

                    model, tok = load_pretrained(rdir)
                    models[key] = (model.eval(), tok)
                from rigorlab.policy.sampling import sequence_logprobs

                import torch

                with torch.no_grad():
                    scores[prompt.id] = sequence_logprobs(*models[key], prompt.text, outcomes)
                dirty = True
            raw = np.minimum(np.asarray(scores[prompt.id], dtype=float), 0.0)
            kept = logsumexp(raw)
            ref = AnswerDistribution(tuple(outcomes), raw - kept, raw, float(-np.expm1(min(kept, 0.0))))
            rewards = [task.verify(prompt, task.extract(o)) for o in outcomes]
            answers = [a if a != "<none>" else None for a, n in row["answers"].items() for _ in range(n)]
            for direction in ("reverse", "forward"):
                run.tv.setdefault(direction, {})[prompt.id] = tv_to_optimum(
                    answers, outcomes, ref, rewards, beta, direction, tau)
            group = res.optima.setdefault(run.arm["group"], {})
            if prompt.id not in group:
                group[prompt.id] = {"outcomes": list(outcomes), "ref_logp": ref.logp,
                                    "rewards": np.asarray(rewards, dtype=float),
                                    "discarded_mass": ref.discarded_mass}
    if dirty:
        atomic_write_json(cache_path, cache)
