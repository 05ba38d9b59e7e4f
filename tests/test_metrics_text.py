"""Lexical metrics: definitions on hand-checked inputs, fast algorithms against brute force."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

from rigorlab.metrics import MetricInputError, text
from rigorlab.metrics import _tokens, rouge, vendi
from rigorlab.metrics.bleu import self_bleu_scores


def _random_texts(rng, n, max_len, vocab=6):
    words = [f"t{i}" for i in range(vocab)]
    return [" ".join(rng.choice(words, size=rng.integers(0, max_len + 1))) for _ in range(n)]


def _lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def _f1(a, b):
    ta, tb = rouge.rouge_tokens(a), rouge.rouge_tokens(b)
    if not ta or not tb:
        return 0.0
    lcs = _lcs(ta, tb)
    return 0.0 if lcs == 0 else 2 * lcs / (len(ta) + len(tb))


# ------------------------------------------------------------------ distinct-n and n-gram keys

def test_distinct_n_by_hand():
    texts = ["a b a b", "a b c"]
    # bigrams: ab ba ab | ab bc -> 3 distinct of 5
    assert text.distinct_n(texts, 2) == pytest.approx(3 / 5)
    assert text.distinct_n(texts, 1) == pytest.approx(3 / 7)
    assert math.isnan(text.distinct_n(["a", "b"], 2))


def test_ngram_keys_exact_after_rank_reduction():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 3, size=500)
    # a vocabulary size that forces the rank reduction (V**n >= 2**62) at n = 5
    keys = _tokens.ngram_keys(ids, 5, 10**6)
    grams = [tuple(ids[i:i + 5]) for i in range(len(ids) - 4)]
    assert _tokens.count_distinct(keys) == len(set(grams))
    order = np.argsort(keys, kind="stable")
    assert [grams[i] for i in order] == sorted(grams)


def _nds_brute(texts, num_n):
    tokens = " ".join(texts).split(" ")
    return sum(len({tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}) / (len(tokens) - n + 1)
               for n in range(1, num_n + 1))


def test_ngram_diversity_score_both_paths_agree():
    rng = np.random.default_rng(1)
    texts = _random_texts(rng, 40, 12)                       # V**6 small: one sort for all orders
    assert text.ngram_diversity_score(texts, 6) == pytest.approx(_nds_brute(texts, 6), abs=1e-12)
    big = _random_texts(rng, 60, 40, vocab=300)              # 300**8 >= 2**62: rank-reduced keys
    assert text.ngram_diversity_score(big, 8) == pytest.approx(_nds_brute(big, 8), abs=1e-12)


def test_self_repetition_by_hand():
    # 2-grams: text0 {ab, bc}, text1 {ab, bd}, text2 {xy}; c(ab) = 2
    texts = ["a b c", "a b d", "x y"]
    expected = (math.log(1 + 1) + math.log(1 + 1) + math.log(1)) / 3
    assert text.self_repetition_score(texts, 2) == pytest.approx(expected, abs=1e-15)


def test_compression_ratio_direction_and_errors():
    rng = np.random.default_rng(2)
    random_text = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz "), size=3000))]
    assert text.compression_ratio(["the same sentence again"] * 200) > 5 * text.compression_ratio(random_text)
    with pytest.raises(MetricInputError, match="gzip"):
        text.compression_ratio(["x"], "zip")
    with pytest.raises(MetricInputError, match="non-empty"):
        text.compression_ratio([""])


# ------------------------------------------------------------------ ROUGE-L

@pytest.mark.parametrize("max_len", [10, 70, 200])   # 1, 2 and 4 machine words per bit vector
def test_bit_parallel_lcs_matches_dynamic_programming(max_len):
    rng = np.random.default_rng(max_len)
    texts = _random_texts(rng, 14, max_len, vocab=4) + ["", "T0 t0, T1!"]
    n = len(texts)
    brute = [_f1(texts[i], texts[j]) for i, j in combinations(range(n), 2)]
    got = text.homogenization_rougel(texts)
    assert got.value == pytest.approx(sum(brute) / len(brute), abs=1e-12)
    i, j = np.triu_indices(n, 1)
    tokens = _tokens.encode([rouge.rouge_tokens(t) for t in texts])
    assert np.allclose(rouge._pair_scores(tokens, i, j), brute, atol=1e-12)
    assert np.allclose(rouge._pair_scores(tokens, j, i), brute, atol=1e-12)   # symmetric


def test_rouge_sampled_within_hoeffding_bound():
    rng = np.random.default_rng(3)
    texts = _random_texts(rng, 120, 30, vocab=8)
    exact = text.homogenization_rougel(texts)
    est = text.homogenization_rougel(texts, sample_pairs=4000, seed=5)
    assert est.method == "sampled" and est.n == 4000
    assert est.half_width == pytest.approx(math.sqrt(math.log(2 / 0.05) / 8000))
    assert abs(est.value - exact.value) <= est.half_width
    assert est == text.homogenization_rougel(texts, sample_pairs=4000, seed=5)   # deterministic
    assert text.homogenization_rougel(texts, sample_pairs=10**9).exact


def test_rouge_l_f1_single_pair():
    assert rouge.rouge_l_f1("The cat sat.", "the CAT sat on the mat") == pytest.approx(2 * 3 / (3 + 6))
    with pytest.raises(MetricInputError, match="at least 2"):
        text.homogenization_rougel(["only one"])


# ------------------------------------------------------------------ self-BLEU

def test_self_bleu_exact_matches_direct_formula():
    """Linear-time clip counts (top-two trick) against the pairwise definition."""
    rng = np.random.default_rng(4)
    texts = _random_texts(rng, 25, 15, vocab=5) + ["t1 t1 t1 t1", "t1 t1", ""]
    toks = [t.split() for t in texts]

    def bleu(i):
        hyp, refs = toks[i], toks[:i] + toks[i + 1:]
        if not hyp:
            return 0.0
        logs, first = 0.0, 0
        def grams(s, n):
            return [tuple(s[k:k + n]) for k in range(len(s) - n + 1)]

        for n in range(1, 5):
            h = grams(hyp, n)
            num = sum(min(h.count(g), max(grams(r, n).count(g) for r in refs)) for g in set(h))
            first = num if n == 1 else first
            den = max(1, len(h))
            logs += 0.25 * math.log((num if num else 0.1) / den)
        r = min((len(x) for x in refs), key=lambda L: (abs(L - len(hyp)), L))
        bp = 1.0 if len(hyp) > r else math.exp(1 - r / len(hyp))
        return 0.0 if first == 0 else bp * math.exp(logs)

    assert np.allclose(self_bleu_scores(texts), [bleu(i) for i in range(len(texts))], atol=1e-12)


def test_self_bleu_extremes():
    assert text.self_bleu(["a b c d e"] * 4) == pytest.approx(1.0)
    assert text.self_bleu(["a b", "c d", "e f"]) == 0.0


# ------------------------------------------------------------------ Vendi

def test_vendi_extremes_and_dual_form():
    assert vendi.vendi_from_kernel(np.ones((5, 5))) == pytest.approx(1.0)
    assert vendi.vendi_from_kernel(np.eye(7)) == pytest.approx(7.0)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(40, 5))
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert vendi.vendi_from_features(x) == pytest.approx(vendi.vendi_from_kernel(u @ u.T), rel=1e-10)
    assert vendi.vendi_from_eigenvalues([0.5, 0.5], q=2) == pytest.approx(2.0)


def test_ngram_vendi_exact_matches_dense_definition():
    rng = np.random.default_rng(7)
    texts = _random_texts(rng, 30, 12, vocab=6)
    texts = [t if t else "t0" for t in texts]
    ks = []
    for n in (1, 2):
        keys, doc = _tokens.text_ngrams(_tokens.whitespace_tokens(texts), n)
        x = np.zeros((len(texts), int(keys.max()) + 1))
        np.add.at(x, (doc, keys), 1.0)
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
        ks.append(x @ x.T)
    dense = vendi.vendi_from_eigenvalues(np.linalg.eigvalsh(np.mean(ks, axis=0) / len(texts)))
    assert text.ngram_vendi_score(texts, ns=(1, 2), mode="exact").value == pytest.approx(dense, rel=1e-10)


def test_ngram_vendi_sampled_within_stated_interval():
    rng = np.random.default_rng(8)
    base = _random_texts(rng, 60, 25, vocab=30)
    texts = [base[i % 60] + (" extra" if i % 3 == 0 else "") for i in range(400)]   # collapsed-ish set
    exact = text.ngram_vendi_score(texts, mode="exact").value
    est = text.ngram_vendi_score(texts, mode="sampled", probes=16, steps=48, seed=1)
    assert est.method == "sampled" and est.half_width > 0
    assert abs(est.value - exact) <= est.half_width
    assert abs(est.value - exact) / exact < 0.05


def test_text_inputs_are_checked():
    with pytest.raises(MetricInputError, match=r"texts\[1\] is int"):
        text.distinct_n(["a", 3])
    with pytest.raises(MetricInputError, match="not one string"):
        text.self_bleu("a b c")
    with pytest.raises(MetricInputError, match="num_n"):
        text.ngram_diversity_score(["a b"], num_n=0)
