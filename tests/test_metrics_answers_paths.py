"""Answer diversity, coverage, path signatures and near-duplicate clustering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rigorlab.metrics import MetricInputError, answer_entropy, coverage, distinct_answers, paths
from rigorlab.metrics.answers import no_answer_rate


def test_answer_counts_exclude_none():
    answers = ["4", "4", "5", None, None, "7"]
    assert distinct_answers(answers) == 3
    p = np.array([2, 1, 1]) / 4
    assert answer_entropy(answers) == pytest.approx(float(-(p * np.log(p)).sum()))
    assert answer_entropy([None, None]) == 0.0
    assert answer_entropy(["x"] * 5) == 0.0
    assert answer_entropy(list(range(8))) == pytest.approx(math.log(8))
    assert no_answer_rate(answers) == pytest.approx(2 / 6)


def test_coverage_of_correct_set():
    assert coverage(["a", "b", "b", None, "z"], {"a", "b", "c", "d"}) == pytest.approx(0.5)
    assert coverage([], {"a"}) == 0.0
    with pytest.raises(MetricInputError, match="non-empty"):
        coverage(["a"], set())
    with pytest.raises(MetricInputError, match="hashable"):
        distinct_answers([["unhashable"]])


def test_path_signature_normalises_steps():
    a = paths.path_signature(["Add 2 and 3", "  Get   5 "])
    assert a == paths.path_signature("add 2 and 3\n\nget 5")
    assert a != paths.path_signature(["Get 5", "Add 2 and 3"])
    sigs = [a, a, paths.path_signature(["other"]), None]
    assert paths.distinct_paths(sigs) == 2
    assert paths.path_entropy(sigs) == pytest.approx(-(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)))


def _shingles(text, n=3):
    t = text.split()
    return {tuple(t[i:i + n]) for i in range(len(t) - n + 1)}


def test_minhash_estimates_jaccard():
    rng = np.random.default_rng(0)
    vocab = [f"v{i}" for i in range(500)]
    base = list(rng.choice(vocab, 200))
    texts = [" ".join(base)]
    for cut in (20, 60, 120):
        texts.append(" ".join(base[:200 - cut] + list(rng.choice(vocab, cut))))
    sig = paths.minhash_signatures(texts, num_perm=512, seed=1)
    for j in range(1, 4):
        a, b = _shingles(texts[0]), _shingles(texts[j])
        true = len(a & b) / len(a | b)
        est = float(paths.estimated_jaccard(sig[0], sig[j]))
        assert abs(est - true) <= 4 * 0.5 / math.sqrt(512)   # 4 sd of the binomial estimate
    # signatures depend only on the words: the same text in another corpus gets the same signature
    again = paths.minhash_signatures([texts[2], "unrelated words here"], num_perm=512, seed=1)
    assert (again[0] == sig[2]).all()


def test_near_duplicate_clusters_recover_planted_groups():
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(2000)]
    texts, truth = [], []
    for group in range(6):
        base = list(rng.choice(vocab, 80))
        for _ in range(5):
            t = list(base)
            t[int(rng.integers(0, 80))] = "x"            # one edit: Jaccard about 0.93 to the base
            texts.append(" ".join(t))
            truth.append(group)
    texts += [" ".join(rng.choice(vocab, 80)) for _ in range(4)]   # singletons
    truth += [6, 7, 8, 9]
    labels = paths.near_duplicate_clusters(texts, threshold=0.7)
    assert labels[0] == 0 and len(set(labels.tolist())) == 10
    for g in range(10):
        members = {int(labels[i]) for i, t in enumerate(truth) if t == g}
        assert len(members) == 1
    assert paths.distinct_reasoning_paths(texts) == 10
    assert paths.reasoning_path_entropy(texts) == pytest.approx(
        -(6 * (5 / 34) * math.log(5 / 34) + 4 * (1 / 34) * math.log(1 / 34)))


def test_lsh_params_follow_threshold():
    b_hi, r_hi = paths.lsh_params(0.9, 128)
    b_lo, r_lo = paths.lsh_params(0.3, 128)
    assert b_hi * r_hi <= 128 and b_lo * r_lo <= 128
    assert r_hi > r_lo     # a higher threshold needs longer bands
