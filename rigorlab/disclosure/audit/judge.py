"""Decide disclosed / vague / absent for one indicator in one document.

1. Gate: a passage is a candidate only if the indicator's own keyword
   phrases occur in it or in its headings, or it shares enough of the
   question's distinctive words (score >= GATE, see
   `retrieval.keyword_evidence` and `question_overlap`); none means absent.
   Keyword phrases match word for word, stop words included ('terms of
   use', 'should not be used'), so a phrase never degrades to one word.
2. Section-aware: when some candidates sit in a section whose own heading
   is made of the indicator's words ("## Compute provider", "### License"),
   only those are judged: that is where the document answers it.
3. Rank candidates by keyword score plus document-relative BM25.
4. The learned model (FMTI-trained, `classifier.py`) gives each of the top
   candidates a probability p of earning the point; the best one decides,
   with the framework's own definition of "specific" (FRAMEWORKS.md: names,
   numbers, procedures) as a rule on top:
   - an explicit refusal ("we do not disclose ...") with p < threshold: absent;
   - a vague formula ("publicly available data", "from the internet", "a
     large corpus") with no number, link, date or name (`vagueness.py`,
     shared with the card validator): vague;
   - FMTI indicators (the model knows the indicator's base rate and its
     accepted answers, so p is calibrated): disclosed iff p >= threshold;
   - other frameworks' indicators: disclosed when the quote names the topic
     clearly (not through one generic keyword) and carries the kind of fact
     the indicator asks for, in the clause that names the topic and not
     counting the topic's own words or the model's own name (`facts.py`),
     with p >= LOW; or when p >= HIGH_UNCALIBRATED; otherwise vague
     (`rule_levels.py`).
   Code blocks (commands, JSON, BibTeX) are never evidence.

A report laid out by indicator (`questionnaire.py`, the FMTI's CSV; or
`layout.py`, Markdown whose headings name the indicators) skips steps 1-2: an indicator's candidates are the passages of its own answer, and
an empty answer is absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import sparse

from rigorlab.disclosure import vagueness
from rigorlab.disclosure.audit import facts as F
from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.classifier import SpecificityModel
from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.audit.features import (
    PassageStats,
    Profile,
    indicator_profile,
    passage_stats,
)
from rigorlab.disclosure.audit.quotes import Sentence, best_quote, sentences_and_tokens
from rigorlab.disclosure.audit.retrieval import (
    PassageIndex,
    Query,
    background_idf,
    make_query,
)
from rigorlab.disclosure.audit.rule_levels import HIGH_UNCALIBRATED, LEVELS, _on_topic, decide
from rigorlab.disclosure.audit.sure import binary_margin
from rigorlab.disclosure.frameworks.schema import Framework, Indicator, slug

GATE = 1.0
KEYWORD_MIN = 0.5
TOP_K = 3
# Heading words too broad to make a section "dedicated" to an indicator on their own ("## Training").
GENERIC_HEADINGS = frozenset(T.tokenize("data model models training evaluation results overview introduction "
                                        "details information usage use summary notes general other more"))


@dataclass
class Finding:
    """The judgement of one indicator in one document."""

    document: str
    framework: str
    id: str
    title: str
    section: str
    weight: float
    level: str                                 # disclosed | vague | absent
    evidence: str = ""                         # quote from the document ("" when absent)
    location: dict[str, Any] | None = None     # file, heading, lines (page for PDFs)
    confidence: float = 0.0                    # model probability of "earns the point"
    matched: list[str] = field(default_factory=list)   # keyword phrases found
    reason: str = ""
    sure: bool | None = None                   # its judge's margin reached the sure cut (sure.py); None: not measured

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document, "framework": self.framework, "id": self.id, "title": self.title,
            "section": self.section, "weight": self.weight, "level": self.level, "evidence": self.evidence,
            "location": self.location, "confidence": round(self.confidence, 4), "matched": self.matched,
            "reason": self.reason, "sure": self.sure,
        }


@dataclass(frozen=True)
class PreparedIndicator:
    framework: str
    indicator: Indicator
    query: Query
    profile: Profile
    prior_logit: float
    calibrated: bool          # the model knows this indicator's own base rate (FMTI indicators)
    profile_key: str | None = None   # key of its accepted-answer profile (FMTI indicators), else None
    own_words: frozenset[str] = frozenset()   # its keywords' and title's words (names made of them are the topic)
    phrase_norms: tuple[str, ...] = ()        # its keyword phrases as ' a b ' for substring tests


# The indicator wordings whose word frequencies weight a query (so "data" or "model" weigh little):
# a fixed set, not "every installed framework", so that adding a framework (e.g. `rigour`) does not
# move the judgements of the others; the documented agreement figures were measured against these.
BACKGROUND_FRAMEWORKS = ("aad", "croissant-rai", "datasheets", "ddt", "eu-annex-xi-xii", "eu-summary", "fmti-2025",
                         "hf-dataset-card", "hf-model-card")


@lru_cache(maxsize=1)
def _builtin_background() -> dict[str, float]:
    from rigorlab.disclosure.frameworks import load_framework

    return background_idf([f"{i.title} {i.question}" for fid in BACKGROUND_FRAMEWORKS
                           for i in load_framework(fid).indicators])


def prepare(framework: Framework, model: SpecificityModel) -> list[PreparedIndicator]:
    """Per-framework work done once, not once per document."""
    background = _builtin_background()
    out = []
    for ind in framework.indicators:
        # The FMTI base rate is a prior for the FMTI's own indicators only; a crosswalk is too loose
        # a correspondence to carry a difficulty estimate, so other frameworks get the mean rate.
        fmti_ids = [ind.id] if framework.id.startswith("fmti") else []
        calibrated = any(slug(i) in model.priors for i in fmti_ids)
        # the FMTI notes carry an example disclosure (a developer's answer): not part of the wording
        notes = (ind.notes or "").split("Example disclosure:")[0].strip()
        wording = f"{ind.question} {notes or ind.disclosed_when}"
        query = make_query(ind.title, ind.question, ind.keywords, background)
        key = slug(ind.id) if fmti_ids and slug(ind.id) in model.priors else None
        out.append(PreparedIndicator(
            framework=framework.id, indicator=ind,
            query=query,
            profile=indicator_profile(ind.title, wording),
            prior_logit=model.prior_logit(fmti_ids),
            calibrated=calibrated,
            profile_key=key,
            own_words=topic_words(ind),
            phrase_norms=tuple(" " + " ".join(p) + " " for p in query.phrases),
        ))
    return out


def topic_words(ind: Indicator) -> frozenset[str]:
    """Words that name the indicator's topic: its title's and its lower-case keywords' ('supervised
    fine-tuning'). A capitalised keyword ('Apache 2.0', 'Common Crawl', 'GRPO') names a thing that
    answers the indicator, so its words stay facts."""
    named = {t for k in ind.keywords if k != k.lower() for t in T.tokenize(k)}
    topic = {t for k in ind.keywords if k == k.lower() for t in T.tokenize(k)} | set(T.tokenize(ind.title))
    return frozenset(topic - named)


class DocumentJudge:
    """Holds one document's index and per-passage statistics across all indicators."""

    def __init__(self, doc: Document, model: SpecificityModel) -> None:
        self.doc = doc
        self.model = model
        self.index = PassageIndex(doc)
        self._stats: dict[int, PassageStats] = {}
        self._quote_formula: dict[str, bool] = {}
        self._headings: dict[int, tuple[str, frozenset[str], tuple[str, ...]]] = {}
        self._quote_tokens: dict[str, tuple[frozenset[str], str, list[tuple[str, ...]]]] = {}
        self.not_code = np.fromiter((p.kind != "code" for p in doc.passages), bool, len(doc.passages))
        self._sentences: dict[int, tuple[list[Sentence], list[list[str]]]] = {}
        self._doc_names: frozenset[str] | None = None
        self._similarity: dict[tuple[int, str], float] = {}
        self._raw_facts: dict[str, F.RawFacts] = {}

    def quote_vague(self, quote: str) -> bool:
        """The quote is a vague formula without a checkable specific (`vagueness.vague_formula`)."""
        got = self._quote_formula.get(quote)
        if got is None:
            got = self._quote_formula[quote] = bool(vagueness.vague_formula(quote))
        return got

    def sentences(self, j: int) -> list[Sentence]:
        """(sentence, normalised token string, token set) of passage j, computed once."""
        out = self._sentences.get(j)
        if out is None:
            out = self._sentences[j] = sentences_and_tokens(self.doc.passages[j].text)
        return out[0]

    def sentence_tokens(self, j: int) -> list[list[str]]:
        """`text.tokenize` of each of `sentences(j)`, computed with them."""
        self.sentences(j)
        return self._sentences[j][1]

    _asks_number = 0.0

    def similarity(self, j: int, key: str | None) -> float | None:
        """Cosine of passage j with the indicator's accepted FMTI answers (None: no profile)."""
        if key is None:
            return None
        got = self._similarity.get((j, key))
        if got is None:
            got = self._similarity[(j, key)] = self.model.profiles.similarity(self.index.body_tokens[j], key)
        return got

    def heading(self, j: int) -> tuple[str, frozenset[str], tuple[str, ...]]:
        """Passage j's heading path as ' words with stop words ', its content tokens, and the
        content tokens of the innermost heading."""
        head = self._headings.get(j)
        if head is None:
            path = self.doc.passages[j].heading_path
            joined = " ".join(path)
            content, words = T.both_tokens(joined)
            head = self._headings[j] = (" " + " ".join(words) + " ", frozenset(content),
                                        tuple(T.tokenize(path[-1])) if path else ())
        return head

    def doc_names(self) -> frozenset[str]:
        if self._doc_names is None:
            self._doc_names = F.frequent_names([p.text for p in self.doc.passages], self.doc.title)
        return self._doc_names

    def facts(self, j: int, quote: str, prep: PreparedIndicator) -> F.Facts:
        """The quote's facts that belong to the indicator (see `facts.py`)."""
        head_norm = self.heading(j)[0]
        on_head = any(p in head_norm for p in prep.phrase_norms)
        return F.facts(F.linked_text(quote, list(prep.phrase_norms), on_head), prep.own_words, self.doc_names(),
                       self._raw_facts)

    def dedicated(self, j: int, prep: PreparedIndicator) -> bool:
        """Passage j sits in a section whose own heading is made of the indicator's words
        ("## Compute provider", "### Limitations"): where the document answers it."""
        inner = set(self.heading(j)[2])
        return bool(inner - GENERIC_HEADINGS) and inner <= prep.own_words

    def on_topic(self, j: int, quote: str, query: Query) -> bool:
        head = self.heading(j)
        q = self._quote_tokens.get(quote)
        if q is None:
            units = [tuple(T.tokenize(quote[m.start(): m.end() + 16])[:3]) for m in T.NUMBER_WITH_UNIT.finditer(quote)]
            content, words = T.both_tokens(quote)
            q = self._quote_tokens[quote] = (frozenset(content), " " + " ".join(words) + " ", units)
        return _on_topic(q, head, query, self._asks_number)

    def _profile_fallback(self, prep: PreparedIndicator, base: dict[str, Any]) -> Finding | None:
        """No keyword names the topic, but for an FMTI indicator (the model knows its accepted
        answers) a passage may still answer it in other words: if some passage reads more like this
        indicator's accepted answers than like any other indicator's, the model judges the closest
        such passage; disclosed iff p >= threshold, else no finding (None: absent as usual)."""
        near = np.flatnonzero(_nearest_profiles(self) == prep.profile_key)
        if near.size == 0:
            return None
        j = int(max(near, key=lambda k: (self.similarity(int(k), prep.profile_key), -k)))
        row = self.model.design_row(prep.profile, self.stats(j), prep.prior_logit, self.similarity(j, prep.profile_key))
        p = float(self.model.predict_rows(row, np.array([self.stats(j).trivial]))[0])
        if p < self.model.threshold:
            return None
        quote = best_quote(self.sentences(j), prep.query, prep.profile)
        return Finding(**base, level="disclosed", evidence=quote, location=self.doc.passages[j].location(self.doc.path),
                       confidence=p, reason="reads like this indicator's accepted FMTI answers "
                                            f"(model probability {p:.2f})")

    def _whole_answer(self, prep: PreparedIndicator, cand: np.ndarray) -> tuple[float, PassageStats]:
        """The model's probability and the statistics of a report's answer read whole (its passages'
        text joined), as the classifier was fitted and as the same answer in a CSV is judged."""
        st = passage_stats("\n\n".join(self.doc.passages[k].text for k in cand.tolist()))
        sim = None if prep.profile_key is None else self.model.profiles.similarity(
            [t for k in cand.tolist() for t in self.index.body_tokens[k]], prep.profile_key)
        return self.model.predict(prep.profile, st, prep.prior_logit, sim), st

    def stats(self, j: int) -> PassageStats:
        st = self._stats.get(j)
        if st is None:
            st = self._stats[j] = passage_stats(self.doc.passages[j].text, self.index.body_tokens[j])
        return st

    def judge(self, prep: PreparedIndicator) -> Finding:
        ind = prep.indicator
        base = dict(document=self.doc.path, framework=prep.framework, id=ind.id, title=ind.title,
                    section=ind.section, weight=ind.weight)
        kw_only = self.index.keyword_evidence(prep.query)
        answer = self.doc.answer_for(ind.id, ind.title) if self.doc.answers is not None else None
        if answer is not None:          # a report laid out by indicator: its own answer, keyword or not
            cand = np.asarray([j for j in answer if self.not_code[j]], dtype=np.int64)
            if cand.size == 0:
                return Finding(**base, level="absent", reason="the report's answer to this indicator is empty",
                               sure=True if prep.calibrated and self.model.sure else None)
            kw = kw_only
        else:
            # (most indicators' keywords occur nowhere in a document: no arrays to compare then)
            keyed = None if kw_only is self.index.zeros else (kw_only >= KEYWORD_MIN) & self.not_code
            if keyed is not None and keyed.any():      # the question's words only count where a keyword is
                kw = kw_only + self.index.question_overlap(prep.query)
                cand = np.flatnonzero(keyed & (kw >= GATE))
            else:
                kw, cand = kw_only, _NO_CANDIDATES
            dedicated = [j for j in cand.tolist() if self.dedicated(j, prep)]
            if dedicated:
                cand = np.asarray(dedicated)
        if cand.size == 0 and PROFILE_FALLBACK and prep.profile_key is not None:
            got = self._profile_fallback(prep, base)
            if got is not None:
                return got
        if cand.size == 0:
            return Finding(**base, level="absent", reason=_absent_reason(prep.query.phrases))
        bm = self.index.bm25(prep.query)[cand]
        rank = kw[cand] + bm / max(float(bm.max()), 1e-9)
        top = cand[np.argsort(-rank, kind="stable")[:TOP_K]]
        top_j = top.tolist()
        sts = [self.stats(j) for j in top_j]
        rows = self.model.design_rows(prep.profile, sts, prep.prior_logit,
                                      [self.similarity(j, prep.profile_key) for j in top_j])
        probs = self.model.predict_rows(rows, np.array([st.trivial for st in sts])).tolist()
        quotes = [best_quote(self.sentences(j), prep.query, prep.profile) for j in top_j]
        self._asks_number = prep.profile.asks_number
        high = self.model.threshold if prep.calibrated else max(self.model.threshold, HIGH_UNCALIBRATED)
        verdicts = [decide(p, st, self.quote_vague(q), prep.profile, self.model.threshold, high,
                           self.on_topic(j, q, prep.query), lambda j=j, q=q: self.facts(j, q, prep))
                    for j, st, p, q in zip(top_j, sts, probs, quotes)]
        best_i = min(range(len(top_j)), key=lambda i: (LEVELS.index(verdicts[i][0]), -probs[i]))
        j, p, quote = top_j[best_i], probs[best_i], quotes[best_i]
        level, reason = verdicts[best_i]
        if answer is not None and cand.size > 1:
            # a report's answer of several passages is judged whole; the quote stays its best passage's
            p, whole = self._whole_answer(prep, cand)
            level, reason = decide(p, whole, self.quote_vague(quote), prep.profile, self.model.threshold, high,
                                   self.on_topic(j, quote, prep.query), lambda: self.facts(j, quote, prep))
        passage = self.doc.passages[j]
        sure = None
        if answer is not None and prep.calibrated and self.model.sure:
            # an FMTI indicator judged on the report's own answer: the setting the margin was measured in
            sure = binary_margin(level == "disclosed", p, self.model.threshold) >= self.model.sure["margin"]
        return Finding(**base, level=level, evidence=quote, location=passage.location(self.doc.path),
                       confidence=p, matched=self.index.matched(prep.query, j), reason=reason, sure=sure)


_NO_CANDIDATES = np.empty(0, dtype=np.int64)
_NO_CANDIDATES.setflags(write=False)
PROFILE_FALLBACK = False   # measured, not on by default: benchmarks/eval_fmti.py --profile-fallback


def _nearest_profiles(doc_judge: DocumentJudge) -> np.ndarray:
    """Per passage, the key of the FMTI indicator whose accepted answers it is most similar to
    ("" for code or no similarity), computed once per document (one sparse product)."""
    got = doc_judge.__dict__.get("_nearest")
    if got is None:
        prof = doc_judge.model.profiles
        keys, vocab, M = _profile_matrix(prof)
        rows, cols, vals = [], [], []
        for j, p in enumerate(doc_judge.doc.passages):
            if p.kind == "code":
                continue
            for t, x in prof.vector(doc_judge.index.body_tokens[j]).items():
                k = vocab.get(t)
                if k is not None:
                    rows.append(j)
                    cols.append(k)
                    vals.append(x)
        V = sparse.csr_matrix((vals, (rows, cols)), shape=(len(doc_judge.doc.passages), len(vocab)))
        S = (V @ M).toarray() if keys else np.zeros((len(doc_judge.doc.passages), 0))
        best = S.argmax(axis=1) if keys else np.zeros(len(S), dtype=int)
        names = np.asarray(keys + [""], dtype=object)
        has = S.max(axis=1) > 0 if keys else np.zeros(len(S), dtype=bool)
        got = doc_judge.__dict__["_nearest"] = np.where(has, names[best], "")
    return got


_MATRICES: dict[int, tuple[list[str], dict[str, int], sparse.csr_matrix]] = {}


def _profile_matrix(prof: Any) -> tuple[list[str], dict[str, int], sparse.csr_matrix]:
    """(keys, term -> row, terms x keys matrix of the centroids) of an AnswerProfiles, built once."""
    got = _MATRICES.get(id(prof))
    if got is None or got[0] != sorted(prof.positive):
        keys = sorted(prof.positive)
        vocab = {t: i for i, t in enumerate(sorted({t for c in prof.positive.values() for t in c}))}
        r = [vocab[t] for k in keys for t in prof.positive[k]]
        c = [n for n, k in enumerate(keys) for _ in prof.positive[k]]
        v = [x for k in keys for x in prof.positive[k].values()]
        got = _MATRICES[id(prof)] = (keys, vocab, sparse.csr_matrix((v, (r, c)), shape=(len(vocab), len(keys))))
    return got


@lru_cache(maxsize=4096)
def _absent_reason(phrases: tuple[tuple[str, ...], ...]) -> str:
    return "no passage mentions " + ", ".join(f"'{' '.join(p)}'" for p in phrases[:4])


def judge_document(doc: Document, prepared: list[PreparedIndicator], model: SpecificityModel) -> list[Finding]:
    """Findings for every prepared indicator, in framework order."""
    j = DocumentJudge(doc, model)
    return [j.judge(p) for p in prepared]
