"""The checkable facts of a quote that belong to the indicator it is quoted for.

A sentence can mention an indicator's topic and carry a fact about something
else: "We pre-train DeepSeek-V3 on 14.8 trillion tokens, followed by
Supervised Fine-Tuning and Reinforcement Learning stages" names RL and SFT
but its only number is the pre-training size. Three rules keep such facts
from counting as disclosure of the topic:

- when the topic is named only in the quote (not in its headings), a fact
  counts only in a clause that names it; clauses are cut where a sentence
  moves on to another step ("; ", ", followed by", ", while", ", but");
- a capitalised name made only of the indicator's own words ("Supervised
  Fine-Tuning" for an RL/SFT item) is the topic, not a fact about it;
- a name found all over the document (the model's own name) is its
  subject, not a specific.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rigorlab.disclosure.audit import text as T

CLAUSE = re.compile(r";\s+|,?\s+(?:followed by|and then|after which|whereas)\s+|,\s+(?:while|but)\s+",
                    re.IGNORECASE)
FREQUENT_MIN = 3          # a name in at least this many passages ...
FREQUENT_SHARE = 0.1      # ... and in this share of them is the document's subject


@dataclass(frozen=True)
class Facts:
    """Counts of checkable facts: numbers with a unit, links, dates, names."""

    with_unit: int = 0
    urls: int = 0
    years: int = 0
    names: int = 0

    def describe(self) -> str:
        parts = [f"{n} {what}" for n, what in ((self.with_unit, "number(s) with unit"), (self.urls, "link(s)"),
                                                (self.years, "date(s)"), (self.names, "name(s)")) if n]
        return ", ".join(parts) or "detailed wording"


def names_in(text: str) -> set[str]:
    """Capitalised, mixed-case and alphanumeric names ('Common Crawl', 'CC-MAIN', 'H800')."""
    return {m.group(0) for m in T.PROPER.finditer(text)} | {m.group(0) for m in T.ACRONYM_OR_MIXED.finditer(text)}


def frequent_names(passages: list[str]) -> frozenset[str]:
    """Lower-cased names that occur in many of the document's passages (its subject)."""
    counts: Counter[str] = Counter()
    for text in passages:
        counts.update({n.lower() for n in names_in(text)})
    need = max(FREQUENT_MIN, FREQUENT_SHARE * len(passages))
    return frozenset(n for n, c in counts.items() if c >= need)


def linked_text(quote: str, phrases: list[str], heading_on_topic: bool) -> str:
    """The clauses of `quote` that name the topic (all of it when its headings do, or when no
    clause does, e.g. the quote was chosen for the question's words)."""
    if heading_on_topic:
        return quote
    clauses = [c for c in CLAUSE.split(quote) if c and c.strip()]
    if len(clauses) < 2:
        return quote
    kept = [c for c in clauses if any(p in " " + " ".join(T.phrase_tokens(c)) + " " for p in phrases)]
    return " ; ".join(kept) if kept else quote


def facts(text: str, own_words: frozenset[str], doc_names: frozenset[str] = frozenset()) -> Facts:
    """Facts in `text`, not counting names made of `own_words` (the indicator's keywords and
    title) or found in `doc_names`."""
    digits = any(ch.isdigit() for ch in text)
    names = 0
    for n in names_in(text):
        toks = T.tokenize(n)
        if n.lower() in doc_names or (toks and set(toks) <= own_words):
            continue
        names += 1
    return Facts(
        with_unit=len(T.NUMBER_WITH_UNIT.findall(text)) if digits else 0,
        urls=len(T.URL.findall(text)),
        years=len(T.YEAR_OR_DATE.findall(text)) if digits else 0,
        names=names,
    )
