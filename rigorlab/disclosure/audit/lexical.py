"""Per-indicator lexical scorers: which words make a passage an indicator's evidence.

Why: the exemplar features (`exemplars.py`) ask how close a passage is to the
nearest labelled quote; many true passages are close to none of them and share
only a few telling words with the indicator's evidence in general ("licence",
"Apache", "CC BY" for the licence indicator; "GPU hours", "A100" for compute).
A linear model per indicator over the same TF-IDF vectors learns those words
(and the words of passages that are never evidence) from every labelled
document at once. Its score is one more pair feature, `lexical`; the pair and
document stages decide how far to trust it.

Each scorer is an L2-penalised logistic regression, classes balanced, fitted by
scikit-learn's liblinear (deterministic) on the usable passages of the training
documents: positive where the passage holds the labelled quote of a disclosed
or vague level. Measured on the 238 development documents (10 folds of whole
families): binary kappa 0.565 -> 0.592, three-level accuracy 0.767 -> 0.785;
then, once, on the thirteenth batch (17 documents it never saw): 0.514 -> 0.578,
paired +0.065 [+0.039, +0.089] (README, "How far to trust the auditor"). Training needs `rigorlab[audit-train]`
(scikit-learn); the audit itself only multiplies the stored weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

C = 1.0                 # inverse L2 strength; 0.3 and 3 measured no better on the development folds
MIN_POSITIVES = 3       # an indicator with fewer evidence passages in training gets no scorer
DIGITS = 4              # weights are stored rounded to this many decimals


@dataclass
class LexicalScorers:
    """One linear scorer per indicator over a `tfidf.Vectoriser`'s columns."""

    indicators: list[str]
    weights: np.ndarray                 # (vocab, len(indicators)), dense: a sparse row times it is fastest
    bias: np.ndarray                    # (len(indicators),)

    def scores(self, P: sparse.csr_matrix) -> dict[str, np.ndarray]:
        """indicator -> the logit of each row (passage) of the TF-IDF matrix `P`."""
        if not self.indicators:
            return {}
        S = np.asarray(P @ self.weights) + self.bias
        return {i: S[:, k] for k, i in enumerate(self.indicators)}

    def score(self, P: sparse.csr_matrix, indicator: str) -> np.ndarray | None:
        """The logit of each row of `P` for one indicator (None: it has no scorer)."""
        col = self.__dict__.get("_col")
        if col is None:
            col = self.__dict__["_col"] = {i: k for k, i in enumerate(self.indicators)}
        k = col.get(indicator)
        if k is None:
            return None
        w = self.__dict__.setdefault("_w_cols", {}).get(k)
        if w is None:                   # the column, contiguous, once per indicator
            w = self.__dict__["_w_cols"][k] = np.ascontiguousarray(self.weights[:, k])
        return np.asarray(P @ w).ravel() + self.bias[k]

    def to_json(self) -> dict[str, Any]:
        """indicator -> {"bias", "weights": one per vocabulary column, in its order}."""
        return {ind: {"bias": round(float(self.bias[k]), DIGITS),
                      "weights": [round(float(v), DIGITS) for v in self.weights[:, k]]}
                for k, ind in enumerate(self.indicators)}

    @classmethod
    def from_json(cls, data: dict[str, Any], vocab_size: int) -> LexicalScorers:
        inds = sorted(data)
        if not inds:
            return cls.empty(vocab_size)
        W = np.asarray([data[i]["weights"] for i in inds], dtype=float).T
        if W.shape[0] != vocab_size:
            raise ValueError(f"lexical weights have {W.shape[0]} terms for a vocabulary of {vocab_size}")
        return cls(inds, W, np.asarray([float(data[i]["bias"]) for i in inds]))

    @classmethod
    def empty(cls, vocab_size: int) -> LexicalScorers:
        return cls([], np.zeros((vocab_size, 0)), np.zeros(0))


def fit_lexical(X: sparse.csr_matrix, targets: dict[str, np.ndarray], c: float = C) -> LexicalScorers:
    """Scorers for every indicator of `targets` (indicator -> 0/1 per row of `X`) with at least
    `MIN_POSITIVES` positive rows. Weights are rounded as they are stored, so a fitted model and the
    same model read back from JSON score alike."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:     # pragma: no cover - depends on the environment
        from rigorlab.errors import UserError

        raise UserError("fitting the audit layer needs scikit-learn: pip install 'rigorlab[audit-train]'") from None
    inds, cols, bias = [], [], []
    for ind in sorted(targets):
        y = np.asarray(targets[ind]) > 0
        if y.sum() < MIN_POSITIVES or y.all():
            continue
        m = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", random_state=0).fit(X, y)
        w = np.round(m.coef_.ravel(), DIGITS)
        inds.append(ind)
        cols.append(w)
        bias.append(round(float(m.intercept_[0]), DIGITS))
    if not inds:
        return LexicalScorers.empty(X.shape[1])
    return LexicalScorers(inds, np.column_stack(cols), np.asarray(bias))
