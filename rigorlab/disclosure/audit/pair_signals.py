"""The exemplar layer's pair signals that do not depend on the exemplars.

Per (indicator, passage): keyword evidence, question overlap, relative BM25 and whether the
passage's own heading is dedicated to the indicator; per passage: counts of checkable facts and its
form (table, list, length). Computed once per document (the rule judge's index and passage
statistics are reused) and cached across folds in training, so fitting many layers costs little.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.document import Document, Passage
from rigorlab.disclosure.audit.features import PassageStats, passage_stats
from rigorlab.disclosure.audit.judge import GENERIC_HEADINGS, PreparedIndicator
from rigorlab.disclosure.audit.retrieval import PassageIndex
from rigorlab.disclosure.audit.tfidf import fold_numbers


def passage_columns(passages: list[Passage], stats: list[PassageStats]) -> np.ndarray:
    """Indicator-independent columns: log with_unit, urls, years, names, vague formula, refusal,
    table, list, log words."""
    return np.asarray([[math.log1p(s.with_unit), math.log1p(s.urls), math.log1p(s.years), math.log1p(s.proper),
                        float(s.formula), float(s.refuses), float(p.kind == "table"), float(p.kind == "list"),
                        math.log1p(s.n_words)] for p, s in zip(passages, stats)]).reshape(-1, 9)


def exemplar_free_signals(doc: Document, usable_idx: list[int], preps: list[PreparedIndicator],
                   index: PassageIndex | None, stats: Callable[[int], PassageStats] | None
                   ) -> tuple[dict[str, np.ndarray], np.ndarray, list[list[str]]]:
    """The pair features that do not depend on the exemplars: per indicator (keyword evidence,
    question overlap, relative BM25, dedicated heading), the passage columns, and each passage's
    `tokens` (innermost heading, then text: `passage_text`)."""
    passages = [doc.passages[j] for j in usable_idx]
    index = index or PassageIndex(doc)
    st = [stats(j) for j in usable_idx] if stats is not None else [passage_stats(p.text) for p in passages]
    common = passage_columns(passages, st)
    sel = np.asarray(usable_idx)
    names = [p.heading_path[-1] if p.heading_path else "" for p in passages]   # each passage's innermost heading
    inner = {h: T.tokenize(h) for h in dict.fromkeys(names)}                  # its tokens, once per heading
    head_lists = [inner[h] for h in names]
    where = {h: k for k, h in enumerate(inner)}
    sets = [frozenset(t) for t in inner.values()]
    head_of = np.fromiter((where[h] for h in names), np.intp, len(names))
    retrieval = {}
    for prep in preps:
        bm = index.bm25(prep.query)
        retrieval[prep.indicator.id] = np.column_stack([
            index.keyword_evidence(prep.query)[sel], index.question_overlap(prep.query)[sel],
            (bm / max(float(bm.max()), 1e-9))[sel],
            dedicated_column(sets, head_of, prep)])
    # `tokens(passage_text(...))` without scanning the text again: the index holds `tokenize(text)`,
    # and no token spans the newline between heading and text
    toks = [fold_numbers(h) + fold_numbers(index.body_tokens[j]) for h, j in zip(head_lists, usable_idx)]
    return retrieval, common, toks


def dedicated_column(sets: list[frozenset[str]], head_of: np.ndarray, prep: PreparedIndicator) -> np.ndarray:
    """1.0 for each passage whose innermost heading is dedicated to the indicator (`sets`: the tokens
    of each distinct heading, judged once; `head_of`: each passage's heading in `sets`)."""
    return np.asarray([float(dedicated(t, prep)) for t in sets])[head_of]


def dedicated(inner: frozenset[str], prep: PreparedIndicator) -> bool:
    """The innermost heading (its tokens) is made of the indicator's own words (as
    `judge.DocumentJudge.dedicated`)."""
    return bool(inner - GENERIC_HEADINGS) and inner <= prep.own_words
