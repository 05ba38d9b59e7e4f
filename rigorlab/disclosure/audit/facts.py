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
- a versioned name found all over the document that shares a word with its
  title (the model's own name, "DeepSeek-V3") is its subject, not a
  specific; the developer's name ("Meta") stays a fact.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.vagueness import NOT_NAMES

CLAUSE = re.compile(r";\s+|,?\s+(?:followed by|and then|after which|whereas)\s+|,\s+(?:while|but)\s+",
                    re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# Every CLAUSE boundary holds one of these words or ';' (any case: tested on the lower-cased text,
# which is exact for ASCII text; other text is split without the test).
_CLAUSE_HINTS = (";", "followed by", "and then", "after which", "whereas", "while", "but")


def _may_split(quote: str) -> bool:
    if not quote.isascii():
        return True
    low = quote.lower()
    return any(h in low for h in _CLAUSE_HINTS)
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


# A capitalised word inside a sentence, or an acronym / mixed-case / alphanumeric word anywhere, with
# its hyphen- or dot-joined parts ("Fine-Tuning", "DeepSeek-V3", "CC-MAIN-2023-50", "H800").
_NAME = re.compile(r"(?<=[a-z0-9,;:(/]\s)[A-Z]\w*(?:[-.]\w+)*|"
                   r"\b(?:[A-Z]{2,}\w*|[A-Za-z]+\d\w*|[a-z]+[A-Z]\w*)(?:[-.]\w+)*")


def names_in(text: str) -> set[str]:
    """Capitalised, mixed-case and alphanumeric names ('Common', 'Crawl', 'CC-MAIN-2023-50', 'H800')."""
    return {n.rstrip(".") for n in _NAME.findall(text)} - NOT_NAMES


_SEPARATORS = re.compile(r"[-_./]")


@lru_cache(maxsize=65536)
def _words(text: str) -> frozenset[str]:
    """The words of a name ('DeepSeek-V3' -> deepseek, v3); a name recurs across passages and documents."""
    return frozenset(T.tokenize(_SEPARATORS.sub(" ", text)))


@lru_cache(maxsize=65536)
def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(T.tokenize(name))


_VERSIONED = re.compile(r"\b[A-Za-z][\w.-]*\d[\w.-]*|\b\d[\w.-]*[A-Za-z][\w.-]*")


def frequent_names(passages: list[str], title: str = "") -> frozenset[str]:
    """Lower-cased versioned names (with a digit) that occur in many of the document's passages
    and share a word with its title: the model's own name."""
    title_words = _words(title)
    if not title_words:
        return frozenset()
    counts: Counter[str] = Counter()
    for text in passages:
        if _DIGIT.search(text) is not None:          # a versioned name has a digit
            counts.update({n.lower() for n in _VERSIONED.findall(text)})
    need = max(FREQUENT_MIN, FREQUENT_SHARE * len(passages))
    return frozenset(n.rstrip(".-") for n, c in counts.items() if c >= need and _words(n) & title_words)


def linked_text(quote: str, phrases: list[str], heading_on_topic: bool) -> str:
    """The clauses of `quote` that name the topic (all of it when its headings do, or when no
    clause does, e.g. the quote was chosen for the question's words)."""
    if heading_on_topic or not _may_split(quote):
        return quote
    clauses = [c for c in CLAUSE.split(quote) if c and c.strip()]
    if len(clauses) < 2:
        return quote
    kept = [c for c in clauses if any(p in " " + " ".join(T.phrase_tokens(c)) + " " for p in phrases)]
    return " ; ".join(kept) if kept else quote


RawFacts = tuple[int, int, int, tuple[tuple[str, frozenset[str]], ...]]


def raw_facts(text: str) -> RawFacts:
    """(numbers with unit, links, dates, (name, its tokens) pairs) of a text, computed once."""
    digits = _DIGIT.search(text) is not None
    names = tuple((n, _name_tokens(n)) for n in sorted(names_in(text)))
    return (len(T.NUMBER_WITH_UNIT.findall(text)) if digits else 0, len(T.URL.findall(text)),
            len(T.YEAR_OR_DATE.findall(text)) if digits else 0, names)


def facts(text: str, own_words: frozenset[str], doc_names: frozenset[str] = frozenset(),
          cache: dict[str, RawFacts] | None = None) -> Facts:
    """Facts in `text`, not counting names made of `own_words` (the indicator's keywords and
    title) or found in `doc_names`. `cache`: text -> `raw_facts(text)`, e.g. one per document."""
    raw = cache.get(text) if cache is not None else None
    if raw is None:
        raw = raw_facts(text)
        if cache is not None:
            cache[text] = raw
    with_unit, urls, years, names = raw
    kept = sum(1 for n, toks in names if n.lower() not in doc_names and not (toks and toks <= own_words))
    return Facts(with_unit=with_unit, urls=urls, years=years, names=kept)
