"""The rule judge's level for one candidate passage: the rules of step 4 in `judge.py`.

Given the model's probability that the passage earns the point, its statistics and the quoted
sentence, `decide` says disclosed, vague or absent, and why; `_on_topic` says whether the quote
names the indicator's topic clearly; `specific_for` whether it carries the kind of fact the
indicator asks for. Kept apart from the retrieval and ranking in `judge.py`.
"""

from __future__ import annotations

from collections.abc import Callable

from rigorlab.disclosure.audit import facts as F
from rigorlab.disclosure.audit.features import PassageStats, Profile
from rigorlab.disclosure.audit.retrieval import COVERAGE_FOR_ONE, Query

LOW = 0.25
HIGH_UNCALIBRATED = 0.8
LEVELS = ("disclosed", "vague", "absent")


def _on_topic(quote: tuple[frozenset[str], str, list[tuple[str, ...]]],
              heading: tuple[str, frozenset[str], tuple[str, ...]], query: Query, asks_number: float = 0.0) -> bool:
    """The quoted sentences or their headings name the topic clearly: a keyword written as several
    words, two different keywords, an innermost heading made of the indicator's own words, a number
    whose unit is a keyword ('800B tokens'), or enough of the question's distinctive words (as the
    retrieval gate, `COVERAGE_FOR_ONE`). A lone generic word ('size', 'API', 'overlap') is not enough.

    `quote` is (its content tokens, its words with stop words as ' a b c ', the first tokens after
    each number-with-unit in it); `heading` the same for the heading path plus the innermost heading."""
    toks, norm, units = quote
    head_norm, head_toks, inner_heading = heading
    hits = [p for p, n in zip(query.phrases, query.needles) if n in norm or n in head_norm]
    if len(hits) >= 2 or any(p in query.multiword for p in hits):
        return True
    # the innermost heading is made only of the indicator's own words ("### Limitations")
    if inner_heading and all(t in query.phrase_words or t in query.title_terms for t in inner_heading):
        return True
    # a quantity whose unit is one of the indicator's keywords ("800B tokens" for a data-size item)
    single = query.single_words
    if asks_number and single and any(not single.isdisjoint(u) for u in units):
        return True
    total = query.question_total
    present = toks | head_toks
    covered = sum(w for t, w in query.question_weights if t in present)
    return total > 0 and covered / total >= COVERAGE_FOR_ONE


def specific_for(profile: Profile, facts: F.Facts) -> bool:
    """Does the quote carry the kind of fact the indicator asks for?

    Numbers with a unit when it asks how much/many; names or links when it asks which/who;
    otherwise any checkable fact (number with unit, link, date, two or more names)."""
    if profile.asks_number:
        return facts.with_unit > 0
    if profile.asks_names:
        return facts.names > 0 or facts.urls > 0
    return bool(facts.with_unit or facts.urls or facts.years or facts.names >= 2)


def decide(p: float, st: PassageStats, vague_quote: bool, profile: Profile, threshold: float, high: float,
           on_topic: bool, facts: F.Facts | Callable[[], F.Facts]) -> tuple[str, str]:
    """(level, reason) for a relevant passage with model probability p (rules in the module doc).

    `st` describes the whole passage (what the model saw); `vague_quote`: the quoted sentences are
    a vague formula without a specific; `facts`: the quote's facts that belong to the indicator,
    or a function computing them when needed; `on_topic`: the quote or its headings name the
    topic clearly (see `_on_topic`). For indicators where the model is calibrated (`high == threshold`, the
    FMTI's own), its probability decides; the specificity rule serves the other frameworks."""
    if st.refuses and p < threshold:
        return "absent", "the document says it does not disclose this"
    if vague_quote:
        return "vague", "a vague formula without a number, link, date or name"
    if on_topic and p >= LOW and high > threshold:
        if callable(facts):
            facts = facts()
        if specific_for(profile, facts):
            return "disclosed", "specific: " + facts.describe()
    if p >= high:
        return "disclosed", "answers the question (model probability %.2f)" % p
    if not on_topic:
        return "vague", "touches the topic only through a generic word"
    return "vague", "mentioned without checkable detail"
