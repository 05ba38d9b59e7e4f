"""Vendi score (Friedman & Dieng 2023): the effective number of distinct items.

    VS = exp(-sum_i lambda_i log lambda_i),  lambda = eigenvalues of K / N

K is a similarity kernel with K_ii = 1, so VS ranges from 1 (all items
identical) to N (all orthogonal); higher = more diverse. For K = X X^T the
non-zero eigenvalues of X X^T / N are those of the d x d matrix X^T X / N,
which is how features (embeddings) are scored in O(N d^2).

N-gram kernel (`vendi_score.text_utils.ngram_vendi_score`): for each order n
in `ns`, X_n holds the L2-normalised n-gram count vectors; K is the mean of
X_n X_n^T over orders. With Z = [X_1 ... X_k] / sqrt(k N), K / N = Z Z^T.
Tokens are `str.split()` (the reference defaults to NLTK's word_tokenize).

Exact mode builds Z Z^T (N x N, O(N^2) memory) and takes its eigenvalues.
Sampled mode never forms it: the entropy tr(f(Z Z^T)), f(x) = -x log x, is
estimated by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017) with
Rademacher probes and sparse products by Z, in O(nnz(Z) * steps * probes)
time and O(N * (steps * probes + deflate)) memory, after removing the top
eigenpairs exactly and a linear control variate (see `_slq_vendi`). Its
stated bound is the Student-t interval over probes, exp(H +- t SE); the
quadrature error at the default 16 Lanczos steps is far below it (the
quadratic forms agree with dense f(A) to 1e-12; tests check the estimate
against exact mode).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from rigorlab.metrics import _tokens
from rigorlab.metrics._estimate import Estimate
from rigorlab.metrics.errors import MetricInputError, check_positive_int, check_texts

EXACT_MAX_ITEMS = 2000  # auto mode: exact eigenvalues up to this many texts (32 MB kernel)


def vendi_from_eigenvalues(eigenvalues: np.ndarray, q: float = 1.0) -> float:
    """exp of the order-q Renyi entropy of the eigenvalues (non-positive ones dropped)."""
    w = np.asarray(eigenvalues, dtype=float)
    w = w[w > 0]
    if w.size == 0:
        return 0.0
    if q == 1:
        return float(np.exp(-(w * np.log(w)).sum()))
    if math.isinf(q):
        return float(1.0 / w.max())
    return float(np.exp(np.log((w ** q).sum()) / (1 - q)))


def vendi_from_kernel(kernel: np.ndarray, q: float = 1.0) -> float:
    """Vendi score of an N x N similarity matrix with unit diagonal."""
    k = np.asarray(kernel, dtype=float)
    if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] == 0:
        raise MetricInputError(f"kernel must be a non-empty square matrix, got shape {k.shape}")
    return vendi_from_eigenvalues(np.linalg.eigvalsh(k / k.shape[0]), q)


def vendi_from_features(features: np.ndarray, q: float = 1.0, normalize: bool = True) -> float:
    """Vendi score with the cosine kernel of feature rows (e.g. embeddings), O(N d^2).

    Uses the d x d matrix X^T X / N when d < N, the N x N kernel otherwise.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise MetricInputError(f"features must be a non-empty (N, d) array, got shape {x.shape}")
    if normalize:
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    n, d = x.shape
    gram = x.T @ x if d < n else x @ x.T
    return vendi_from_eigenvalues(np.linalg.eigvalsh(gram / n), q)


def ngram_vendi_score(texts: Sequence[str], ns: Sequence[int] = (1, 2, 3, 4), mode: str = "auto",
                      probes: int = 16, steps: int = 16, seed: int = 0,
                      confidence: float = 0.95) -> Estimate:
    """Vendi score with the n-gram cosine kernel averaged over orders `ns`.

    mode: "exact", "sampled" (stochastic Lanczos quadrature) or "auto"
    (exact up to EXACT_MAX_ITEMS texts). Range [1, N] (less when some text
    has no n-gram of an order); higher = more diverse.
    """
    texts = check_texts(texts)
    ns = [check_positive_int(n, "ns item") for n in ns]
    if not ns:
        raise MetricInputError("ns must name at least one n-gram order")
    if mode not in ("auto", "exact", "sampled"):
        raise MetricInputError(f"mode must be 'auto', 'exact' or 'sampled', got {mode!r}")
    zs, diag = _ngram_features(texts, ns)
    n = len(texts)
    if mode == "exact" or (mode == "auto" and n <= EXACT_MAX_ITEMS):
        k = (zs @ zs.T).toarray()
        k[np.diag_indices(n)] += diag
        return Estimate(value=vendi_from_eigenvalues(np.linalg.eigvalsh(k)), n=n)
    return _slq_vendi(zs, diag, check_positive_int(probes, "probes"),
                      check_positive_int(steps, "steps"), seed, confidence)


def _ngram_features(texts: list[str], ns: list[int]):
    """Sparse Z restricted to n-grams found in >= 2 texts, plus the diagonal that
    the n-grams found in one text only contribute to Z Z^T (they touch no pair)."""
    from scipy import sparse

    tokens = _tokens.whitespace_tokens(texts)
    n_texts = len(texts)
    scale = 1.0 / (len(ns) * n_texts)
    rows, cols, vals = [], [], []
    diag = np.zeros(n_texts)
    width = 0
    for n in ns:
        keys, doc = _tokens.text_ngrams(tokens, n)
        if keys.size == 0:
            continue
        uniq, rank = np.unique(keys, return_inverse=True)
        u = len(uniq)
        pair, cnt = np.unique(doc * u + rank, return_counts=True)
        d, g = pair // u, pair % u
        sq = cnt.astype(float) ** 2
        norm2 = np.bincount(d, weights=sq, minlength=n_texts)
        w2 = sq / norm2[d] * scale                     # squared entry of Z
        df = np.bincount(g, minlength=u)
        shared = df[g] >= 2
        diag += np.bincount(d[~shared], weights=w2[~shared], minlength=n_texts)
        col_of = np.cumsum(df >= 2) - 1                # shared n-gram -> its column
        rows.append(d[shared])
        cols.append(col_of[g[shared]] + width)
        vals.append(np.sqrt(w2[shared]))
        width += int(col_of[-1]) + 1
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = np.zeros(0, dtype=np.int64)
        v = np.zeros(0)
    zs = sparse.csr_matrix((v, (r, c)), shape=(n_texts, max(width, 1)))
    return zs, diag


def _slq_vendi(zs, diag: np.ndarray, probes: int, steps: int, seed: int, confidence: float,
               deflate: int = 32) -> Estimate:
    """H = tr f(A), f(x) = -x log x, A = zs zs^T + diag(diag), by deflated stochastic
    Lanczos quadrature with a linear control variate; returns exp(H).

    1. The top `deflate` eigenpairs (ARPACK) are exact: they carry the shared
       vocabulary that makes plain Hutchinson estimates noisy. Since f(0) = 0,
       tr f(A) = sum_top f(lambda_i) + tr f(B), B = A - V diag(lambda) V^T.
    2. Per Rademacher probe g, g^T f(B) g comes from Lanczos quadrature and
       g^T B g from the first Lanczos step. With alpha = f'(c), c the mean of
       B's remaining eigenvalues, g^T (f(B) - alpha B) g + alpha tr(B) is still
       unbiased for tr f(B), and the linear part of f no longer adds variance.
    """
    from scipy.sparse.linalg import LinearOperator, eigsh

    n = zs.shape[0]
    zt = zs.T.tocsr()

    def a_mul(v: np.ndarray) -> np.ndarray:
        return zs @ (zt @ v) + (diag * v.T).T

    trace_a = float(zs.multiply(zs).sum() + diag.sum())
    k = min(deflate, n - 2)
    lam, vecs = np.zeros(0), np.zeros((n, 0))
    if k >= 1:
        op = LinearOperator((n, n), matvec=a_mul, matmat=a_mul, dtype=np.float64)
        v0 = np.random.default_rng([seed, 1]).standard_normal(n)
        lam, vecs = eigsh(op, k=k, which="LA", v0=v0, tol=1e-10)
    head = float(_entropy_terms(lam).sum())
    trace_b = max(trace_a - float(lam.sum()), 0.0)

    def b_mul(v: np.ndarray) -> np.ndarray:       # (n, p) -> (n, p), A with the top eigenpairs removed
        return a_mul(v) - vecs @ (lam[:, None] * (vecs.T @ v))

    g = np.random.default_rng([seed, 2]).choice([-1.0, 1.0], size=(n, probes))
    quad, gbg = _lanczos_quadratic_forms(b_mul, g, min(steps, n))
    c = trace_b / max(n - k, 1)
    slope = -math.log(c) - 1.0 if c > 0 else 0.0
    est = head + quad - slope * gbg + slope * trace_b
    h = float(est.mean())
    if probes < 2:
        raise MetricInputError("the sampled Vendi score needs at least 2 probes for its interval")
    from scipy.stats import t as student_t

    se = float(est.std(ddof=1) / math.sqrt(probes))
    z = float(student_t.ppf(0.5 + confidence / 2, df=probes - 1))
    value = math.exp(h)
    return Estimate(value=value, half_width=value * math.expm1(z * se), confidence=confidence,
                    method="sampled", n=probes)


def _entropy_terms(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    out = np.zeros_like(x)
    pos = x > 0
    out[pos] = -x[pos] * np.log(x[pos])
    return out


def _lanczos_quadratic_forms(matvec, g: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(g_p^T f(M) g_p, g_p^T M g_p) for every column p: Lanczos (Gauss) quadrature with
    full reorthogonalisation, all columns run together as independent recurrences."""
    n, probes = g.shape
    norms = np.linalg.norm(g, axis=0)
    q = g / norms
    basis = np.zeros((steps, n, probes))
    alpha = np.zeros((steps, probes))
    beta = np.zeros((steps, probes))
    alive = np.ones(probes, dtype=bool)
    length = np.full(probes, steps)
    for k in range(steps):
        basis[k] = q
        w = matvec(q)
        alpha[k] = np.einsum("np,np->p", q, w)
        for _ in range(2):                          # reorthogonalise twice against the basis
            w -= np.einsum("knp,kp->np", basis[: k + 1], np.einsum("knp,np->kp", basis[: k + 1], w))
        b = np.linalg.norm(w, axis=0)
        stop = alive & (b <= 1e-12 * np.maximum(np.abs(alpha[: k + 1]).max(axis=0), 1e-300))
        length[stop] = k + 1
        alive &= ~stop
        if k + 1 == steps or not alive.any():
            break
        beta[k] = np.where(alive, b, 0.0)
        q = np.where(alive, w / np.where(b > 0, b, 1.0), 0.0)
    out = np.empty(probes)
    for p in range(probes):
        m = int(length[p])
        t = np.diag(alpha[:m, p]) + np.diag(beta[: m - 1, p], 1) + np.diag(beta[: m - 1, p], -1)
        theta, vecs = np.linalg.eigh(t)
        out[p] = norms[p] ** 2 * float((vecs[0] ** 2 * _entropy_terms(theta)).sum())
    return out, norms ** 2 * alpha[0]
