"""What a study compares: which registered metrics, at which level, and where their values come from.

Two levels (intervals.py treats them differently):
- prompt: one value per (seed, eval prompt), from eval.json's per-prompt rows
  (accuracy, pass@k, distinct correct answers, coverage, answer entropy, paths,
  length; TV to pi* when the task's answer set is finite);
- seed: one value per run, from the training log (token entropy, reward, KL
  over the last tenth of the steps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
import numpy as np

import rigorlab.metrics.answers  # noqa: F401  (these imports register the metrics' meanings)
import rigorlab.metrics.passk  # noqa: F401
import rigorlab.metrics.paths  # noqa: F401
import rigorlab.metrics.repetition  # noqa: F401
import rigorlab.theory.bridge  # noqa: F401
from rigorlab.errors import UserError
from rigorlab.metrics.chain_steps import STEP_METRICS
from rigorlab.metrics.info import metric_info as registered_info
from rigorlab.rl.metric_names import TRAIN_LOG_COLUMNS as TRAIN_KEYS


@dataclass(frozen=True)
class StudyMetric:
    """A registered metric (rigorlab.metrics.info) with the level a study reads it at."""

    key: str
    label: str
    higher_is_better: bool | None      # None: neither (a description, not a score)
    level: str                         # prompt | seed
    description: str
    bounds: tuple[float | None, float | None] = (None, None)   # the metric's range (intervals are clipped to it)


# What a study can compare; label, direction and range come from each metric's registration
# beside the code that computes it (metrics/, theory/bridge.py, rl/metric_names.py).
PROMPT_METRICS = ("accuracy", "distinct_correct", "coverage", "answer_entropy", "distinct_paths", "path_entropy",
                  "mean_length", "repeated_ngram_rate", "loop_share", "tv_reverse", "tv_forward") + STEP_METRICS
SEED_METRICS = tuple(TRAIN_KEYS)
_PASS = re.compile(r"^pass@([1-9][0-9]*)$")

DEFAULT_METRICS = ("accuracy", "pass@64", "distinct_correct", "coverage", "answer_entropy", "tv_reverse",
                   "token_entropy")


def metric_info(key: str) -> StudyMetric:
    if key in PROMPT_METRICS or key in SEED_METRICS or _PASS.match(key):
        info = registered_info(key)
        return StudyMetric(key, info.label, info.higher_is_better, "seed" if key in SEED_METRICS else "prompt",
                           info.description, info.bounds)
    raise KeyError(key)


def check_metric(key: str, source: str = "study") -> StudyMetric:
    try:
        return metric_info(key)
    except KeyError:
        known = ", ".join(list(PROMPT_METRICS) + list(SEED_METRICS) + ["pass@K"])
        raise UserError(f"{source}: unknown study metric {key!r}; known: {known}") from None


def prompt_values(per_prompt: list[dict], key: str,
                  tv: dict[str, dict[str, float]] | None = None) -> dict[str, float]:
    """prompt id -> value of a prompt-level metric; prompts without a value are left out."""
    from rigorlab.metrics.passk import pass_at_k

    out: dict[str, float] = {}
    m = _PASS.match(key)
    for row in per_prompt:
        pid = row["prompt"]
        if key == "accuracy":
            value = row["correct"] / row["n"]
        elif m:
            k = int(m.group(1))
            if k > row["n"]:
                continue
            value = pass_at_k(row["n"], row["correct"], k)
        elif key in ("tv_reverse", "tv_forward"):
            value = (tv or {}).get(key.removeprefix("tv_"), {}).get(pid)
        else:
            value = row.get(key)
        if value is not None and np.isfinite(value):
            out[pid] = float(value)
    return out


def seed_value(rows: list[dict], key: str, tail: float = 0.1) -> float | None:
    """Mean of a training-log metric over the last `tail` share of the steps (at least one)."""
    name = TRAIN_KEYS[key]
    vals = [r[name] for r in rows if isinstance(r.get(name), (int, float))]
    if not vals:
        return None
    n = max(1, int(round(len(vals) * tail)))
    return float(np.mean(vals[-n:]))


def curve(rows: list[dict], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps, values) of one training-log metric."""
    pts = [(r["step"], r[name]) for r in rows if isinstance(r.get(name), (int, float))]
    if not pts:
        return np.array([]), np.array([])
    s, v = zip(*pts)
    return np.asarray(s), np.asarray(v, dtype=float)

