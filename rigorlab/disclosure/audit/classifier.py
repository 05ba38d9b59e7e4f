"""A small logistic-regression judge of "specific enough to earn the point".

Fitted by Newton's method (IRLS) on standardised features with an L2
penalty, so training is deterministic: no random initialisation, no
sampling, a fixed number of iterations to convergence. Trained on the
FMTI Dec 2025 reports (see `train_fmti.py`); the fitted parameters ship as
`fmti_model.json` next to this file.

A hurdle model: empty answers and short refusals (`PassageStats.trivial`)
get probability 0 by rule and the regression is fitted on the other
answers, so that the indicator's base rate and the text's specificity are
weighed where they matter instead of mostly explaining "Not disclosed."
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from rigorlab.disclosure.audit.features import (
    FEATURE_NAMES,
    PassageStats,
    Profile,
    combine_values,
    passage_stats,
)
from rigorlab.disclosure.audit.profiles import AnswerProfiles
from rigorlab.disclosure.frameworks.schema import slug
from rigorlab.errors import UserError

MODEL_PATH = Path(__file__).resolve().parent / "fmti_model.json"
PRIOR_FEATURE = "indicator_prior_logit"
SIMILARITY_FEATURE = "answer_similarity"      # cosine with the indicator's disclosed answers (profiles.py)
MODEL_FEATURES = (*FEATURE_NAMES, PRIOR_FEATURE, SIMILARITY_FEATURE)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 100,
                 tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """L2-penalised logistic regression by Newton's method; the intercept is not penalised.

    Returns (mean, scale, weights, bias) with features standardised as (x - mean) / scale.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-12] = 1.0
    Z = np.c_[np.ones(len(X)), (X - mean) / scale]
    w = np.zeros(Z.shape[1])
    penalty = l2 * np.eye(Z.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(iters):
        p = _sigmoid(Z @ w)
        grad = Z.T @ (p - y) + penalty @ w
        hess = Z.T @ (Z * (p * (1.0 - p))[:, None]) + penalty
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.max(np.abs(step))) < tol:
            break
    return mean, scale, w[1:].copy(), float(w[0])


def fit_signed_logistic(X: np.ndarray, y: np.ndarray, signs: list[int], l2: float = 1.0
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """`fit_logistic` with sign constraints by backward elimination (deterministic active set):
    while some weight has the wrong sign, drop the worst offender and refit. Dropped features
    get weight 0, mean 0 and scale 1."""
    active = list(range(X.shape[1]))
    while True:
        mean, scale, w, b = fit_logistic(X[:, active], y, l2=l2)
        bad = [(abs(w[k]) , -k, k) for k, f in enumerate(active) if signs[f] * w[k] < 0]
        if not bad:
            break
        active.pop(max(bad)[2])
    full_w, full_m, full_s = np.zeros(X.shape[1]), np.zeros(X.shape[1]), np.ones(X.shape[1])
    full_w[active], full_m[active], full_s[active] = w, mean, scale
    return full_m, full_s, full_w, b


@dataclass
class SpecificityModel:
    """Probability that a passage earns the indicator's point (FMTI-style human judgement)."""

    feature_names: list[str]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float
    threshold: float = 0.5
    priors: dict[str, float] = field(default_factory=dict)   # slug(FMTI indicator) -> base rate
    default_prior: float = 0.5
    meta: dict = field(default_factory=dict)
    profiles: AnswerProfiles = field(default_factory=AnswerProfiles)
    sure: dict[str, float] | None = None   # margin beyond which a report's own answer is judged surely (sure.py)

    def prior_logit(self, fmti_ids: list[str] | None) -> float:
        """Log-odds of how often developers disclose this indicator (FMTI base rate).

        Indicators of other frameworks use their FMTI crosswalk targets, else the mean rate.
        """
        rates = [self.priors[slug(i)] for i in (fmti_ids or []) if slug(i) in self.priors]
        return logit(sum(rates) / len(rates) if rates else self.default_prior)

    def design_row(self, profile: Profile, passage: str | PassageStats, prior_logit: float,
                   similarity: float | None = None) -> np.ndarray:
        """Features of a passage for an indicator. `similarity` is None for indicators without an
        answer profile (other frameworks'): it is then set to its training mean, i.e. no evidence."""
        st = passage if isinstance(passage, PassageStats) else passage_stats(passage)
        return self.design_rows(profile, [st], prior_logit, [similarity])[0]

    def design_rows(self, profile: Profile, stats: list[PassageStats], prior_logit: float,
                    similarities: list[float | None]) -> np.ndarray:
        """`design_row` of several passages for one indicator, as one matrix."""
        mean_sim = float(self.mean[-1])
        return np.array([[*combine_values(profile, st), prior_logit, mean_sim if sim is None else sim]
                         for st, sim in zip(stats, similarities)])

    def predict_rows(self, rows: np.ndarray, trivial: np.ndarray | None = None) -> np.ndarray:
        """Probabilities; rows flagged `trivial` (empty, short refusal) get 0 (the hurdle)."""
        Z = (np.atleast_2d(rows) - self.mean) / self.scale
        p = _sigmoid(Z @ self.weights + self.bias)
        if trivial is not None:
            p = np.where(np.asarray(trivial, dtype=bool), 0.0, p)
        return p

    def predict(self, profile: Profile, passage: str | PassageStats, prior_logit: float,
                similarity: float | None = None) -> float:
        st = passage if isinstance(passage, PassageStats) else passage_stats(passage)
        row = self.design_row(profile, st, prior_logit, similarity)
        return float(self.predict_rows(row, np.array([st.trivial]))[0])

    def to_json(self) -> dict:
        r = lambda a: [round(float(v), 12) for v in a]
        return {
            "kind": "logistic-regression",
            "feature_names": list(self.feature_names),
            "mean": r(self.mean),
            "scale": r(self.scale),
            "weights": r(self.weights),
            "bias": round(self.bias, 12),
            "threshold": self.threshold,
            "default_prior": round(self.default_prior, 12),
            "priors": {k: round(v, 12) for k, v in sorted(self.priors.items())},
            "meta": self.meta,
            **({"sure": self.sure} if self.sure is not None else {}),
            "profiles": self.profiles.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict, source: str = "model") -> SpecificityModel:
        expected = list(MODEL_FEATURES)
        if data.get("feature_names") != expected:
            raise UserError(
                f"{source}: its features {data.get('feature_names')} do not match this version of "
                "rigorlab; retrain it with `python -m rigorlab.disclosure.audit.train_fmti`."
            )
        return cls(
            feature_names=list(data["feature_names"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
            threshold=float(data.get("threshold", 0.5)),
            priors={k: float(v) for k, v in data.get("priors", {}).items()},
            default_prior=float(data.get("default_prior", 0.5)),
            meta=dict(data.get("meta", {})),
            profiles=AnswerProfiles.from_json(data.get("profiles")),
            sure={k: float(v) for k, v in data["sure"].items()} if data.get("sure") else None,
        )


def load_model(path: str | Path | None = None) -> SpecificityModel:
    """The shipped model, or a retrained one from `path`."""
    if path is None:
        return _default_model()
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the classifier file {p}: {exc}.") from exc
    return SpecificityModel.from_json(data, str(p))


@lru_cache(maxsize=1)
def _default_model() -> SpecificityModel:
    return SpecificityModel.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")), str(MODEL_PATH))
