"""Specificity features of a passage with respect to one indicator.

The FMTI's human scorers award a point for specific, checkable disclosure:
numbers with units, named data sets and tools, links, described procedures
(Bommasani et al., FMTI 2023/2025 scoring notes). The same function feeds
the classifier at training time (FMTI report text) and at audit time (a
retrieved passage), so the model sees identical inputs in both settings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rigorlab.disclosure import vagueness
from rigorlab.disclosure.audit import text as T

FEATURE_NAMES: tuple[str, ...] = (
    "non_disclosure",
    "log_words",
    "log_numbers",
    "log_numbers_with_unit",
    "log_years",
    "log_urls",
    "log_proper_names",
    "log_acronyms",
    "log_bullets",
    "procedure_rate",
    "hedge_rate",
    "vague_phrases",
    "query_coverage",
    "log_query_hits",
    "asks_number_x_has_unit",
    "asks_names_x_proper",
    "asks_process_x_procedure",
    "asks_number_x_missing",
    "title_coverage",
)

# Monotonicity imposed at training: more specificity never lowers the probability of "disclosed",
# more hedging or refusal never raises it (+1: weight >= 0, -1: weight <= 0, 0: free).
FEATURE_SIGNS: dict[str, int] = {
    "non_disclosure": -1, "log_words": 0, "log_numbers": 1, "log_numbers_with_unit": 1,
    "log_years": 1, "log_urls": 1, "log_proper_names": 1, "log_acronyms": 1, "log_bullets": 0,
    "procedure_rate": 0, "hedge_rate": -1, "vague_phrases": -1, "query_coverage": 1, "log_query_hits": 1,
    "asks_number_x_has_unit": 1, "asks_names_x_proper": 1, "asks_process_x_procedure": 1,
    "asks_number_x_missing": -1, "title_coverage": 1,
}

SHORT_REFUSAL_WORDS = 30   # "Not disclosed." / "We do not share this information publicly."

_ASKS_NUMBER = re.compile(
    r"\b(?:how (?:much|many|long)|number of|amount|size|quantity|percentage|proportion|count|"
    r"duration|flops?|compute|emissions?|energy|hours|cost|precision|significant figure|volume)\b",
    re.IGNORECASE,
)
_ASKS_NAMES = re.compile(
    r"\b(?:top-?\d+|list|which|names?|identify|identity|sources?|providers?|channels?|who|entity|"
    r"organi[sz]ations?|partners?|third[- ]part\w+|commitments?)\b",
    re.IGNORECASE,
)
_ASKS_PROCESS = re.compile(
    r"\b(?:how (?:does|do|is|are|was|were)|process(?:es)?|methods?|methodology|procedures?|steps?|"
    r"protocols?|techniques?|mechanisms?|approach|pipeline)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Profile:
    """What an indicator asks for: its words, its title's words, and whether it wants
    numbers, names or a described process."""

    words: frozenset[str]
    title_words: frozenset[str]
    asks_number: float
    asks_names: float
    asks_process: float


def indicator_profile(title: str, text: str) -> Profile:
    """Profile of an indicator from its title and its full wording (question, notes...)."""
    full = f"{title} {text}"
    return Profile(
        words=frozenset(T.tokenize(full)),
        title_words=frozenset(T.tokenize(title)),
        asks_number=float(bool(_ASKS_NUMBER.search(full))),
        asks_names=float(bool(_ASKS_NAMES.search(full))),
        asks_process=float(bool(_ASKS_PROCESS.search(full))),
    )


def _log(n: float) -> float:
    return math.log1p(n)


@dataclass(frozen=True)
class PassageStats:
    """The indicator-independent part of the features, computed once per passage."""

    tokens: frozenset[str]
    n_words: int
    numbers: int
    with_unit: int
    years: int
    urls: int
    proper: int
    acronyms: int
    bullets: int
    procedure: int
    hedges: int
    vague: int
    refuses: bool
    formula: bool = False      # a vague formula without any checkable specific (`vagueness.vague_formula`)

    @property
    def specific(self) -> bool:
        """Carries at least one checkable fact: a number with a unit, a link, a date or a name."""
        return bool(self.with_unit or self.urls or self.years or self.proper >= 2)

    @cached_property
    def passage_features(self) -> tuple[float, ...]:
        """The first twelve features of `combine` (FEATURE_NAMES order), which do not depend on the
        indicator: computed once per passage instead of once per (indicator, passage)."""
        n = max(self.n_words, 1)
        return (float(self.refuses), _log(n), _log(self.numbers), _log(self.with_unit), _log(self.years),
                _log(self.urls), _log(self.proper), _log(self.acronyms), _log(self.bullets),
                self.procedure / n, self.hedges / n, float(self.vague))

    @property
    def trivial(self) -> bool:
        """Empty, or a short refusal: all but never earns the point (the FMTI gave 5 of the 202 such
        answers in its Dec 2025 reports a point), so the classifier gives it probability 0 and is
        fitted on the other answers only (a hurdle model)."""
        return self.n_words == 0 or (self.refuses and self.n_words < SHORT_REFUSAL_WORDS)


_DIGIT = re.compile(r"\d")


def passage_stats(passage: str, content: list[str] | None = None) -> PassageStats:
    """`content`: the passage's `text.tokenize`, where a caller already has it (not computed again)."""
    text = passage.strip()
    words = T.raw_words(text)
    digits = _DIGIT.search(text) is not None          # cheap pre-checks skip the costlier patterns
    linky = "http" in text or "www." in text or "@" in text or "/" in text
    vague = vagueness.vague_phrases(text)
    return PassageStats(
        tokens=frozenset(T.content_tokens(words) if content is None else content),
        n_words=len(words),
        numbers=len(T.NUMBER.findall(text)) if digits else 0,
        with_unit=len(T.NUMBER_WITH_UNIT.findall(text)) if digits else 0,
        years=len(T.YEAR_OR_DATE.findall(text)) if digits else 0,
        urls=len(T.URL.findall(text)) if linky else 0,
        proper=len(T.PROPER.findall(text)),
        acronyms=len(T.ACRONYM_OR_MIXED.findall(text)),
        bullets=len(T.BULLET.findall(text)),
        procedure=sum(map(T.PROCEDURE_WORDS.__contains__, words)),
        hedges=sum(map(T.HEDGES.__contains__, words)),
        vague=len(vague),
        refuses=bool(T.NON_DISCLOSURE.search(text)),
        formula=bool(vague) and not vagueness.has_specifics(text),
    )


def combine(profile: Profile, st: PassageStats) -> np.ndarray:
    """Feature vector (order: FEATURE_NAMES) of a passage's stats judged against an indicator."""
    return np.array(combine_values(profile, st))


def combine_values(profile: Profile, st: PassageStats) -> list[float]:
    """`combine` as a list (a caller appending more features builds one array, not two)."""
    n = max(st.n_words, 1)
    hits = len(profile.words & st.tokens)
    base = st.passage_features
    return [
        *base,
        hits / max(1, len(profile.words)),
        _log(hits),
        profile.asks_number * base[3],          # log with_unit
        profile.asks_names * base[6],           # log proper
        profile.asks_process * min(1.0, 10.0 * st.procedure / n),
        profile.asks_number * float(st.with_unit == 0),
        len(profile.title_words & st.tokens) / max(1, len(profile.title_words)),
    ]
