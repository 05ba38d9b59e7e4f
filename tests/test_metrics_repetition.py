"""Repetition inside one chain of thought."""

from __future__ import annotations

import pytest

from rigorlab.metrics import repetition as rp


def test_rates_by_hand():
    text = "a b c d a b c d e"
    # 4-grams: abcd bcda cdab dabc abcd bcde -> 5 distinct of 6
    assert rp.repeated_ngram_rate(text, 4) == pytest.approx(1 - 5 / 6)
    # abcd occurs twice, at 0 and 4: tokens 0..7 covered, "e" not
    assert rp.repeated_span_share(text, 4) == pytest.approx(8 / 9)
    assert rp.repeated_ngram_rate("a b", 4) == 0.0
    assert rp.repeated_span_share("", 4) == 0.0
    assert rp.cot_length("  one two\nthree ") == 3


def test_loop_detection():
    text = "We need x. " + "Wait, let me check again. " * 6 + "So x = 3."
    loops = rp.find_loops(text)
    assert loops == [rp.Loop(start=3, end=33, period=5, repeats=6)]
    prof = rp.repetition_profile(text)
    assert prof["loop_share"] == pytest.approx(30 / 37)    # 3 + 30 + 4 tokens
    assert prof["n_loops"] == 1 and not prof["ends_in_loop"]
    tail = rp.repetition_profile("Let us think. " + "the answer is the answer is " * 5)
    assert tail["ends_in_loop"]
    assert tail["loops"][0]["period"] == 3


def test_smallest_period_and_thresholds():
    assert rp.find_loops("ha " * 20) == [rp.Loop(0, 20, 1, 20)]
    assert rp.find_loops("ha ha ha") == []                       # shorter than min_tokens
    assert rp.find_loops("ha ha ha", min_tokens=3) == [rp.Loop(0, 3, 1, 3)]
    assert rp.find_loops("a b a b c", min_repeats=2, min_tokens=4) == [rp.Loop(0, 4, 2, 2)]
    no_loop = " ".join(f"w{i}" for i in range(100))
    assert rp.find_loops(no_loop) == [] and rp.loop_share(no_loop) == 0.0


def test_two_separate_loops():
    text = " ".join(["x y z"] * 5 + ["break here now"] + ["p q"] * 7)
    loops = rp.find_loops(text)
    assert [(lp.start, lp.end, lp.period) for lp in loops] == [(0, 15, 3), (18, 32, 2)]
