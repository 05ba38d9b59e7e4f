"""What a disclosure that earns an FMTI point looks like, learned from the transparency reports.

For each FMTI indicator we keep the centroid of the tf-idf vectors (Salton &
Buckley 1988; sublinear tf, smoothed idf, cosine similarity) of the training
developers' answers that the FMTI's scorers gave the point. The classifier
uses the cosine of a passage with it as a feature: an answer worded like the
answers that were accepted is more likely to be accepted (leave-one-developer-
out, this feature lifts the classifier's kappa from 0.64 to 0.67).

Each centroid keeps its `TOP_TERMS` heaviest terms, so that the shipped model
stays small; idf is stored for those terms only, other words get the largest
idf (they were rarer in the training answers than every stored term), at
training time as at audit time.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from rigorlab.disclosure.audit import text as T

TOP_TERMS = 40


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
    """Per-indicator centroids of accepted answers (keyed by `slug(indicator)`) and their idf."""

    idf: dict[str, float] = field(default_factory=dict)
    default_idf: float = 1.0
    positive: dict[str, dict[str, float]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.positive)

    def vector(self, tokens: list[str]) -> dict[str, float]:
        return tfidf(tokens, self.idf, self.default_idf)

    def similarity(self, tokens: list[str], key: str) -> float:
        """Cosine of a token list with one indicator's centroid (0 when the indicator has none)."""
        c = self.positive.get(key)
        if not c:
            return 0.0
        return float(sum(x * c.get(t, 0.0) for t, x in self._vector_of(tokens).items()))

    def _vector_of(self, tokens: list[str]) -> dict[str, float]:
        """`vector(tokens)`, remembered per token list (a passage is compared with several indicators'
        centroids); each list is kept with its vector, so its id stays its own while remembered."""
        memo = self.__dict__.setdefault("_memo", {})
        got = memo.get(id(tokens))
        if got is not None and got[0] is tokens and got[1] == len(tokens):
            return got[2]
        if len(memo) >= 4096:
            memo.clear()
        v = memo[id(tokens)] = (tokens, len(tokens), self.vector(tokens))
        return v[2]

    def to_json(self) -> dict:
        r = lambda d: {t: round(float(x), 6) for t, x in sorted(d.items())}
        return {
            "top_terms": TOP_TERMS,
            "default_idf": round(self.default_idf, 6),
            "idf": r(self.idf),
            "positive": {k: r(v) for k, v in sorted(self.positive.items())},
        }

    @classmethod
    def from_json(cls, data: dict | None) -> AnswerProfiles:
        data = data or {}
        return cls(
            idf={t: float(x) for t, x in data.get("idf", {}).items()},
            default_idf=float(data.get("default_idf", 1.0)),
            positive={k: {t: float(x) for t, x in v.items()} for k, v in data.get("positive", {}).items()},
        )


def build_profiles(answers: list[tuple[str, str, int, bool]], top: int = TOP_TERMS) -> AnswerProfiles:
    """Profiles from (indicator key, answer text, human 0/1 score, substantive?) rows; idf is
    fitted on all the answers (unlabelled), centroids on the substantive answers scored 1."""
    tokens = [T.tokenize(text) for _, text, _, _ in answers]
    idf, default = idf_table(tokens)
    members: dict[str, list[dict[str, float]]] = {}
    for (key, _, label, substantive), toks in zip(answers, tokens):
        v = tfidf(toks, idf, default)
        if label and substantive and v:
            members.setdefault(key, []).append(v)
    positive = {k: centroid(vs, top) for k, vs in sorted(members.items())}
    used = {t for c in positive.values() for t in c}
    return AnswerProfiles(idf={t: idf[t] for t in sorted(used)}, default_idf=default, positive=positive)
