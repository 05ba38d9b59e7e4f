"""Final answers: how many distinct ones a policy still produces (docs/theory.md sections 6, 8).

Answers are compared as given (normalise them first, e.g. with the task's
extractor); `None` means no answer could be extracted and is never counted
as an answer.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Collection, Hashable, Sequence

from rigorlab.metrics.errors import MetricInputError
from rigorlab.metrics.info import register_metric

Answer = Hashable | None


def answer_counts(answers: Sequence[Answer]) -> Counter:
    """How often each answer occurs, `None` left out."""
    try:
        return Counter(a for a in answers if a is not None)
    except TypeError as exc:
        raise MetricInputError(f"answers must be hashable values (str, int, tuple): {exc}") from None


@register_metric("distinct_correct", "distinct correct answers", True, (0.0, None),
                 "different correct final answers among a prompt's samples")
def distinct_answers(answers: Sequence[Answer]) -> int:
    """Number of distinct answers. Range [0, n], higher = more diverse."""
    return len(answer_counts(answers))


@register_metric("answer_entropy", "answer entropy (nats)", None, (0.0, None),
                 "entropy of the sampled final answers (wrong ones included)")
def answer_entropy(answers: Sequence[Answer]) -> float:
    """Shannon entropy (nats) of the empirical answer distribution, `None` excluded.

        H = -sum_a p(a) log p(a),  p(a) = count(a) / (number of non-None answers)

    Range [0, log(distinct answers)]; 0 when there are no answers or one
    answer. Higher = answers spread over more modes.
    """
    counts = answer_counts(answers)
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return float(-sum(c / total * math.log(c / total) for c in counts.values()))


def no_answer_rate(answers: Sequence[Answer]) -> float:
    """Fraction of samples with no extracted answer. Range [0, 1], lower = better."""
    answers = list(answers)
    if not answers:
        raise MetricInputError("no_answer_rate needs at least one sample")
    return sum(a is None for a in answers) / len(answers)


@register_metric("coverage", "coverage of correct set", True, (0.0, 1.0),
                 "share of a prompt's correct answers that were sampled at least once")
def coverage(answers: Sequence[Answer], correct_set: Collection[Hashable]) -> float:
    """Fraction of the known correct answers produced at least once.

        coverage = |{a in correct_set : a produced}| / |correct_set|

    Range [0, 1], higher = more of the correct modes kept (the quantity that
    shrinks under mode collapse when a task has several correct answers).
    """
    correct = set(correct_set)
    if not correct:
        raise MetricInputError("coverage needs a non-empty set of correct answers")
    produced = set(answer_counts(answers))
    return len(correct & produced) / len(correct)
