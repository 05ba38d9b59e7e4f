"""Find the passages of one document that speak to an indicator.

Two signals: BM25 (Robertson & Zaragoza 2009, via rank-bm25's Okapi
statistics) over the indicator's title, question and keywords, for ranking;
and exact matches of the indicator's own keyword phrases in a passage or its
headings, for deciding whether the topic is mentioned at all. BM25 scores
are relative to the document, so they rank; keyword evidence is absolute,
so it gates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rank_bm25 import BM25Okapi

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.document import Document

GENERIC_SHARE = 0.4   # a keyword found in more than this share of passages is weak evidence here


@dataclass(frozen=True)
class Query:
    """An indicator turned into search terms."""

    terms: tuple[str, ...]            # BM25 query tokens (keywords repeated for weight)
    phrases: tuple[tuple[str, ...], ...]   # keyword phrases as token tuples
    title_terms: frozenset[str]


def make_query(title: str, question: str, keywords: list[str]) -> Query:
    phrases = tuple(dict.fromkeys(tuple(T.tokenize(k)) for k in keywords if T.tokenize(k)))
    kw_terms = [t for p in phrases for t in p]
    return Query(terms=tuple(T.tokenize(f"{title} {question}") + kw_terms * 2),
                 phrases=phrases, title_terms=frozenset(T.tokenize(title)))


class PassageIndex:
    """BM25 matrix and normalised token strings of one document's passages."""

    def __init__(self, doc: Document, k1: float = 1.5, b: float = 0.75) -> None:
        self.doc = doc
        self.body_tokens = [T.tokenize(p.text) for p in doc.passages]
        self.head_tokens = [T.tokenize(" ".join(p.heading_path)) for p in doc.passages]
        corpus = [h + t for h, t in zip(self.head_tokens, self.body_tokens)]
        self.body_str = [" " + " ".join(t) + " " for t in self.body_tokens]
        self.head_str = [" " + " ".join(t) + " " for t in self.head_tokens]
        self.n = len(corpus)
        bm = BM25Okapi([c or ["\u2205"] for c in corpus], k1=k1, b=b)
        vocab = sorted(bm.idf)
        self.col = {t: i for i, t in enumerate(vocab)}
        tf = np.zeros((len(vocab), self.n))
        for j, freqs in enumerate(bm.doc_freqs):
            for t, f in freqs.items():
                tf[self.col[t], j] = f
        dl = np.asarray(bm.doc_len, dtype=np.float64)
        idf = np.asarray([bm.idf[t] for t in vocab])
        # One document is a small corpus: clamp rank-bm25's epsilon-floored idf at a small positive value
        # so that a term present in most passages still ranks, just weakly.
        idf = np.maximum(idf, 0.05)
        self.weight = idf[:, None] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / bm.avgdl))
        self._phrase_cache: dict[tuple[str, ...], tuple[np.ndarray, np.ndarray]] = {}

    def bm25(self, query: Query) -> np.ndarray:
        rows = [self.col[t] for t in query.terms if t in self.col]
        if not rows:
            return np.zeros(self.n)
        return self.weight[rows].sum(axis=0)

    def phrase_hits(self, phrase: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """(in body, in headings) boolean arrays for one keyword phrase; cached per document."""
        hit = self._phrase_cache.get(phrase)
        if hit is None:
            needle = " " + " ".join(phrase) + " "
            hit = (np.fromiter((needle in s for s in self.body_str), bool, self.n),
                   np.fromiter((needle in s for s in self.head_str), bool, self.n))
            self._phrase_cache[phrase] = hit
        return hit

    def keyword_evidence(self, query: Query) -> tuple[np.ndarray, list[list[str]]]:
        """Per passage: the keyword score and the phrases found (body or heading).

        A multi-word phrase counts 1, a single word 0.6, a heading match 1.5 times as much;
        a keyword present in more than GENERIC_SHARE of this document's passages counts a third.
        """
        score = np.zeros(self.n)
        found: list[list[str]] = [[] for _ in range(self.n)]
        for ph in query.phrases:
            body, head = self.phrase_hits(ph)
            anyhit = body | head
            k = int(anyhit.sum())
            if k == 0:
                continue
            w = 1.0 if len(ph) > 1 else 0.6
            if self.n >= 5 and k > GENERIC_SHARE * self.n:
                w /= 3.0
            score += w * body + 1.5 * w * (head & ~body) + 0.5 * w * (head & body)
            for j in np.flatnonzero(anyhit):
                found[j].append(" ".join(ph))
        return score, found
