"""What a study compares: each metric's name, direction, level and where its values come from.

Two levels (statistics.py treats them differently):
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

from rigorlab.errors import UserError


@dataclass(frozen=True)
class StudyMetric:
    key: str
    label: str
    higher_is_better: bool | None      # None: neither (a description, not a score)
    level: str                         # prompt | seed
    description: str
    bounds: tuple[float | None, float | None] = (None, None)   # the metric's range (intervals are clipped to it)


_FIXED = {
    "accuracy": StudyMetric("accuracy", "accuracy (pass@1)", True, "prompt",
                            "share of the eval samples the verifier accepts", (0.0, 1.0)),
    "distinct_correct": StudyMetric("distinct_correct", "distinct correct answers", True, "prompt",
                                    "different correct final answers among a prompt's samples", (0.0, None)),
    "coverage": StudyMetric("coverage", "coverage of correct set", True, "prompt",
                            "share of a prompt's correct answers that were sampled at least once", (0.0, 1.0)),
    "answer_entropy": StudyMetric("answer_entropy", "answer entropy (nats)", None, "prompt",
                                  "entropy of the sampled final answers (wrong ones included)", (0.0, None)),
    "distinct_paths": StudyMetric("distinct_paths", "distinct reasoning paths", True, "prompt",
                                  "different path signatures among the correct samples", (0.0, None)),
    "path_entropy": StudyMetric("path_entropy", "path entropy (nats)", None, "prompt",
                                "entropy of the correct samples' path signatures", (0.0, None)),
    "mean_length": StudyMetric("mean_length", "completion length (tokens)", None, "prompt",
                               "mean completion length in tokens", (0.0, None)),
    "repeated_ngram_rate": StudyMetric("repeated_ngram_rate", "repeated 4-gram rate", False, "prompt",
                                       "1 - distinct/all 4-grams of the model's tokens inside a completion", (0.0, 1.0)),
    "loop_share": StudyMetric("loop_share", "share of tokens in loops", False, "prompt",
                              "share of a completion's tokens inside back-to-back repeated blocks", (0.0, 1.0)),
    "tv_reverse": StudyMetric("tv_reverse", "TV to reverse-KL pi*", False, "prompt",
                              "total variation between the sampled answers and pi* of E[r] - beta KL(pi||pi_ref)",
                              (0.0, 1.0)),
    "tv_forward": StudyMetric("tv_forward", "TV to forward-KL pi*", False, "prompt",
                              "total variation between the sampled answers and pi* of E[r] - beta KL(pi_ref||pi)",
                              (0.0, 1.0)),
    "token_entropy": StudyMetric("token_entropy", "token entropy, end of training", None, "seed",
                                 "mean per-token entropy of the policy over the last tenth of the steps", (0.0, None)),
    "reward": StudyMetric("reward", "reward, end of training", True, "seed",
                          "mean shaped reward over the last tenth of the steps"),
    "kl": StudyMetric("kl", "KL(pi||pi_ref) per token, end", None, "seed",
                      "exact per-token reverse KL to the reference over the last tenth of the steps", (0.0, None)),
}
_PASS = re.compile(r"^pass@([1-9][0-9]*)$")

DEFAULT_METRICS = ("accuracy", "pass@64", "distinct_correct", "coverage", "answer_entropy", "tv_reverse",
                   "token_entropy")
TRAIN_KEYS = {"token_entropy": "entropy", "reward": "reward/mean", "kl": "kl/reverse_exact"}


def metric_info(key: str) -> StudyMetric:
    if key in _FIXED:
        return _FIXED[key]
    m = _PASS.match(key)
    if m:
        k = int(m.group(1))
        return StudyMetric(key, f"pass@{k}", True, "prompt",
                           f"unbiased probability that at least one of {k} samples is correct", (0.0, 1.0))
    raise KeyError(key)


def check_metric(key: str, source: str = "study") -> StudyMetric:
    try:
        return metric_info(key)
    except KeyError:
        known = ", ".join(list(_FIXED) + ["pass@K"])
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

