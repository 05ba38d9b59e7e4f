"""Synthetic pretraining corpora with a controlled skew and error rate.

The reference policy is made from text whose preference among correct answers
(pairs) or reasoning orders (chain) follows a Zipf law of exponent `zipf`,
and a share `error_rate` of whose answers are wrong. So RL has mistakes to
fix, and the reference has a KNOWN skew among correct modes: the thing
docs/theory.md section 3 says KL-regularised RL preserves.
"""

from __future__ import annotations

import random

import numpy as np

from rigorlab.policy.steps_corpus import steps_corpus
from rigorlab.tasks.base import Task
from rigorlab.tasks.chain import ORDERS, ChainTask, render, solve
from rigorlab.tasks.pairs import PairsTask
from rigorlab.tasks.steps import StepsTask


def zipf_weights(n: int, exponent: float) -> np.ndarray:
    """p_k proportional to 1 / k^exponent, k = 1..n."""
    w = 1.0 / np.arange(1, n + 1, dtype=float) ** exponent
    return w / w.sum()


def pairs_preferences(task: PairsTask, zipf: float, seed: int) -> dict[int, list[tuple[str, float]]]:
    """For each target N: the correct pairs in a seeded random order with their Zipf weights."""
    rng = random.Random(f"pairs-pref/{seed}")
    prefs = {}
    for n in task.targets():
        correct = sorted(task.correct_answers(task.make_prompt(n)))
        rng.shuffle(correct)
        prefs[n] = list(zip(correct, zipf_weights(len(correct), zipf).tolist()))
    return prefs


def pairs_corpus(task: PairsTask, examples: int, zipf: float, error_rate: float,
                 seed: int) -> list[tuple[str, str]]:
    rng = random.Random(f"pairs-corpus/{seed}")
    prefs = pairs_preferences(task, zipf, seed)
    out = []
    for _ in range(examples):
        n = rng.choice(task.targets())
        prompt = task.make_prompt(n)
        if rng.random() < error_rate:
            wrong = [f"{a}+{b}" for a in range(10) for b in range(10) if a + b != n]
            completion = rng.choice(wrong)
        else:
            answers, weights = zip(*prefs[n])
            completion = rng.choices(answers, weights=weights)[0]
        out.append((prompt.text, completion))
    return out


def chain_corpus(task: ChainTask, examples: int, zipf: float, error_rate: float,
                 seed: int) -> list[tuple[str, str]]:
    rng = random.Random(f"chain-corpus/{seed}")
    order_rank = list(ORDERS)
    rng.shuffle(order_rank)
    weights = zipf_weights(len(order_rank), zipf).tolist()
    out = []
    for prompt in task.prompts("pretrain", examples, seed):
        order = rng.choices(order_rank, weights=weights)[0]
        steps = solve(prompt.meta["numbers"], order)
        if rng.random() < error_rate:  # one slip in one step propagates to the answer
            i = rng.randrange(len(steps))
            delta = rng.choice([-2, -1, 1, 2])
            fixed = []
            acc_err = 0
            for j, (a, b, c) in enumerate(steps):
                a2 = a + acc_err if j > i and a == steps[j - 1][2] else a
                b2 = b + acc_err if j > i and b == steps[j - 1][2] else b
                c2 = a2 + b2 + (delta if j == i else 0)
                if j == i:
                    acc_err = delta
                fixed.append((a2, b2, max(c2, 0)))
            steps = fixed
        out.append((prompt.text, render(steps)))
    return out


def supervised_corpus(task: Task, examples: int, seed: int) -> list[tuple[str, str]]:
    """A user task's training split as (prompt, answer) pairs, for `jsonl`."""
    return [(p.text, p.target) for p in task.prompts("train", examples, seed)]


def build_corpus(task: Task, examples: int, zipf: float, error_rate: float,
                 seed: int) -> list[tuple[str, str]]:
    if isinstance(task, PairsTask):
        return pairs_corpus(task, examples, zipf, error_rate, seed)
    if isinstance(task, ChainTask):
        return chain_corpus(task, examples, zipf, error_rate, seed)
    if isinstance(task, StepsTask):
        return steps_corpus(task, examples, error_rate, seed)
    return supervised_corpus(task, examples, seed)
