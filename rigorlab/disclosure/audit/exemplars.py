"""A learned second opinion for DDT and AAD: exemplar passages, a pair classifier, a document stage.

Why: the rule judge (`judge.py`) misses evidence that does not repeat an
indicator's words: a table row "Training Data Date | Up to June 2023", a
licence badge, a list item "- Out-of-scope: ...". The labelled set
(`data/audit/`) holds, for each indicator, the passages people quoted as
disclosed or vague. Two stages, both L2-penalised logistic regressions fitted
by Newton's method (`classifier.fit_logistic`: deterministic, no sampling):

1. Pair classifier over (indicator, passage): P(this passage is the disclosed
   evidence) and P(it is disclosed-or-vague evidence), from the passage's
   TF-IDF cosine with the indicator's exemplars (and with other indicators'),
   the indicator's learned word weights (`lexical.py`), the retrieval signals
   of `retrieval.py` (keyword phrases, question words, BM25), its heading, and
   its checkable facts (`features.passage_stats`).
2. Document stage per (document, indicator): the best pair logits, the pooled
   pair logits (log-sum-exp over the passages: evidence spread over several
   passages counts), the rule judge's level and confidence, and the
   indicator's base rates in the labels give P(disclosed) and P(mentioned); the level is disclosed if
   P(disclosed) >= t_d, else vague if P(mentioned) >= t_m, else absent. The two
   cuts are chosen in training on the cross-fitted rows (`train_exemplars.py`):
   t_d maximises kappa of disclosed-vs-not, then t_m three-level accuracy.

On by default in `rigorlab audit` (`--rules-only` turns it off). Only numpy/scipy
at audit time; `--dense` adds the sentence-embedding columns of `dense.py` (a second
fitted file, `exemplar_model_dense.json`). `train_exemplars.py` fits both stages with
cross-fitting and writes either file byte for byte; `benchmarks/eval_cards.py`
measures the layer leave-one-family-out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from rigorlab.disclosure.audit.dense import DENSE_FEATURES, DenseEncoder, dense_columns
from rigorlab.disclosure.audit.document import Document, Passage
from rigorlab.disclosure.audit.features import PassageStats
from rigorlab.disclosure.audit.judge import DocumentJudge, Finding, PreparedIndicator
from rigorlab.disclosure.audit.layer_findings import refined_finding
from rigorlab.disclosure.audit.layer_parts import Head, PairBlock, cut_levels, level_margin
from rigorlab.disclosure.audit.lexical import LexicalScorers
from rigorlab.disclosure.audit.pair_signals import exemplar_free_signals
from rigorlab.disclosure.audit.retrieval import PassageIndex
from rigorlab.disclosure.audit.sure import logit as _logit
from rigorlab.disclosure.audit.tfidf import Vectoriser, passage_text

MODEL_PATH = Path(__file__).resolve().parent / "exemplar_model.json"
DENSE_MODEL_PATH = Path(__file__).resolve().parent / "exemplar_model_dense.json"   # with `dense.py` columns
FRAMEWORKS = ("ddt", "aad")       # the frameworks of the labelled set
PAIR_FEATURES = ("sim_disclosed", "sim_vague", "sim_disclosed_top3", "sim_other", "margin", "keyword",
                 "question_overlap", "bm25_relative", "dedicated_heading", "log_with_unit", "log_urls",
                 "log_years", "log_names", "vague_formula", "refuses", "is_table", "is_list",
                 "number_fit", "names_fit", "log_words", "lexical")
DOC_FEATURES = ("base_disclosed", "base_vague", "base_confidence", "pair_disclosed", "pair_mentioned",
                "prior_disclosed", "prior_mentioned", "pooled_disclosed", "pooled_mentioned")
PRIOR_PSEUDO = 2.0                # pseudo-counts pulling an indicator's rate towards the overall rate


def usable_indices(doc: Document) -> list[int]:
    """Indices of the passages that can be evidence (code blocks never are, as in the rule judge)."""
    return [j for j, p in enumerate(doc.passages) if p.kind != "code"]


def usable_passages(doc: Document) -> list[Passage]:
    """The passages of `usable_indices`, in order."""
    return [doc.passages[j] for j in usable_indices(doc)]


@dataclass
class ExemplarModel:
    """Exemplars, base rates and the two stages' heads."""

    vectoriser: Vectoriser
    exemplars: sparse.csr_matrix            # (n_exemplars, vocab)
    ex_indicator: list[str]
    ex_level: list[str]                     # disclosed | vague
    ex_text: list[str]
    priors: dict[str, tuple[float, float]]  # indicator -> (P disclosed, P mentioned), smoothed
    overall: tuple[float, float]
    pair_heads: dict[str, Head] = field(default_factory=dict)    # disclosed, mentioned
    doc_heads: dict[str, Head] = field(default_factory=dict)     # disclosed, mentioned
    meta: dict[str, Any] = field(default_factory=dict)
    thresholds: tuple[float, float] = (0.5, 0.5)   # cuts on P(disclosed), P(mentioned)
    sure: dict[str, float] | None = None    # margin at which findings count as sure, and its training figures
    lexical: LexicalScorers | None = None   # per-indicator word weights (`lexical.py`), the `lexical` pair feature
    dense: bool = False                     # pair rows end with `dense.DENSE_FEATURES` (needs `encoder`)
    encoder: DenseEncoder | None = field(default=None, repr=False, compare=False)

    @property
    def pair_features(self) -> tuple[str, ...]:
        return PAIR_FEATURES + DENSE_FEATURES if self.dense else PAIR_FEATURES

    def covers(self, framework: str, indicator: str) -> bool:
        return framework in FRAMEWORKS and indicator in self.priors

    def prior_logits(self, indicator: str) -> tuple[float, float]:
        pd, pm = self.priors.get(indicator, self.overall)
        return _logit(pd), _logit(pm)

    def _columns(self) -> dict[tuple[str, str], np.ndarray]:
        got = self.__dict__.get("_cols")
        if got is None:
            tmp: dict[tuple[str, str], list[int]] = {}
            for k, (ind, lv) in enumerate(zip(self.ex_indicator, self.ex_level)):
                tmp.setdefault((ind, lv), []).append(k)
                tmp.setdefault((ind, "any"), []).append(k)
            got = self.__dict__["_cols"] = {k: np.asarray(v) for k, v in tmp.items()}
        return got

    def _covered(self, prepared: list[PreparedIndicator]) -> list[PreparedIndicator]:
        """The prepared indicators this model covers; remembered for the last list seen (an Auditor
        passes the same list for every document)."""
        got = self.__dict__.get("_covered_for")
        if got is None or got[0] is not prepared or got[1] != len(prepared):
            got = self.__dict__["_covered_for"] = (
                prepared, len(prepared), [p for p in prepared if self.covers(p.framework, p.indicator.id)])
        return got[2]

    def _exemplars_t(self) -> sparse.csr_matrix:
        """The exemplar rows transposed, as CSR once per model (scipy would convert the transpose on
        every product; the product is the same)."""
        got = self.__dict__.get("_all_ex_t")
        if got is None or got[0] is not self.exemplars:
            got = self.__dict__["_all_ex_t"] = (self.exemplars, self.exemplars.T.tocsr())
        return got[1]

    def _indicator_ids(self) -> list[str]:
        """The indicators that have exemplars, sorted (once per model)."""
        got = self.__dict__.get("_ind_ids")
        if got is None:
            got = self.__dict__["_ind_ids"] = sorted(set(self.ex_indicator))
        return got

    def pair_block(self, doc: Document, prepared: list[PreparedIndicator],
                   exclude: np.ndarray | None = None, index: PassageIndex | None = None,
                   cache: dict[str, Any] | None = None,
                   stats: Callable[[int], PassageStats] | None = None,
                   lexical: LexicalScorers | None = None) -> PairBlock:
        """Pair features for every covered indicator of `prepared` against every usable passage.
        `exclude`: exemplar rows to ignore (a training document never sees its own family's);
        `cache`: a dict kept across calls on the same documents (training), for the parts that do not
        depend on the exemplars (retrieval index and signals, passage statistics, tokens);
        `index`, `stats`: the rule judge's index and per-passage statistics of this document
        (`judge.DocumentJudge`), reused instead of recomputed; `lexical`: scorers to use instead of the
        model's own (training: scorers fitted without this document's fold)."""
        usable_idx = usable_indices(doc)
        passages = [doc.passages[j] for j in usable_idx]
        preps = self._covered(prepared)
        if not passages or not preps:
            return PairBlock(passages, {}, usable_idx)
        key = doc.path
        if cache is not None and key in cache:
            retrieval, common, toks = cache[key]
        else:
            retrieval, common, toks = exemplar_free_signals(doc, usable_idx, preps, index, stats)
            if cache is not None:
                cache[key] = (retrieval, common, toks)
        P = self.vectoriser.from_tokens(toks)
        S = (P @ self._exemplars_t()).toarray()
        scorers = lexical if lexical is not None else self.lexical
        lex = scorers.scores(P) if scorers is not None else {}
        if exclude is not None and exclude.any():
            S[:, exclude] = 0.0
        # per indicator, the best similarity to its disclosed and to its vague exemplars; the best over
        # both (its "any") and the second-best indicator's give the "other" feature. Exemplars are rows
        # of the transposed product, so each indicator's are gathered as contiguous rows.
        cols = self._columns()
        ind_ids = self._indicator_ids()
        ST = np.ascontiguousarray(S.T)                                  # (n_exemplars, n)
        zeros = np.zeros(len(passages))
        best: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for i in ind_ids:
            d_cols, v_cols = cols.get((i, "disclosed")), cols.get((i, "vague"))
            best[i] = (ST[d_cols].max(axis=0) if d_cols is not None else zeros,
                       ST[v_cols].max(axis=0) if v_cols is not None else zeros)
        # (similarities are >= 0, so the max of the two maxima is the max over all its exemplars)
        per_ind = np.stack([np.maximum(*best[i]) for i in ind_ids], axis=1)   # (n, n_ind)
        order = np.sort(per_ind, axis=1)
        top1, top2 = order[:, -1], (order[:, -2] if per_ind.shape[1] > 1 else zeros)
        pos = {i: k for k, i in enumerate(ind_ids)}
        # one (indicator, passage, feature) array, filled a column kind at a time for all indicators
        iids = [prep.indicator.id for prep in preps]
        pairs = [best.get(iid, (zeros, zeros)) for iid in iids]
        SD, SV = np.stack([b[0] for b in pairs]), np.stack([b[1] for b in pairs])
        SD3 = np.empty_like(SD)
        for k, iid in enumerate(iids):
            d_cols = cols.get((iid, "disclosed"))
            if d_cols is not None and len(d_cols) >= 3:
                top3 = np.partition(ST[d_cols], -3, axis=0)[-3:]      # the three best, then in order
                SD3[k] = -np.sort(-top3, axis=0).mean(axis=0)
            else:
                SD3[k] = SD[k]
        own_cols = np.column_stack([per_ind, zeros])                   # (the last: indicators without exemplars)
        OWN = own_cols[:, [pos.get(iid, per_ind.shape[1]) for iid in iids]].T
        OTHER = np.where(OWN >= top1, top2, top1)
        A = np.empty((len(preps), len(passages), len(PAIR_FEATURES)))
        A[:, :, 0], A[:, :, 1], A[:, :, 2], A[:, :, 3] = SD, SV, SD3, OTHER
        A[:, :, 4] = np.maximum(SD, SV) - OTHER
        A[:, :, 5:9] = np.stack([retrieval[iid] for iid in iids])      # keyword, question, BM25, dedicated
        A[:, :, 9:17] = common[:, :8]
        A[:, :, 17] = np.array([prep.profile.asks_number for prep in preps])[:, None] * common[:, 0]
        A[:, :, 18] = np.array([prep.profile.asks_names for prep in preps])[:, None] * (common[:, 3] + common[:, 1])
        A[:, :, 19] = common[:, 8]
        A[:, :, 20] = np.stack([lex.get(iid, zeros) for iid in iids])
        rows: dict[str, np.ndarray] = {iid: A[k] for k, iid in enumerate(iids)}
        if self.dense:
            extra = self._dense_rows(doc, passages, preps, exclude, cache)
            rows = {i: np.column_stack([r, extra[i]]) for i, r in rows.items()}
        return PairBlock(passages, rows, usable_idx)

    def _dense_rows(self, doc: Document, passages: list[Passage], preps: list[PreparedIndicator],
                    exclude: np.ndarray | None, cache: dict[str, Any] | None) -> dict[str, np.ndarray]:
        if self.encoder is None:
            raise ValueError("this exemplar model has dense features: give it a dense.DenseEncoder")
        key = (doc.path, "dense")
        E = cache.get(key) if cache is not None else None
        if E is None:
            E = self.encoder.encode([passage_text(p.text, p.heading_path[-1] if p.heading_path else "")
                                     for p in passages])
            if cache is not None:
                cache[key] = E
        got = self.__dict__.get("_dense_ex")
        if got is None:
            got = self.__dict__["_dense_ex"] = self.encoder.encode(self.ex_text)
        questions = {p.indicator.id: q for p, q in zip(preps, self.encoder.encode(
            [f"{p.indicator.title}. {p.indicator.question}" for p in preps]))}
        return dense_columns(E, got, self.ex_indicator, self.ex_level, questions,
                             [p.indicator.id for p in preps], exclude)

    def doc_rows(self, block: PairBlock, findings: list[Finding], pair_heads: dict[str, Head] | None = None
                 ) -> tuple[np.ndarray, list[Finding], list[tuple[int, int]]]:
        """Document-stage rows for the covered findings, those findings, and for each the index of the
        best passage for disclosed and for mentioned."""
        heads = pair_heads or self.pair_heads
        keep = [f for f in findings if f.id in block.rows and self.covers(f.framework, f.id)]
        out, best = [], []
        if not keep:
            return np.zeros((0, len(DOC_FEATURES))), keep, best
        R = np.concatenate([block.rows[f.id] for f in keep])         # all pairs at once, split below
        LD, LM = heads["disclosed"].logit(R), heads["mentioned"].logit(R)
        LD, LM = LD.reshape(len(keep), -1), LM.reshape(len(keep), -1)      # (finding, passage)
        JD, JM = LD.argmax(axis=1), LM.argmax(axis=1)
        at = np.arange(len(keep))
        top_d, top_m = LD[at, JD].tolist(), LM[at, JM].tolist()
        pool_d, pool_m = np.logaddexp.reduce(LD, axis=1).tolist(), np.logaddexp.reduce(LM, axis=1).tolist()
        for k, f in enumerate(keep):
            pd, pm = self.prior_logits(f.id)
            out.append([float(f.level == "disclosed"), float(f.level == "vague"), float(f.confidence),
                        top_d[k], top_m[k], pd, pm, pool_d[k], pool_m[k]])
        best = list(zip(JD.tolist(), JM.tolist()))
        return np.asarray(out, dtype=float).reshape(-1, len(DOC_FEATURES)), keep, best

    def probabilities(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """P(disclosed) and P(mentioned) of document-stage rows."""
        return self.doc_heads["disclosed"].predict(X), self.doc_heads["mentioned"].predict(X)

    def levels(self, X: np.ndarray) -> list[str]:
        """disclosed if P(disclosed) >= t_d, else vague if P(mentioned) >= t_m, else absent."""
        if not len(X):
            return []
        return cut_levels(*self.probabilities(X), *self.thresholds)

    def refine(self, doc: Document, findings: list[Finding], prepared: list[PreparedIndicator],
               rules: DocumentJudge | None = None) -> list[Finding]:
        """The findings with the layer's levels (indicators it does not know are unchanged). Where the
        level rises above the rule judge's, the evidence becomes the best sentence of the passage the
        pair classifier ranked first. Each finding the layer judged gets `sure`: whether the layer's
        probabilities sit at least `sure["margin"]` logits inside the region of the level given
        (`level_margin`); the others keep `sure=None`. `rules`: the rule judge of this document (its
        index and passage statistics are reused). In a report laid out by indicator
        (`questionnaire.py`, `layout.py`) the rule judge's level of an answered indicator stands: the
        layer would read the other answers too."""
        if rules is None:
            from rigorlab.disclosure.audit.classifier import load_model

            rules = DocumentJudge(doc, load_model())
        block = self.pair_block(doc, prepared, index=rules.index, stats=rules.stats)
        X, keep, best = self.doc_rows(block, findings)
        if not keep:
            return findings
        pd, pm = self.probabilities(X)
        new = {id(f): (lv, b, a, c)
               for f, lv, b, a, c in zip(keep, cut_levels(pd, pm, *self.thresholds), best, pd, pm)
               if doc.answers is None or doc.answer_for(f.id, f.title) is None}   # a report's own answer stands
        out = []
        for f in findings:
            got = new.get(id(f))
            if got is None:
                out.append(f)
                continue
            g = refined_finding(doc, block, f, *got, rules=rules, quoter=self)
            out.append(replace(g, sure=self.is_sure(g.level, got[2], got[3])))
        return out

    def is_sure(self, level: str, pd: float, pm: float) -> bool:
        """Whether a finding of `level` with these probabilities is sure (False when the fitted model
        found no margin at which its cross-fitted findings reached the target agreement)."""
        if not self.sure:
            return False
        return level_margin(level, pd, pm, *self.thresholds) >= self.sure["margin"]

    def best_sentence(self, indicator: str, level: str, sents: list[str], rows: sparse.csr_matrix | None) -> str:
        """Of a passage's sentences (`rows`: their TF-IDF rows; None for a single sentence), the one
        closest to the indicator's exemplars of `level`, plus a tenth of its `lexical` logit: on the
        development folds the quote overlaps people's in 0.351 of the items the layer quoted and both
        call mentioned, against 0.326 by similarity alone (0.348 by the word weights alone)."""
        key = (indicator, level if level != "absent" else "any")
        cols = self._columns().get(key)
        if cols is None or rows is None:
            return sents[0][:320]
        rows_t = self.__dict__.setdefault("_ex_t", {}).get(key)
        if rows_t is None:           # the indicator's exemplar rows, transposed, once per model
            rows_t = self.__dict__["_ex_t"][key] = self.exemplars[cols].T.tocsr()
        score = (rows @ rows_t).toarray().max(axis=1)
        lex = self.lexical.score(rows, indicator) if self.lexical is not None else None
        if lex is not None:
            score = score + lex / 10.0
        return sents[int(np.argmax(score))][:320]

    def to_json(self) -> dict[str, Any]:
        r = lambda a: [round(float(v), 10) for v in a]
        vocab = sorted(self.vectoriser.vocab, key=self.vectoriser.vocab.get)
        return {
            "kind": "exemplar-pair-logistic", "pair_features": list(self.pair_features),
            "doc_features": list(DOC_FEATURES), **({"dense": True} if self.dense else {}),
            "meta": self.meta,
            "pair_heads": {k: h.to_json() for k, h in self.pair_heads.items()},
            "doc_heads": {k: h.to_json() for k, h in self.doc_heads.items()},
            "thresholds": {"disclosed": self.thresholds[0], "mentioned": self.thresholds[1]},
            **({"sure": self.sure} if self.sure is not None else {}),
            **({"lexical": self.lexical.to_json()} if self.lexical is not None else {}),
            "priors": {k: [round(a, 10), round(b, 10)] for k, (a, b) in sorted(self.priors.items())},
            "overall": [round(self.overall[0], 10), round(self.overall[1], 10)],
            "vocab": vocab, "idf": r(self.vectoriser.idf),
            "exemplars": [{"indicator": i, "level": lv, "text": t}
                          for i, lv, t in zip(self.ex_indicator, self.ex_level, self.ex_text)],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str = "exemplar model",
                  encoder: DenseEncoder | None = None) -> ExemplarModel:
        from rigorlab.errors import UserError

        dense = bool(data.get("dense", False))
        want = PAIR_FEATURES + DENSE_FEATURES if dense else PAIR_FEATURES
        if data.get("pair_features") != list(want) or data.get("doc_features") != list(DOC_FEATURES):
            raise UserError(f"{source} was fitted for other features; retrain it with "
                            "`python -m rigorlab.disclosure.audit.train_exemplars`.")
        vec = Vectoriser({t: i for i, t in enumerate(data["vocab"])}, np.asarray(data["idf"], dtype=float))
        ex = data["exemplars"]
        return cls(
            vectoriser=vec, exemplars=vec([e["text"] for e in ex]),
            ex_indicator=[e["indicator"] for e in ex], ex_level=[e["level"] for e in ex],
            ex_text=[e["text"] for e in ex],
            priors={k: (float(a), float(b)) for k, (a, b) in data["priors"].items()},
            overall=(float(data["overall"][0]), float(data["overall"][1])),
            pair_heads={k: Head.from_json(h) for k, h in data["pair_heads"].items()},
            doc_heads={k: Head.from_json(h) for k, h in data["doc_heads"].items()},
            thresholds=(float(data.get("thresholds", {}).get("disclosed", 0.5)),
                        float(data.get("thresholds", {}).get("mentioned", 0.5))),
            sure={k: float(v) for k, v in data["sure"].items()} if data.get("sure") else None,
            lexical=LexicalScorers.from_json(data.get("lexical", {}), len(vec.vocab)),
            meta=dict(data.get("meta", {})), dense=dense, encoder=encoder)


@lru_cache(maxsize=2)
def load_exemplar_model(dense: bool = False) -> ExemplarModel | None:
    """The shipped model (None if this installation has none); `dense`: the one with embedding
    columns, with its encoder loaded (needs `rigorlab[embeddings]`)."""
    path = DENSE_MODEL_PATH if dense else MODEL_PATH
    if not path.is_file():
        return None
    encoder = _dense_encoder() if dense else None
    return ExemplarModel.from_json(json.loads(path.read_text(encoding="utf-8")), str(path), encoder)


def _dense_encoder() -> DenseEncoder:
    from rigorlab.errors import UserError
    from rigorlab.metrics.embedding import MetricInputError

    try:
        return DenseEncoder()
    except MetricInputError as exc:
        raise UserError(f"--dense needs the offline sentence encoder: {exc}.") from exc
