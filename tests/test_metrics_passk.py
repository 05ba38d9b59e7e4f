"""pass@k against brute-force enumeration of k-subsets, and its curve."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from math import comb

import pytest

from rigorlab.metrics import MetricInputError, pass_at_k, pass_at_k_curve
from rigorlab.metrics.passk import pass_at_k_per_prompt


def _brute(n: int, c: int, k: int) -> float:
    samples = [True] * c + [False] * (n - c)
    subsets = list(combinations(range(n), k))
    return sum(any(samples[i] for i in s) for s in subsets) / len(subsets)


@pytest.mark.parametrize("n", [1, 2, 5, 8, 10])
def test_matches_enumeration_of_all_subsets(n):
    for c in range(n + 1):
        for k in range(1, n + 1):
            assert pass_at_k(n, c, k) == pytest.approx(_brute(n, c, k), abs=1e-12)


def test_stable_for_large_n():
    # the product form against exact rational binomials where C(n, k) has ~300 digits
    n, c, k = 1000, 7, 300
    exact = 1 - Fraction(comb(n - c, k), comb(n, k))
    assert pass_at_k(n, c, k) == pytest.approx(float(exact), rel=1e-12)
    assert pass_at_k(10_000, 0, 5000) == 0.0
    assert pass_at_k(10_000, 9_000, 2000) == 1.0


def test_curve_is_the_mean_over_prompts_and_monotone():
    n_list, c_list = [8, 8, 16], [0, 2, 1]
    curve = pass_at_k_curve(n_list, c_list, [1, 2, 4, 8])
    for k, v in curve.items():
        assert v == pytest.approx(sum(_brute(n, c, k) for n, c in zip(n_list, c_list)) / 3, abs=1e-12)
    values = [curve[k] for k in sorted(curve)]
    assert values == sorted(values)
    assert curve[1] == pytest.approx((0 + 2 / 8 + 1 / 16) / 3)
    assert list(pass_at_k_per_prompt(n_list, c_list, 1)) == pytest.approx([0, 0.25, 1 / 16])


def test_bad_inputs_are_one_sentence_errors():
    with pytest.raises(MetricInputError, match="k must be between 1 and n=4"):
        pass_at_k(4, 1, 5)
    with pytest.raises(MetricInputError, match="c must be between 0 and n=4"):
        pass_at_k(4, 5, 1)
    with pytest.raises(MetricInputError, match="integer"):
        pass_at_k(4.5, 1, 1)
    with pytest.raises(MetricInputError, match="prompt #1 has 4"):
        pass_at_k_curve([8, 4], [1, 1], [8])
    with pytest.raises(MetricInputError, match="2 prompts but c_list has 1"):
        pass_at_k_curve([8, 4], [1], [1])
