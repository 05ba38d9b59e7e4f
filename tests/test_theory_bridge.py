"""The language-model bridge, with a fake reference model scoring the `pairs` answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rigorlab.errors import UserError
from rigorlab.tasks.pairs import PairsTask
from rigorlab.theory.bridge import (
    AnswerDistribution,
    empirical_distribution,
    reference_answer_distribution,
    task_optimum,
    tv_to_optimum,
)
from rigorlab.theory.fixed_points import fixed_point
from rigorlab.rl.regularisers import KLRegulariser

OUTSIDE = 0.2       # reference mass on completions outside the 100 pairs (malformed, longer, ...)


def fake_reference():
    """A 'model' whose answer distribution is known: first digit Zipf-like, second uniform."""
    first = 1.0 / np.arange(1, 11) ** 1.5
    first /= first.sum()
    table = {f"{a}+{b}": (1 - OUTSIDE) * first[a] / 10 for a in range(10) for b in range(10)}
    calls = []

    def score_fn(prompt: str, completions: list[str]) -> np.ndarray:
        calls.append((prompt, len(completions)))
        return np.log(np.array([table.get(c, 0.0) for c in completions]))

    return score_fn, table, calls


def test_reference_distribution_renormalises_and_reports_the_discarded_mass():
    score_fn, table, calls = fake_reference()
    task = PairsTask()
    prompt = task.make_prompt(9)
    ref = reference_answer_distribution(score_fn, prompt.text, task.outcomes(prompt))
    assert calls == [("S=9:", 100)]
    assert ref.discarded_mass == pytest.approx(OUTSIDE, abs=1e-12)
    assert ref.probs.sum() == pytest.approx(1.0, abs=1e-12)
    assert ref.probs[ref.outcomes.index("4+5")] == pytest.approx(table["4+5"] / (1 - OUTSIDE), rel=1e-12)
    np.testing.assert_allclose(np.exp(ref.raw_logp), [table[o] for o in ref.outcomes], rtol=1e-12)


def test_task_optimum_for_pairs_keeps_the_references_ratios_among_correct_answers():
    """Binary verifier: pi* (reverse KL, any beta) is pi_ref restricted to the 10 correct pairs,
    up to the exp(-1/beta) mass left on wrong ones (docs/theory.md section 3, first bullet)."""
    score_fn, table, _ = fake_reference()
    task = PairsTask()
    prompt = task.make_prompt(9)
    opt = task_optimum(task, prompt, score_fn, beta=0.05, direction="reverse")
    correct = [o for o in opt.outcomes if o in task.correct_answers(prompt)]
    assert len(correct) == 10 and opt.rewards.sum() == 10
    idx = [opt.outcomes.index(o) for o in correct]
    # ratio between the likeliest (0+9) and the rarest (9+0) correct answer is pi_ref's, 10^1.5
    i0, i9 = opt.outcomes.index("0+9"), opt.outcomes.index("9+0")
    assert opt.logp[i0] - opt.logp[i9] == pytest.approx(1.5 * math.log(10), abs=1e-9)
    # mass left on wrong answers: W e^(-1/beta) / (C + W e^(-1/beta)), W, C = pi_ref(wrong), pi_ref(correct)
    C = opt.ref.probs[idx].sum()
    W = 1 - C
    wrong_mass = np.delete(opt.probs, idx).sum()
    assert wrong_mass == pytest.approx(W * math.exp(-20) / (C + W * math.exp(-20)), rel=1e-9)


def test_tv_to_optimum_is_small_for_samples_of_pi_star_and_large_for_samples_of_pi_ref():
    score_fn, _, _ = fake_reference()
    task = PairsTask()
    prompt = task.make_prompt(9)
    opt = task_optimum(task, prompt, score_fn, beta=0.05)
    rng = np.random.default_rng(0)
    from_opt = list(rng.choice(opt.outcomes, size=20_000, p=opt.probs))
    from_ref = list(rng.choice(opt.outcomes, size=20_000, p=opt.ref.probs))
    tv_opt = tv_to_optimum(from_opt, opt.outcomes, opt.ref, opt.rewards, 0.05)
    tv_ref = tv_to_optimum(from_ref, opt.outcomes, opt.ref, opt.rewards, 0.05)
    assert tv_opt < 0.02                   # sampling error only (expected ~0.01 here)
    assert tv_ref > 0.7                    # pi_ref puts ~0.88 on wrong pairs, pi* almost none
    assert opt.tv(from_opt) == pytest.approx(tv_opt, abs=1e-12)
    # the same metric from plain probabilities
    assert tv_to_optimum(from_opt, opt.outcomes, opt.ref.probs, opt.rewards, 0.05) == pytest.approx(tv_opt)


def test_answers_outside_the_set_count_as_distance():
    outcomes = ["a", "b"]
    samples = ["a", "a", "b", "b", "a", "b", None, "zzz"]
    emp, outside = empirical_distribution(samples, outcomes)
    np.testing.assert_allclose(emp, [3 / 8, 3 / 8])
    assert outside == 2 / 8
    # pi* = (1/2, 1/2): TV = 0.5 * (1/8 + 1/8 + 2/8)
    assert tv_to_optimum(samples, outcomes, np.array([0.5, 0.5]), [1, 1], 0.1) == pytest.approx(0.25)
    assert tv_to_optimum(samples[:6], outcomes, np.array([0.5, 0.5]), [1, 1], 0.1) == pytest.approx(0.0)


def test_the_run_configuration_picks_direction_and_beta():
    """k3 in the loss with G = 8 targets the forward optimum at beta * 8/7 (fixed_points)."""
    score_fn, _, _ = fake_reference()
    task = PairsTask()
    prompt = task.make_prompt(9)
    fp = fixed_point(KLRegulariser("reverse", "k3", "loss"), 0.04, 8)
    opt = task_optimum(task, prompt, score_fn, beta=fp.beta, direction=fp.direction)
    assert opt.direction == "forward" and opt.beta == pytest.approx(0.04 * 8 / 7)
    assert np.all(opt.probs > 0)             # forward KL keeps every answer pi_ref has


def test_score_fn_and_outcome_errors():
    task = PairsTask()
    with pytest.raises(ValueError, match="3 log-probs for 2"):
        reference_answer_distribution(lambda p, c: np.zeros(3) - 1, "S=1:", ["0+1", "1+0"])
    with pytest.raises(ValueError, match="<= 0"):
        reference_answer_distribution(lambda p, c: np.array([0.5, -1.0]), "S=1:", ["0+1", "1+0"])
    with pytest.raises(ValueError, match="disjoint"):
        reference_answer_distribution(lambda p, c: np.log([0.8, 0.7]), "S=1:", ["0+1", "1+0"])
    with pytest.raises(ValueError, match="probability 0"):
        reference_answer_distribution(lambda p, c: np.array([-np.inf, -np.inf]), "S=1:", ["0+1", "1+0"])
    with pytest.raises(UserError, match="duplicates"):
        reference_answer_distribution(lambda p, c: np.zeros(2), "S=1:", ["0+1", "0+1"])
    ref = AnswerDistribution(("a", "b"), np.log([0.5, 0.5]), np.log([0.5, 0.5]), 0.0)
    with pytest.raises(ValueError, match="different outcome list"):
        tv_to_optimum(["a"], ["b", "a"], ref, [1, 0], 0.1)

    class NoSet:
        name = "open"

        def outcomes(self, prompt):
            return None

    with pytest.raises(UserError, match="no finite outcome set"):
        task_optimum(NoSet(), task.make_prompt(3), lambda p, c: np.zeros(len(c)), 0.1)
