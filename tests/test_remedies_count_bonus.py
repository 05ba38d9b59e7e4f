"""Count-based exploration (docs/theory.md section 6): arithmetic on hand-made groups, the
MinHash sketch, exact resume, and the tabular claim that the bonus keeps more correct modes."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

from rigorlab.config import build_config
from rigorlab.errors import UserError
from rigorlab.rl.components import build_components
from rigorlab.rl.count_bonus import (
    CountBonus,
    batch_penalty,
    historical_bonus,
    minhash_sketch,
)
from rigorlab.rl.shapers import ScoredGroup


def group(answers, prompt="p", rewards=None, correct=None, completions=None, signatures=None):
    G = len(answers)
    return ScoredGroup(prompt=prompt, completions=completions or [str(a) for a in answers], answers=answers,
                       rewards=np.zeros(G) if rewards is None else np.asarray(rewards, float),
                       correct=None if correct is None else np.asarray(correct, float),
                       signatures=signatures)


def test_formulas():
    assert historical_bonus([0, 1, 4, 100], 0.5) == pytest.approx([0.5, 0.5, 0.25, 0.05])
    assert batch_penalty(["a", "a", "a", "b"], 1.0) == pytest.approx([0.5, 0.5, 0.5, 0.0])
    assert batch_penalty(["a", None, None, "a"], 0.4) == pytest.approx([0.1, 0.0, 0.0, 0.1])
    assert batch_penalty(["a", "a"], 1.0, num_generations=8) == pytest.approx([0.125, 0.125])


def test_historical_counts_earlier_steps_only():
    s = CountBonus(historical=1.0, batch=0.0)
    new, m = s.shape(group(["a", "a", "b", None], rewards=[1, 1, 0, 0]), step=0)
    assert new == pytest.approx([2.0, 2.0, 1.0, 0.0])              # N = 0 everywhere; None gets nothing
    assert m["count_bonus/answer/novel_frac"] == 1.0 and m["count_bonus/answer/distinct"] == 2.0
    # a second group of the SAME step sees the same counts
    again, _ = s.shape(group(["a", "c"]), step=0)
    assert again == pytest.approx([1.0, 1.0])
    # next step: N(a) = 3, N(b) = 1, N(c) = 1, N(d) = 0
    new, m = s.shape(group(["a", "b", "c", "d"]), step=1)
    assert new == pytest.approx([1 / math.sqrt(3), 1.0, 1.0, 1.0])
    assert m["count_bonus/answer/novel_frac"] == 0.25
    # counts are per prompt
    other, _ = s.shape(group(["a"], prompt="q"), step=2)
    assert other == pytest.approx([1.0])
    assert s.count("p", "a") == 4 and s.count("q", "a") == 0


def test_batch_penalty_and_apply_to_correct():
    s = CountBonus(historical=0.0, batch=0.8, apply_to="correct")
    new, m = s.shape(group(["a", "a", "a", "b"], rewards=[1, 1, 0, 1], correct=[1, 1, 0, 1]), step=0)
    # others with the same answer: 2, 2, 2, 0 -> penalty 0.8 * 2 / 4 = 0.4 on correct samples only
    assert new == pytest.approx([0.6, 0.6, 0.0, 1.0])
    assert m["count_bonus/answer/penalty_mean"] == pytest.approx(0.2)
    with pytest.raises(UserError, match="correct"):
        CountBonus(apply_to="correct").shape(group(["a"]), step=0)


def test_signature_keys_fall_back_to_sketch():
    s = CountBonus(historical=1.0, over="signature")
    texts = ["3+5=8,8+2=10;10", "3+5=8,8+2=10;10", "5+2=7,3+7=10;10"]
    keys = s.keys(group(["10"] * 3, completions=texts, signatures=["l2r", None, None]))
    assert keys[0] == "l2r"
    assert keys[1] == minhash_sketch(texts[1]) and keys[1] != keys[2]
    sketch = CountBonus(over="sketch").keys(group(["10"] * 2, completions=texts[:2], signatures=["l2r", "x"]))
    assert sketch[0] == sketch[1] == minhash_sketch(texts[0])


def test_minhash_is_stable_across_processes():
    text = "First add 3 and 5 to get 8, then add 2 to get 10."
    code = ("from rigorlab.rl.count_bonus import minhash_sketch; "
            f"print(minhash_sketch({text!r}, rows=3))")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "12345", "PATH": ""}).stdout.strip()
    assert other == minhash_sketch(text, rows=3)
    assert minhash_sketch("   ") is None


def test_minhash_collision_rate_is_jaccard_to_the_rows():
    a = "the quick brown fox jumps over the lazy dog"
    b = "the quick brown fox jumped over the lazy dog"
    grams = [{" ".join(t.split()[i:i + 3]) for i in range(len(t.split()) - 2)} for t in (a, b)]
    j = len(grams[0] & grams[1]) / len(grams[0] | grams[1])
    assert j == pytest.approx(4 / 10)                  # word 3-grams: 4 shared of 10
    seeds = range(600)
    for rows in (1, 2):
        rate = np.mean([minhash_sketch(a, rows=rows, seed=s) == minhash_sketch(b, rows=rows, seed=s)
                        for s in seeds])
        # binomial sd <= 0.02 at n = 600; 0.07 is more than 3 sd
        assert abs(rate - j ** rows) < 0.07, (rows, rate, j ** rows)


def test_state_dict_makes_resume_exact():
    rng = np.random.default_rng(0)
    steps = [[list(rng.choice(list("abcde"), size=6)) for _ in range(3)] for _ in range(6)]

    def shape_steps(shaper, which):
        out = []
        for step in which:
            for g, answers in enumerate(steps[step]):
                out.append(shaper.shape(group(answers, prompt=f"p{g % 2}"), step)[0])
        return np.concatenate(out)

    full = CountBonus(historical=0.7, batch=0.3)
    uninterrupted = shape_steps(full, range(6))
    first = CountBonus(historical=0.7, batch=0.3)
    head = shape_steps(first, range(3))
    state = first.state_dict()
    resumed = CountBonus(historical=0.7, batch=0.3)
    resumed.load_state_dict(state)
    tail = shape_steps(resumed, range(3, 6))
    assert np.array_equal(np.concatenate([head, tail]), uninterrupted)
    fresh_tail = shape_steps(CountBonus(historical=0.7, batch=0.3), range(3, 6))
    assert not np.array_equal(fresh_tail, tail)        # the counts matter


def test_bad_parameters_name_the_field():
    with pytest.raises(UserError, match="over"):
        CountBonus(over="tokens")
    with pytest.raises(UserError, match="historical"):
        CountBonus(historical=-1.0)


def test_built_from_config():
    cfg = build_config({"reward": {"shapers": [{"name": "count_bonus", "params": {"batch": 0.5}}]}})
    (shaper,) = build_components(cfg).shapers
    assert isinstance(shaper, CountBonus) and shaper.batch == 0.5 and shaper.historical == 0.5


# --------------------------------------------------------------------------- tabular proof
def effective_number(p: np.ndarray) -> float:
    """exp(entropy) of a distribution renormalised: how many outcomes it really spreads over."""
    q = p / p.sum()
    q = q[q > 0]
    return float(np.exp(-(q * np.log(q)).sum()))


def test_count_bonus_keeps_more_correct_modes_than_plain_grpo():
    """From the same start (pi_ref: six correct answers with Zipf-1.5 preferences, six wrong),
    plain policy gradient (SGD, beta = 0) lets the favourite correct answer take over; the
    count bonus (c_h = c_b = 0.5) keeps every correct answer alive, on every seed."""
    from rigorlab.theory.bandit import BanditConfig, train_bandit

    n_correct, K = 6, 12
    w = np.array([1 / (i + 1) ** 1.5 for i in range(n_correct)] + [0.5 / n_correct] * (K - n_correct))
    pi_ref = w / w.sum()
    reward = np.array([1.0] * n_correct + [0.0] * (K - n_correct))
    for seed in (0, 1, 2):
        cfg = BanditConfig(steps=200, groups_per_step=8, num_generations=8, learning_rate=1.0, optimizer="sgd", seed=seed)
        plain = train_bandit(pi_ref, reward, config=cfg).policy
        bonus = train_bandit(pi_ref, reward, config=cfg, shaper=CountBonus(historical=0.5, batch=0.5)).policy
        kept_plain = int((plain[:n_correct] >= 0.02).sum())
        kept_bonus = int((bonus[:n_correct] >= 0.02).sum())
        assert kept_bonus >= kept_plain + 3, (seed, kept_plain, kept_bonus)
        assert effective_number(bonus[:n_correct]) >= 2.5 * effective_number(plain[:n_correct])
        assert bonus[:n_correct].sum() >= 0.9          # breadth is not bought with wrong answers
