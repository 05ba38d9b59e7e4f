"""Find the passages of one document that speak to an indicator.

Two signals: BM25 (Robertson & Zaragoza 2009, via rank-bm25's Okapi
statistics) over the indicator's title, question and keywords, for ranking;
and exact matches of the indicator's own keyword phrases in a passage or its
headings, for deciding whether the topic is mentioned at all. BM25 scores
are relative to the document, so they rank; keyword evidence is absolute,
so it gates.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, KeysView
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from rank_bm25 import BM25Okapi

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.document import Document

GENERIC_SHARE = 0.4   # a keyword found in more than this share of passages is weak evidence here


COVERAGE_FOR_ONE = 0.25   # covering this share of the question's weighted words counts like one keyword phrase

# (in body, in headings, contribution of a multi-word keyword, of a single-word one): None when no hit
_PhraseHits = tuple[np.ndarray, np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]


@dataclass(frozen=True)
class Query:
    """An indicator turned into search terms."""

    terms: tuple[str, ...]            # BM25 query tokens (keywords repeated for weight)
    phrases: tuple[tuple[str, ...], ...]   # keyword phrases as token tuples (`text.phrase_tokens`)
    title_terms: frozenset[str]
    question_weights: tuple[tuple[str, float], ...] = ()   # title+question words, distinctiveness-weighted
    multiword: frozenset[tuple[str, ...]] = frozenset()    # phrases written as several words ("developed by")
    # Derived once per indicator, not once per document (fields below are not arguments):
    needles: tuple[str, ...] = field(init=False, repr=False, compare=False)   # each phrase as ' a b '
    phrase_words: frozenset[str] = field(init=False, repr=False, compare=False)   # every phrase's words
    single_words: frozenset[str] = field(init=False, repr=False, compare=False)   # one-word phrases
    question_total: float = field(init=False, repr=False, compare=False)   # sum of question_weights
    _needles: tuple[tuple[str, tuple[str, ...], bool], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A phrase as ' a b ' keys a document's phrase cache (a string hashes once, a tuple on every lookup).
        needles = tuple(" " + " ".join(p) + " " for p in self.phrases)
        derived = {
            "needles": needles,
            "phrase_words": frozenset(t for p in self.phrases for t in p),
            "single_words": frozenset(p[0] for p in self.phrases if len(p) == 1),
            "question_total": sum(w for _, w in self.question_weights),
            "_needles": tuple((n, p, p in self.multiword) for n, p in zip(needles, self.phrases)),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)


def make_query(title: str, question: str, keywords: list[str],
               background: dict[str, float] | None = None) -> Query:
    """`background`: idf of words across indicator wordings, so 'data' or 'model' weigh little."""
    # Phrases keep their stop words ('terms of use', 'should not be used'); a phrase of one word is
    # weak evidence, one of several words strong. A keyword made only of stop words is ignored.
    phrases = tuple(dict.fromkeys(tuple(T.phrase_tokens(k)) for k in keywords if T.tokenize(k)))
    multiword = frozenset(p for p in phrases if len(p) > 1)
    kw_terms = [t for k in keywords for t in T.tokenize(k)]
    q_terms = list(dict.fromkeys(T.tokenize(f"{title} {question}")))
    top = max(background.values()) if background else 1.0
    weights = tuple((t, (background or {}).get(t, top)) for t in q_terms)
    return Query(terms=tuple(T.tokenize(f"{title} {question}") + kw_terms * 2),
                 phrases=phrases, title_terms=frozenset(T.tokenize(title)), question_weights=weights,
                 multiword=multiword)


def background_idf(wordings: list[str]) -> dict[str, float]:
    """Smoothed idf of each word over a collection of indicator wordings."""
    df: dict[str, int] = {}
    for w in wordings:
        for t in set(T.tokenize(w)):
            df[t] = df.get(t, 0) + 1
    n = len(wordings)
    return {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}


class _Postings:
    """Which of some word lists (passages, headings) hold each word, and each list as ' a b c '."""

    def __init__(self, word_lists: list[list[str]]) -> None:
        self.words = word_lists
        self._joined: list[str] | None = None
        post: defaultdict[str, list[int]] = defaultdict(list)
        for j, ws in enumerate(word_lists):
            for w in set(ws):
                post[w].append(j)
        self._post = dict(post)
        self.vocab: KeysView[str] = self._post.keys()

    def post(self, word: str) -> list[int]:
        """Indices (ascending) of the lists holding `word`."""
        return self._post.get(word, [])

    def holding(self, needle: str, phrase: tuple[str, ...]) -> list[int]:
        """Indices (ascending) of the lists holding the phrase word for word (`needle`: ' a b ')."""
        if len(phrase) == 1:
            return self.post(phrase[0])
        if not phrase:
            return [j for j in range(len(self.words)) if needle in self.joined(j)]
        lists = [self.post(w) for w in phrase]
        if not all(lists):
            return []
        shortest = min(lists, key=len)
        return [j for j in shortest if needle in self.joined(j)]

    def joined(self, j: int) -> str:
        if self._joined is None:
            self._joined = [" " + " ".join(ws) + " " for ws in self.words]
        return self._joined[j]


class PassageIndex:
    """BM25 matrix and normalised token strings of one document's passages."""

    def __init__(self, doc: Document, k1: float = 1.5, b: float = 0.75) -> None:
        self.doc = doc
        both = [T.both_tokens(p.text) for p in doc.passages]
        self.body_tokens = [b[0] for b in both]
        heads: dict[tuple[str, ...], tuple[list[str], list[str]]] = {}
        for p in doc.passages:
            if p.heading_path not in heads:
                heads[p.heading_path] = T.both_tokens(" ".join(p.heading_path))
        self.head_tokens = [heads[p.heading_path][0] for p in doc.passages]
        corpus = [h + t for h, t in zip(self.head_tokens, self.body_tokens)]
        self.n = len(corpus)
        # Exact phrases (words with stop words): which passages hold each word, and each passage as
        # ' a b c ' for phrases of several words; headings once per distinct heading path.
        self._body = _Postings([b[1] for b in both])
        path_id = {path: i for i, path in enumerate(heads)}
        self._head = _Postings([h[1] for h in heads.values()])
        self._head_of = np.fromiter((path_id[p.heading_path] for p in doc.passages), np.intp, self.n)
        bm = BM25Okapi([c or ["\u2205"] for c in corpus], k1=k1, b=b)
        vocab = sorted(bm.idf)
        self.col = {t: i for i, t in enumerate(vocab)}
        tf = np.zeros((len(vocab), self.n))
        col = self.col
        rows = [col[t] for freqs in bm.doc_freqs for t in freqs]
        cols = [j for j, freqs in enumerate(bm.doc_freqs) for _ in range(len(freqs))]
        tf[rows, cols] = [f for freqs in bm.doc_freqs for f in freqs.values()]
        self.present = tf > 0
        dl = np.asarray(bm.doc_len, dtype=np.float64)
        idf = np.asarray([bm.idf[t] for t in vocab])
        # One document is a small corpus: clamp rank-bm25's epsilon-floored idf at a small positive value
        # so that a term present in most passages still ranks, just weakly.
        idf = np.maximum(idf, 0.05)
        self.weight = idf[:, None] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / bm.avgdl))
        self._present_f = self.present.astype(np.float64)
        self._phrase_cache: dict[str, _PhraseHits] = {}
        self._none = np.zeros(self.n, dtype=bool)
        self._no_hit: _PhraseHits = (self._none, self._none, None, None)
        # returned by keyword_evidence for a query whose keywords occur nowhere (test with `is`)
        self.zeros = np.zeros(self.n)
        self.zeros.setflags(write=False)
        self._vocab = self._body.vocab | self._head.vocab     # every word of the document
        # Per query, each signal once: the rule judge and the exemplar layer both ask (read-only arrays).
        self._memo: dict[str, dict[int, tuple[Query, np.ndarray]]] = {"bm25": {}, "keywords": {}, "question": {}}

    def _remember(self, kind: str, query: Query, compute: Callable[[Query], np.ndarray]) -> np.ndarray:
        memo = self._memo[kind]
        got = memo.get(id(query))
        if got is not None and got[0] is query:
            return got[1]
        out = compute(query)
        out.setflags(write=False)
        memo[id(query)] = (query, out)        # the query is kept: its id stays its own
        return out

    def bm25(self, query: Query) -> np.ndarray:
        """Per passage: the BM25 score of the query's terms (read-only)."""
        return self._remember("bm25", query, self._bm25)

    def _bm25(self, query: Query) -> np.ndarray:
        col = self.col
        rows = [col[t] for t in query.terms if t in col]
        if not rows:
            return np.zeros(self.n)
        return self.weight[rows].sum(axis=0)

    def phrase_hits(self, phrase: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(in body, in headings) boolean arrays for one keyword phrase."""
        got = self._phrase(" " + " ".join(phrase) + " ", phrase)
        return got[0], got[1]

    def _phrase(self, needle: str, phrase: tuple[str, ...]) -> _PhraseHits:
        """Hits and score contribution of one phrase (`needle` is it as ' a b '), computed once per document.

        Returned without the phrase's own weight (applied per query): a match in the body counts 1,
        in the enclosing headings 2 (a heading names what the passage is about); a keyword present
        in more than GENERIC_SHARE of this document's passages counts a third (not distinctive here).
        The last item is the contribution of a single-word keyword (x 0.6, see `keyword_evidence`).
        """
        got = self._phrase_cache.get(needle)
        if got is not None:
            return got
        if not self._vocab.issuperset(phrase):                # some word never occurs: no hit
            self._phrase_cache[needle] = self._no_hit
            return self._no_hit
        body_idx = self._body.holding(needle, phrase)
        path_idx = self._head.holding(needle, phrase)
        if not body_idx and not path_idx:
            got = self._no_hit
        else:
            body = np.zeros(self.n, dtype=bool)
            body[body_idx] = True
            if path_idx:
                on_path = np.zeros(len(self._head.words), dtype=bool)
                on_path[path_idx] = True
                head = on_path[self._head_of]
            else:
                head = self._none
            k = int((body | head).sum())
            w = 1.0 / 3.0 if self.n >= 5 and k > GENERIC_SHARE * self.n else 1.0
            contrib = w * np.where(head, 2.0, body.astype(float))
            got = (body, head, contrib, 0.6 * contrib)
        self._phrase_cache[needle] = got
        return got

    def keyword_evidence(self, query: Query) -> np.ndarray:
        """Per passage: the keyword score, sum over phrases of contribution x (1 for a keyword written
        as several words, 0.6 for a single word) (read-only)."""
        return self._remember("keywords", query, self._keyword_evidence)

    def _keyword_evidence(self, query: Query) -> np.ndarray:
        score = None
        cache, vocab = self._phrase_cache, self._vocab
        for needle, phrase, multi in query._needles:
            got = cache.get(needle)
            if got is None:
                got = self._phrase(needle, phrase) if vocab.issuperset(phrase) else self._no_hit
                cache[needle] = got
            c = got[2] if multi else got[3]
            if c is not None:
                if score is None:
                    score = c.copy()     # 0 + c, exactly
                else:
                    score += c
        return self.zeros if score is None else score

    def keyword_hits(self, query: Query) -> bool:
        """Some keyword phrase of the query occurs in some passage or heading (else its keyword
        evidence is zero everywhere and the indicator is not mentioned)."""
        return self.keyword_evidence(query) is not self.zeros

    def question_overlap(self, query: Query) -> np.ndarray:
        """Per passage: weighted share of the question's words present, / COVERAGE_FOR_ONE, capped at 1
        (read-only)."""
        return self._remember("question", query, self._question_overlap)

    def _question_overlap(self, query: Query) -> np.ndarray:
        total = query.question_total
        col = self.col
        idx = [col[t] for t, _ in query.question_weights if t in col]
        if not idx or total <= 0:
            return np.zeros(self.n)
        w = np.asarray([w for t, w in query.question_weights if t in col])
        share = (w @ self._present_f[idx]) / total
        return np.minimum(1.0, share / COVERAGE_FOR_ONE)

    def matched(self, query: Query, j: int) -> list[str]:
        """The keyword phrases found in passage j (body or headings)."""
        out = []
        cache = self._phrase_cache
        for needle, phrase, _ in query._needles:
            body, head, _, _ = cache.get(needle) or self._phrase(needle, phrase)
            if body[j] or head[j]:
                out.append(" ".join(phrase))
        return out
