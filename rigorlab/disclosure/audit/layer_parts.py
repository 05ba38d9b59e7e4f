"""The pieces of the learned exemplar layer that its fitting, its scoring and its quoting share.

A fitted head (one logistic regression), the pair features of one document, and the rule that turns
the document stage's two probabilities into a level and says how far inside that level they sit.
Kept apart from `exemplars.py` so that `layer_findings.py` can use them without importing the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from rigorlab.disclosure.audit.classifier import _sigmoid
from rigorlab.disclosure.audit.document import Passage
from rigorlab.disclosure.audit.sure import logit as _logit


@dataclass
class Head:
    """One fitted logistic regression on standardised features."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def logit(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.weights + self.bias

    def predict(self, X: np.ndarray) -> np.ndarray:
        return _sigmoid(self.logit(X))

    def to_json(self) -> dict[str, Any]:
        r = lambda a: [round(float(v), 10) for v in a]
        return {"mean": r(self.mean), "scale": r(self.scale), "weights": r(self.weights), "bias": round(self.bias, 10)}

    @classmethod
    def from_json(cls, h: dict[str, Any]) -> Head:
        return cls(np.asarray(h["mean"], float), np.asarray(h["scale"], float), np.asarray(h["weights"], float),
                   float(h["bias"]))


@dataclass
class PairBlock:
    """Pair features of one document: per indicator, one row per usable passage."""

    passages: list[Passage]
    rows: dict[str, np.ndarray]                     # indicator id -> (n_passages, len(PAIR_FEATURES))
    indices: list[int]                              # each row's passage index in the document
    sentences: dict[int, tuple[list[str], sparse.csr_matrix | None]] = field(default_factory=dict, repr=False)
    # (a passage's sentences and their TF-IDF rows, once per passage: several indicators quote one)


def cut_levels(pd: np.ndarray, pm: np.ndarray, t_disclosed: float, t_mentioned: float) -> list[str]:
    """disclosed if P(disclosed) >= t_disclosed, else vague if P(mentioned) >= t_mentioned, else absent."""
    return ["disclosed" if a >= t_disclosed else "vague" if b >= t_mentioned else "absent" for a, b in zip(pd, pm)]


def level_margin(level: str, pd: float, pm: float, t_disclosed: float, t_mentioned: float) -> float:
    """How far, in logits, (P(disclosed), P(mentioned)) sits inside the region that `cut_levels` gives
    `level` (docs/audit.md, "Sure findings"): disclosed, logit pd - logit t_d; vague, the smaller of
    logit t_d - logit pd and logit pm - logit t_m; absent, the smaller of logit t_d - logit pd and
    logit t_m - logit pm. Negative when the level given is not the one the probabilities cut to (a
    rule overrode the regression): such a finding is never sure."""
    a = _logit(pd) - _logit(t_disclosed)
    b = _logit(pm) - _logit(t_mentioned)
    return a if level == "disclosed" else min(-a, b) if level == "vague" else min(-a, -b)
