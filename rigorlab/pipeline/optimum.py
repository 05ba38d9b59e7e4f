"""pi_ref, pi* and the TV distance for every eval prompt of a run, written into eval.json.

A run is the only place that holds its reference model, so it computes the
optimum once (rigorlab.theory.bridge.task_optimum) and writes it down per
prompt; studies and reports read these numbers and never load a model.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from rigorlab.config import TrainConfig
from rigorlab.rl.evaluate import eval_prompts
from rigorlab.rl.mara import mara_tau
from rigorlab.rl.regularisers import DIRECTIONS
from rigorlab.rl.trainer import step_seed
from rigorlab.tasks.base import Task
from rigorlab.theory.bridge import effective_beta, task_optimum, task_reference

ScoreFn = Callable[[str, list[str]], np.ndarray]


def final_beta(controllers: dict) -> float:
    """The KL coefficient's final value (0 when the run has no KL term), floored as the optimum uses it."""
    return effective_beta(controllers["beta"].value if "beta" in controllers else 0.0)


def run_optimum(cfg: TrainConfig, task: Task, score_fn: ScoreFn, per_prompt: list[dict], beta: float) -> dict:
    """Per-prompt pi_ref, pi* (both KL directions) and TV, with their means; {} for an unenumerable task.

    pi_ref comes from the REFERENCE model's exact sequence log-probs (docs/theory.md
    section 3); beta is the run's final coefficient. Only k1 in the reward
    targets the sequence-level reverse-KL optimum exactly (theory/bridge.py),
    so both distances are reported and the reader compares. A MARA run
    targets the optimum of MARA's rewards (section 4). Samples outside the
    answer set count as distance.
    """
    prompts = {p.id: p for p in eval_prompts(task, cfg.eval, step_seed(cfg.seed, 0, "eval"))}
    tau = mara_tau(cfg)
    tv: dict[str, list[float]] = {d: [] for d in DIRECTIONS}
    discarded, rows = [], {}
    for row in per_prompt:
        prompt = prompts[row["prompt"]]
        if task.outcomes(prompt) is None:
            return {}
        reference = task_reference(task, prompt, score_fn)
        ref, rewards = reference
        answers = [None if a == "<none>" else a for a, n in row["answers"].items() for _ in range(n)]
        entry = {"outcomes": list(ref.outcomes), "pi_ref": ref.probs.tolist(),
                 "discarded_mass": ref.discarded_mass, "rewards": rewards.tolist(), "pi_star": {}, "tv": {}}
        for direction in DIRECTIONS:
            opt = task_optimum(task, prompt, None, beta, direction, tau, reference=reference)
            entry["pi_star"][direction] = opt.probs.tolist()
            entry["tv"][direction] = opt.tv(answers)
            tv[direction].append(entry["tv"][direction])
        discarded.append(ref.discarded_mass)
        rows[prompt.id] = entry
    if not rows:
        return {}
    out: dict = {f"tv_to_optimum/{d}": float(np.mean(v)) for d, v in tv.items()}
    out["reference_mass_outside_outcomes"] = float(np.mean(discarded))
    out["beta_used"] = beta
    out["optimum"] = {"beta": beta, "mara_tau": tau, "prompts": rows}
    return out
