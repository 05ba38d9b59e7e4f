"""Tokenisation and the lexical cues the judge and the classifier share.

One place for the regular expressions, so that training (on FMTI report
text) and auditing (on passages of a card) see exactly the same features.
"""

from __future__ import annotations

import re

from rigorlab.disclosure import vagueness
from rigorlab.disclosure.literals import AnyOf

_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")

STOPWORDS = frozenset(
    """a an and are as at be been being but by can could did do does done for from had has have
    having how i if in into is it its itself may might more most must no nor not of on once only or
    other our ours out over own same shall should so some such than that the their theirs them then
    there these they this those through to too under until up upon very was we were what when where
    which while who whom why will with would you your yours also any each about above after again
    against all am because before below between both during few further here just s t don now e g
    eg ie i.e etc via per within without whether""".split()
)


def _stem(tok: str) -> str:
    """Crude plural/suffix folding so 'datasets' matches 'dataset' (no dependency needed)."""
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss") and not tok.endswith("us"):
        return tok[:-1]
    return tok


_STEMS: dict[str, str] = {}


def tokenize(text: str) -> list[str]:
    """Lower-cased, stop-word-free, lightly stemmed word tokens."""
    return content_tokens(_TOKEN.findall(text.lower()))


def content_tokens(words: list[str]) -> list[str]:
    """`tokenize` of a text whose `raw_words` are `words` (the text is not scanned again)."""
    out = []
    for t in words:
        s = _STEMS.get(t)
        if s is None:
            s = "" if t in STOPWORDS or len(t) < 2 else _stem(t)
            if len(_STEMS) < 200_000:
                _STEMS[t] = s
        if s:
            out.append(s)
    return out


_ALL: dict[str, tuple[str, ...]] = {}


def _word_parts(t: str) -> tuple[str, ...]:
    """A token's stemmed parts for phrase matching: 'opt-out' -> ('opt', 'out'), 'cc-by-4' ->
    ('cc', 'by', '4'), so that 'opt-out' and 'opt out', 'CC-BY' and 'cc-by-4.0' match alike."""
    got = _ALL.get(t)
    if got is None:
        got = tuple(_stem(w) for w in re.split(r"[-']", t) if w)
        if len(_ALL) < 200_000:
            _ALL[t] = got
    return got


def phrase_tokens(text: str) -> list[str]:
    """Lower-cased, lightly stemmed words WITH stop words, hyphenated words split: for matching
    keyword phrases exactly, so that 'should not be used' or 'terms of use' keep the words that
    carry their meaning."""
    return [w for t in _TOKEN.findall(text.lower()) for w in _word_parts(t)]


_BOTH: dict[str, tuple[str, tuple[str, ...]]] = {}


def both_tokens(text: str) -> tuple[list[str], list[str]]:
    """(`tokenize(text)`, `phrase_tokens(text)`) in one pass over the text."""
    content: list[str] = []
    words: list[str] = []
    for t in _TOKEN.findall(text.lower()):
        got = _BOTH.get(t)
        if got is None:
            got = ("" if t in STOPWORDS or len(t) < 2 else _stem(t), _word_parts(t))
            if len(_BOTH) < 200_000:
                _BOTH[t] = got
        if got[0]:
            content.append(got[0])
        words += got[1]
    return content, words


def raw_words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


# Links and e-mail addresses; each text is searched with only the alternatives it can match
# (`literals.AnyOf`; an e-mail address needs '@', a bare domain path '.com/', ...).
URL = AnyOf("", (
    r"[\w.+-]+@[\w-]+\.[\w.-]+",
    r"https?://[^\s)>\]\"']+",
    r"www\.[^\s)>\]\"']+",
    r"\b[\w.-]+\.(?:com|org|ai|io|net|edu|gov)/[^\s)>\]]*",
), needs=((("@",),), (("http",),), (("www.",),), ((".com/", ".org/", ".ai/", ".io/", ".net/", ".edu/", ".gov/"),)))
# A digit not preceded by a word character or a dot (the lookbehind after the digit, so that `re`
# skips straight to digits), with an optional magnitude.
NUMBER = re.compile(r"\d(?<![\w.]\d)[\d,.]*(?:\s*(?:%|[kmbt]\b|[KMBT]\b))?")
# A currency sign or a digit not preceded by a word character or a dot, then the unit. The pattern
# starts with the character class [$\u20ac\u00a3\d] (the lookbehinds come after it: `(?<![\w.]\d)` is
# `(?<![\w.])` one character later) so that `re` skips straight to the candidate characters.
NUMBER_WITH_UNIT = re.compile(
    r"[$\u20ac\u00a3\d](?:(?<=[$\u20ac\u00a3])\s?\d[\d,.]*\s*[kKmMbB]?\b|(?<=\d)(?<![\w.]\d)[\d,.]*\s*(?:%|percent|[kKmMbBtT]\b|thousand|million|billion|trillion|tokens?|parameters?|params|"
    r"examples?|samples?|documents?|images?|hours?|gpus?|tpus?|h100s?|a100s?|h800s?|flops?|days?|"
    r"languages?|tb|gb|mb|kwh|mwh|tco2e?|tons?|words?|pairs?|prompts?|annotators?|people|employees?|"
    r"steps?|epochs?|layers?|seeds?|runs?|nodes?|kg|kw|w)\b)",
    re.IGNORECASE,
)
YEAR_OR_DATE = AnyOf(r"\b", (     # a year, or a month and a number; a text holding neither is not scanned
    r"(?:19|20)\d\d\b",
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?\s+\d{1,4}\b",
), "", re.IGNORECASE)
# Capitalised or mixed-case words that are not sentence-initial: names of data sets, tools, bodies.
# (The capital comes first and the lookbehind after it, so that `re` skips straight to capitals.)
PROPER = re.compile(r"[A-Z](?<=[a-z0-9,;:(]\s[A-Z])(?:[a-z]*[A-Z0-9][\w-]*|[a-z]{2,}|[A-Z]+[\w-]*)")
ACRONYM_OR_MIXED = re.compile(r"\b(?:[A-Z]{2,}[0-9A-Za-z-]*|[A-Za-z]+[0-9][\w.-]*|[a-z]+[A-Z][\w-]*)\b")
BULLET = re.compile(r"(?m)^\s*(?:[-*+\u2022]|\(?[0-9ivx]{1,4}[.)])\s+")

PROCEDURE_WORDS = frozenset(
    """filter filtered filtering remove removed removing dedup deduplicate deduplicated deduplication
    decontaminate decontaminated decontamination classifier classifiers heuristic heuristics threshold
    thresholds pipeline annotate annotated annotation annotators label labeled labelled review reviewed
    audit audited evaluate evaluated evaluation measure measured benchmark benchmarks procedure
    process protocol method methodology step steps stage stages red-team red-teaming tested test testing
    sampled sampling crawl crawled crawler trained finetuned fine-tuned rlhf sft dpo grpo ppo
    report reporting submit form email contact policy""".split()
)

HEDGES = frozenset(
    """may might could some various several certain generally typically often usually broadly diverse
    variety range mix mixture numerous many high-quality large vast massive substantial wide""".split()
)

# The vague-formula and refusal patterns live in one place, shared with the card validator.
VAGUE_PATTERNS = vagueness.VAGUE
NON_DISCLOSURE = vagueness.NON_DISCLOSURE
