"""A learned second opinion for DDT and AAD indicators: exemplar passages plus a small regression.

Why: the rule judge (`judge.py`) misses evidence that does not repeat an
indicator's words: a table row "Training Data Date | Up to June 2023", a licence
badge, a list item "- Out-of-scope: ...". The labelled set (`data/audit/`) holds,
for each indicator, the passages people quoted as disclosed or vague. A passage
of a new document that reads like those exemplars (TF-IDF cosine, with the
heading it sits under) is evidence the rule judge may not have seen.

Per (document, indicator), features are: the rule judge's level and confidence,
the best cosine of any passage with the indicator's disclosed and vague
exemplars, the indicator's base rates in the training labels (log-odds), and the
checkable facts (numbers with units, links, names) of the best-matching passage.
Two L2-penalised logistic regressions (`classifier.fit_logistic`, Newton's
method, deterministic) give P(disclosed) and P(mentioned = disclosed or vague);
the level is disclosed if P(disclosed) >= 0.5, else vague if P(mentioned) >= 0.5,
else absent. Only numpy/scipy at audit time, so `rigorlab audit` stays fast and
light. `train_exemplars.py` fits it and writes `exemplar_model.json`
byte for byte; `benchmarks/eval_cards.py` measures it leave-one-family-out.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.classifier import _sigmoid
from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.audit.features import passage_stats
from rigorlab.disclosure.audit.judge import Finding, split_sentences

MODEL_PATH = Path(__file__).resolve().parent / "exemplar_model.json"
FEATURES = ("base_disclosed", "base_vague", "base_confidence", "sim_disclosed", "sim_vague",
            "sim_disclosed_x_specific", "prior_disclosed", "prior_mentioned",
            "log_with_unit", "log_urls", "log_names", "vague_formula")
HEADS = ("disclosed", "mentioned")
FRAMEWORKS = ("ddt", "aad")   # the frameworks of the labelled set
PRIOR_PSEUDO = 2.0        # pseudo-counts pulling an indicator's rate towards the overall rate


def tokens(text: str) -> list[str]:
    """Content tokens with every number folded to '<n>': exemplars teach the form, not the value."""
    return ["<n>" if t[0].isdigit() else t for t in T.tokenize(text)]


def passage_text(text: str, heading: str) -> str:
    """A passage as the exemplars see it: its innermost heading, then its text."""
    return f"{heading}\n{text}"


@dataclass
class Vectoriser:
    """Sublinear TF-IDF over a fixed vocabulary, rows L2-normalised."""

    vocab: dict[str, int]
    idf: np.ndarray

    def __call__(self, texts: list[str]) -> sparse.csr_matrix:
        rows, cols, vals = [], [], []
        for i, t in enumerate(texts):
            counts: dict[int, int] = {}
            for tok in tokens(t):
                k = self.vocab.get(tok)
                if k is not None:
                    counts[k] = counts.get(k, 0) + 1
            if not counts:
                continue
            ks = np.fromiter(counts, int, len(counts))
            v = (1.0 + np.log(np.fromiter(counts.values(), float, len(counts)))) * self.idf[ks]
            v /= np.linalg.norm(v)
            rows += [i] * len(ks)
            cols += ks.tolist()
            vals += v.tolist()
        return sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)))


@dataclass
class Head:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def predict(self, X: np.ndarray) -> np.ndarray:
        return _sigmoid(((X - self.mean) / self.scale) @ self.weights + self.bias)


@dataclass
class ExemplarModel:
    """Exemplars of every labelled indicator, the indicators' base rates and the two regression heads."""

    vectoriser: Vectoriser
    exemplars: sparse.csr_matrix            # (n_exemplars, vocab)
    ex_indicator: list[str]                 # indicator id of each exemplar row
    ex_level: list[str]                     # disclosed | vague
    ex_text: list[str]
    priors: dict[str, tuple[float, float]]  # indicator -> (P disclosed, P mentioned), smoothed
    overall: tuple[float, float]
    heads: dict[str, Head] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def covers(self, f: Finding) -> bool:
        return f.framework in FRAMEWORKS and f.id in self.priors

    def prior_logits(self, indicator: str) -> tuple[float, float]:
        pd, pm = self.priors.get(indicator, self.overall)
        return _logit(pd), _logit(pm)

    def features(self, doc: Document, findings: list[Finding],
                 exclude: np.ndarray | None = None) -> tuple[np.ndarray, list[Finding], list[dict[str, Any]]]:
        """Feature rows for the findings whose indicator this model knows, those findings, and for each
        the best-matching passage per level (for the evidence). `exclude`: exemplar rows to ignore
        (training features of a document never see its own family's exemplars)."""
        keep = [f for f in findings if self.covers(f)]
        usable = [p for p in doc.passages if p.kind != "code"]
        if not keep:
            return np.zeros((0, len(FEATURES))), keep, []
        P = self.vectoriser([passage_text(p.text, p.heading_path[-1] if p.heading_path else "") for p in usable])
        S = (P @ self.exemplars.T).toarray() if usable else np.zeros((0, self.exemplars.shape[0]))
        if exclude is not None and exclude.any():
            S[:, exclude] = 0.0
        stats = {}
        rows, best = [], []
        by_ind = self._rows_by_indicator()
        for f in keep:
            feats: dict[str, float] = {}
            where: dict[str, Any] = {}
            for level, name in (("disclosed", "sim_disclosed"), ("vague", "sim_vague")):
                cols = by_ind.get((f.id, level), [])
                if cols and S.shape[0]:
                    sub = S[:, cols]
                    j, c = np.unravel_index(int(np.argmax(sub)), sub.shape)
                    feats[name] = float(sub[j, c])
                    where[level] = (int(j), cols[int(c)])
                else:
                    feats[name] = 0.0
            jd = where.get("disclosed", (None, None))[0]
            st = None
            if jd is not None:
                st = stats.get(jd) or stats.setdefault(jd, passage_stats(usable[jd].text))
            specific = bool(st and st.specific)
            pd, pm = self.prior_logits(f.id)
            feats.update(
                base_disclosed=float(f.level == "disclosed"), base_vague=float(f.level == "vague"),
                base_confidence=float(f.confidence), sim_disclosed_x_specific=feats["sim_disclosed"] * specific,
                prior_disclosed=pd, prior_mentioned=pm,
                log_with_unit=math.log1p(st.with_unit) if st else 0.0, log_urls=math.log1p(st.urls) if st else 0.0,
                log_names=math.log1p(st.proper) if st else 0.0, vague_formula=float(bool(st and st.formula)))
            rows.append([feats[n] for n in FEATURES])
            best.append({lv: (usable[j], c) for lv, (j, c) in where.items()})
        return np.asarray(rows, dtype=float), keep, best

    def _rows_by_indicator(self) -> dict[tuple[str, str], list[int]]:
        got = getattr(self, "_by_ind", None)
        if got is None:
            got = {}
            for k, (ind, lv) in enumerate(zip(self.ex_indicator, self.ex_level)):
                got.setdefault((ind, lv), []).append(k)
            self._by_ind = got
        return got

    def levels(self, X: np.ndarray) -> list[str]:
        """disclosed if P(disclosed) >= 0.5, else vague if P(mentioned) >= 0.5, else absent."""
        if not len(X):
            return []
        pd, pm = self.heads["disclosed"].predict(X), self.heads["mentioned"].predict(X)
        return ["disclosed" if a >= 0.5 else "vague" if b >= 0.5 else "absent" for a, b in zip(pd, pm)]

    def refine(self, doc: Document, findings: list[Finding]) -> list[Finding]:
        """The findings with the levels of the learned layer (others unchanged). Where the level changes
        and the rule judge's quote does not support it, the evidence becomes the best sentence of the
        best-matching passage."""
        X, keep, best = self.features(doc, findings)
        if not keep:
            return findings
        new = dict(zip((id(f) for f in keep), zip(self.levels(X), best)))
        out = []
        for f in findings:
            got = new.get(id(f))
            if got is None or got[0] == f.level:
                out.append(f)
                continue
            level, where = got
            if level == "absent":
                out.append(_replace(f, level="absent", evidence="", location=None,
                                    reason="learned layer: unlike the labelled exemplars of this indicator"))
                continue
            passage, col = where.get(level) or where.get("disclosed") or where.get("vague") or (None, None)
            if passage is None or (f.evidence and f.level != "absent"):
                out.append(_replace(f, level=level, reason=f"learned layer: {level} (rule judge: {f.level})"))
                continue
            quote = self._best_sentence(passage.text, col)
            out.append(_replace(f, level=level, evidence=quote, location=passage.location(doc.path),
                                reason=f"learned layer: reads like a labelled {level} passage "
                                       f"({self.ex_text[col][:80]!r})"))
        return out

    def _best_sentence(self, text: str, col: int) -> str:
        sents = [s[0] for s in split_sentences(text)] or [text]
        V = self.vectoriser(sents)
        k = int(np.argmax((V @ self.exemplars[col].T).toarray()[:, 0])) if V.nnz else 0
        return sents[k][:320]

    def to_json(self) -> dict[str, Any]:
        r = lambda a: [round(float(v), 10) for v in a]
        vocab = sorted(self.vectoriser.vocab, key=self.vectoriser.vocab.get)
        return {
            "kind": "exemplar-logistic", "features": list(FEATURES), "vocab": vocab,
            "idf": r(self.vectoriser.idf),
            "exemplars": [{"indicator": i, "level": lv, "text": t}
                          for i, lv, t in zip(self.ex_indicator, self.ex_level, self.ex_text)],
            "priors": {k: [round(a, 10), round(b, 10)] for k, (a, b) in sorted(self.priors.items())},
            "overall": [round(self.overall[0], 10), round(self.overall[1], 10)],
            "heads": {k: {"mean": r(h.mean), "scale": r(h.scale), "weights": r(h.weights),
                          "bias": round(h.bias, 10)} for k, h in self.heads.items()},
            "meta": self.meta,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExemplarModel:
        vocab = {t: i for i, t in enumerate(data["vocab"])}
        vec = Vectoriser(vocab, np.asarray(data["idf"], dtype=float))
        ex = data["exemplars"]
        return cls(
            vectoriser=vec, exemplars=vec([e["text"] for e in ex]),
            ex_indicator=[e["indicator"] for e in ex], ex_level=[e["level"] for e in ex],
            ex_text=[e["text"] for e in ex],
            priors={k: (float(a), float(b)) for k, (a, b) in data["priors"].items()},
            overall=(float(data["overall"][0]), float(data["overall"][1])),
            heads={k: Head(np.asarray(h["mean"]), np.asarray(h["scale"]), np.asarray(h["weights"]), float(h["bias"]))
                   for k, h in data["heads"].items()},
            meta=dict(data.get("meta", {})))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _replace(f: Finding, **kw: Any) -> Finding:
    from dataclasses import replace

    return replace(f, **kw)


@lru_cache(maxsize=1)
def load_exemplar_model() -> ExemplarModel | None:
    """The shipped model (None if this installation has none)."""
    if not MODEL_PATH.is_file():
        return None
    return ExemplarModel.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
