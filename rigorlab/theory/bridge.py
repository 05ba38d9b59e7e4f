"""The language-model bridge: exact optima over a task's finite set of complete answers.

For a task whose well-formed completions form a finite set (`pairs`: the 100
strings "a+b"), pi_ref over complete answers is each answer's sequence
probability under the reference model, renormalised over the set; the mass
the reference puts elsewhere (malformed or longer completions) is reported,
not hidden. The closed forms of optima.py then give pi* for a run's beta,
and `tv_to_optimum` measures how far a trained policy's sampled answers are
from it.

The model side is decoupled through a scoring callable
`score_fn(prompt, completions) -> log-probs (N,)`: the sequence log-prob of
each completion given the prompt, INCLUDING its end-of-sequence token, so
that the completions are disjoint events ("4+5" ended, not "4+5..." continued).

Which optimum a run targets: use fixed_points.fixed_point(reg, beta, G) for
the direction and effective beta. Caveat for sequences (T > 1): only k1 in
the reward is the gradient of the sequence-level reverse KL, so only its
fixed point is exactly the reverse-KL pi* here; loss-placed estimators
regularise each token under the policy's own prefixes (for k3 that is not the
sequence-level forward KL, whose expectation is over pi_ref's prefixes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Sequence

import numpy as np

from rigorlab.errors import UserError
from rigorlab.metrics.info import register_metric
from rigorlab.theory.optima import logsumexp, optimum_logp
from rigorlab.theory.summaries import tv_distance

ScoreFn = Callable[[str, list[str]], np.ndarray]

BETA_FLOOR = 1e-6
"""The smallest beta an optimum is computed at: a run trained with beta = 0 is
compared with the limit beta -> 0+, which keeps pi_ref's ratios among the best
answers (docs/theory.md section 3). The one copy of this constant."""


def effective_beta(beta: float | None) -> float:
    """A run's final beta as the optimum uses it (None or 0 -> BETA_FLOOR)."""
    return max(float(beta or 0.0), BETA_FLOOR)


@dataclass(frozen=True)
class AnswerDistribution:
    """pi_ref over a finite answer set."""

    outcomes: tuple[str, ...]
    logp: np.ndarray          # (N,) renormalised over the set: logsumexp = 0
    raw_logp: np.ndarray      # (N,) sequence log-probs as scored
    discarded_mass: float     # reference mass outside the set, 1 - sum exp(raw_logp), in [0, 1]

    @property
    def probs(self) -> np.ndarray:
        return np.exp(self.logp)


def reference_answer_distribution(score_fn: ScoreFn, prompt: str, outcomes: Sequence[str]) -> AnswerDistribution:
    """Score every outcome under the reference and renormalise over the set (in log space)."""
    outs = list(outcomes)
    if not outs:
        raise UserError(f"no outcomes to score for prompt {prompt!r}")
    if len(set(outs)) != len(outs):
        raise UserError(f"the outcomes of prompt {prompt!r} contain duplicates")
    raw = np.asarray(score_fn(prompt, outs), dtype=float).reshape(-1)
    if raw.size != len(outs):
        raise ValueError(f"score_fn returned {raw.size} log-probs for {len(outs)} completions")
    if np.any(np.isnan(raw)) or np.any(raw > 1e-6):
        raise ValueError("score_fn must return log-probabilities <= 0 (no NaN)")
    raw = np.minimum(raw, 0.0)
    kept = logsumexp(raw)
    if kept == -np.inf:
        raise ValueError(f"the reference gives probability 0 to every outcome of prompt {prompt!r}")
    if kept > 1e-9:
        raise ValueError(f"the outcomes' probabilities sum to {np.exp(kept):.6g} > 1: "
                         "score_fn must give disjoint completions (end-of-sequence included)")
    return AnswerDistribution(outcomes=tuple(outs), logp=raw - kept, raw_logp=raw,
                              discarded_mass=float(-np.expm1(min(kept, 0.0))))


def empirical_distribution(sampled_answers: Sequence[Hashable | None],
                           outcomes: Sequence[str]) -> tuple[np.ndarray, float]:
    """Frequencies of each outcome among the samples, and the fraction outside the set (None included)."""
    if not sampled_answers:
        raise ValueError("no sampled answers")
    index = {o: i for i, o in enumerate(outcomes)}
    counts = np.zeros(len(outcomes))
    outside = 0
    for a in sampled_answers:
        i = index.get(a) if a is not None else None
        if i is None:
            outside += 1
        else:
            counts[i] += 1
    n = len(sampled_answers)
    return counts / n, outside / n


@register_metric("tv_reverse", "TV to reverse-KL pi*", False, (0.0, 1.0),
                 "total variation between the sampled answers and pi* of E[r] - beta KL(pi||pi_ref)")
@register_metric("tv_forward", "TV to forward-KL pi*", False, (0.0, 1.0),
                 "total variation between the sampled answers and pi* of E[r] - beta KL(pi_ref||pi)")
def tv_to_optimum(sampled_answers: Sequence[Hashable | None], outcomes: Sequence[str],
                  pi_ref: np.ndarray | AnswerDistribution, rewards: Sequence[float], beta: float,
                  direction: str = "reverse", mara_tau: float | None = None) -> float:
    """TV distance, in [0, 1], between the sampled answers' distribution and pi*; lower = closer.

    Samples outside the outcome set count as mass pi* does not have (pi* lives
    on the set), so a policy that stops answering is far from pi*.
    """
    if isinstance(pi_ref, AnswerDistribution):
        if tuple(outcomes) != pi_ref.outcomes:
            raise ValueError("pi_ref was scored on a different outcome list")
        ref_logp = pi_ref.logp
    else:
        p = np.asarray(pi_ref, dtype=float)
        if p.shape != (len(outcomes),):
            raise ValueError(f"pi_ref has {p.size} entries for {len(outcomes)} outcomes")
        with np.errstate(divide="ignore"):
            ref_logp = np.log(p) - np.log(p.sum())
    target = np.exp(optimum_logp(ref_logp, rewards, beta, direction, mara_tau))
    return _tv_to(sampled_answers, outcomes, target)


def _tv_to(sampled_answers: Sequence[Hashable | None], outcomes: Sequence[str], target: np.ndarray) -> float:
    """TV between the samples' distribution (mass outside the set included) and `target` on the set."""
    emp, outside = empirical_distribution(sampled_answers, outcomes)
    return tv_distance(np.append(emp, outside), np.append(target, 0.0))


@dataclass(frozen=True)
class TaskOptimum:
    """pi_ref and pi* for one prompt of a task with a finite answer set."""

    prompt: str
    outcomes: tuple[str, ...]
    ref: AnswerDistribution
    rewards: np.ndarray
    logp: np.ndarray          # (N,) log pi*
    beta: float
    direction: str

    @property
    def probs(self) -> np.ndarray:
        return np.exp(self.logp)

    def tv(self, sampled_answers: Sequence[Hashable | None]) -> float:
        """TV distance between sampled answers and this pi* (see tv_to_optimum)."""
        return _tv_to(sampled_answers, self.outcomes, self.probs)


def task_reference(task, prompt, score_fn: ScoreFn) -> tuple[AnswerDistribution, np.ndarray]:
    """pi_ref over the outcomes of `prompt` (a tasks.base.Prompt) and the verifier's reward of each.

    The task must enumerate its outcomes (`task.outcomes(prompt)`), as `pairs` does.
    """
    outcomes = task.outcomes(prompt)
    if outcomes is None:
        raise UserError(f"task {task.name!r} has no finite outcome set, so its optimum cannot be enumerated")
    ref = reference_answer_distribution(score_fn, prompt.text, outcomes)
    rewards = np.array([task.verify(prompt, task.extract(o)) for o in outcomes], dtype=float)
    return ref, rewards


def task_optimum(task, prompt, score_fn: ScoreFn | None, beta: float, direction: str = "reverse",
                 mara_tau: float | None = None,
                 reference: tuple[AnswerDistribution, np.ndarray] | None = None) -> TaskOptimum:
    """pi* for `prompt` of `task` (docs/theory.md section 3), with rewards from the task's verifier.

    This is the one place that turns a reference model into an optimum: a
    run's eval.json is written from it (rigorlab.pipeline.optimum), and
    studies and reports read that file. `reference`, from `task_reference`,
    saves scoring the reference again for a second direction.
    """
    ref, rewards = reference if reference is not None else task_reference(task, prompt, score_fn)
    logp = optimum_logp(ref.logp, rewards, beta, direction, mara_tau)
    return TaskOptimum(prompt=prompt.text, outcomes=ref.outcomes, ref=ref, rewards=rewards, logp=logp,
                       beta=float(beta), direction=direction)
