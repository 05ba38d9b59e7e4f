"""What answers to each FMTI indicator look like, learned from the transparency reports.

Developers rarely repeat an indicator's wording when they answer it ("Amazon
Web Services and Google Cloud Platform" answers "Compute provider"), so the
indicator's own keywords miss many real answers. For each indicator we keep
two centroids of tf-idf vectors (Salton & Buckley 1988; sublinear tf, smoothed
idf, cosine similarity) built from the training developers' answers:

- `topic`: every substantive answer (disclosed or not) plus the indicator's
  definition and notes: what text about this indicator looks like. The
  auditor uses it to find passages that answer an indicator in other words.
- `positive`: the answers the FMTI's scorers gave the point: what a
  disclosure that earns the point looks like. The classifier uses the
  similarity to it as a feature.

Each centroid keeps its `TOP_TERMS` heaviest terms (so the shipped model stays
small); idf is stored for those terms only, other words get the largest idf
(they were rarer than every stored term in the training answers).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from rigorlab.disclosure.audit import text as T

TOP_TERMS = 40
KINDS = ("topic", "positive")


def idf_table(docs: list[list[str]]) -> tuple[dict[str, float], float]:
    """Smoothed idf, log((N+1)/(df+1)) + 1, of every token of `docs`, and the value for unseen ones."""
    df: Counter[str] = Counter()
    for toks in docs:
        df.update(set(toks))
    n = len(docs)
    return {t: math.log((n + 1) / (c + 1)) + 1.0 for t, c in df.items()}, math.log(n + 1) + 1.0


def tfidf(tokens: list[str], idf: dict[str, float], default: float) -> dict[str, float]:
    """Unit-length tf-idf vector with sublinear tf (1 + log tf)."""
    counts = Counter(tokens)
    v = {t: (1.0 + math.log(c)) * idf.get(t, default) for t, c in counts.items()}
    norm = math.sqrt(sum(x * x for x in v.values()))
    return {t: x / norm for t, x in v.items()} if norm else {}


def centroid(vectors: list[dict[str, float]], top: int = TOP_TERMS) -> dict[str, float]:
    """Unit-length mean of unit vectors, keeping its `top` heaviest terms (ties broken by term)."""
    acc: Counter[str] = Counter()
    for v in vectors:
        acc.update(v)
    kept = sorted(acc.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    norm = math.sqrt(sum(x * x for _, x in kept))
    return {t: x / norm for t, x in kept} if norm else {}


@dataclass
class AnswerProfiles:
    """Per-indicator centroids (keyed by `slug(indicator)`) and the idf that weights them."""

    idf: dict[str, float] = field(default_factory=dict)
    default_idf: float = 1.0
    topic: dict[str, dict[str, float]] = field(default_factory=dict)
    positive: dict[str, dict[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._matrix: tuple[dict[str, int], list[str], np.ndarray, np.ndarray] | None = None

    def __bool__(self) -> bool:
        return bool(self.topic)

    def vector(self, tokens: list[str]) -> dict[str, float]:
        return tfidf(tokens, self.idf, self.default_idf)

    def similarity(self, tokens: list[str], key: str, kind: str = "positive") -> float:
        """Cosine of a token list with one indicator's centroid (0 when the indicator has none)."""
        c = (self.topic if kind == "topic" else self.positive).get(key)
        if not c:
            return 0.0
        v = self.vector(tokens)
        return float(sum(x * c.get(t, 0.0) for t, x in v.items()))

    def _matrices(self) -> tuple[dict[str, int], list[str], np.ndarray, np.ndarray]:
        """(term -> row, indicator keys, topic matrix, positive matrix), built once."""
        if self._matrix is None:
            keys = sorted(set(self.topic) | set(self.positive))
            vocab = sorted({t for c in (*self.topic.values(), *self.positive.values()) for t in c})
            row = {t: i for i, t in enumerate(vocab)}
            mats = []
            for table in (self.topic, self.positive):
                m = np.zeros((len(vocab), len(keys)))
                for j, k in enumerate(keys):
                    for t, w in table.get(k, {}).items():
                        m[row[t], j] = w
                mats.append(m)
            self._matrix = (row, keys, mats[0], mats[1])
        return self._matrix

    def similarities(self, token_lists: list[list[str]]) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(indicator keys, passages x indicators topic cosines, same for positive, number of
        distinct passage words in each topic centroid) for many passages."""
        row, keys, topic, positive = self._matrices()
        P = np.zeros((len(token_lists), len(row)))
        for i, toks in enumerate(token_lists):
            for t, x in self.vector(toks).items():
                r = row.get(t)
                if r is not None:
                    P[i, r] = x
        present = (P > 0).astype(np.float64)
        return keys, P @ topic, P @ positive, present @ (topic > 0)

    def to_json(self) -> dict:
        r = lambda d: {t: round(float(x), 6) for t, x in sorted(d.items())}  # noqa: E731 - stable text
        return {
            "top_terms": TOP_TERMS,
            "default_idf": round(self.default_idf, 6),
            "idf": r(self.idf),
            "topic": {k: r(v) for k, v in sorted(self.topic.items())},
            "positive": {k: r(v) for k, v in sorted(self.positive.items())},
        }

    @classmethod
    def from_json(cls, data: dict | None) -> "AnswerProfiles":
        data = data or {}
        return cls(
            idf={t: float(x) for t, x in data.get("idf", {}).items()},
            default_idf=float(data.get("default_idf", 1.0)),
            topic={k: {t: float(x) for t, x in v.items()} for k, v in data.get("topic", {}).items()},
            positive={k: {t: float(x) for t, x in v.items()} for k, v in data.get("positive", {}).items()},
        )


def build_profiles(answers: list[tuple[str, str, int, bool]], definitions: dict[str, str],
                   top: int = TOP_TERMS) -> AnswerProfiles:
    """Profiles from (indicator key, answer text, human 0/1 score, substantive?) rows.

    idf is fitted on the answers (all of them, unlabelled). Each topic centroid is half the
    indicator's own wording (`definitions`: key -> definition and notes), half its answers, so an
    indicator nobody answered still has one and the wording is not drowned by long answers.
    """
    tokens = [T.tokenize(text) for _, text, _, _ in answers]
    idf, default = idf_table(tokens)
    vecs = [tfidf(t, idf, default) for t in tokens]
    topic_members: dict[str, list[dict[str, float]]] = {k: [] for k in definitions}
    pos_members: dict[str, list[dict[str, float]]] = {}
    for (key, _, label, substantive), v in zip(answers, vecs):
        if not substantive or not v:
            continue
        topic_members.setdefault(key, []).append(v)
        if label:
            pos_members.setdefault(key, []).append(v)
    topic = {}
    for k, vs in sorted(topic_members.items()):
        wording = tfidf(T.tokenize(definitions.get(k, "")), idf, default)
        n = max(1, len(vs))
        topic[k] = centroid(vs + [{t: n * x for t, x in wording.items()}], top)
    positive = {k: centroid(vs, top) for k, vs in sorted(pos_members.items())}
    used = {t for c in (*topic.values(), *positive.values()) for t in c}
    return AnswerProfiles(idf={t: idf.get(t, default) for t in sorted(used)}, default_idf=default,
                          topic=topic, positive=positive)
