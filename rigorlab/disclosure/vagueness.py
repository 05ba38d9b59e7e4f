"""One explainable test for text that mentions a topic without substance.

FRAMEWORKS.md: "All from the internet" is vague, not disclosed. Shared by the
card validator (`judge`, one answer to one question) and the auditor (the
`vague_phrases` feature of its classifier and its "vague formula" rule), so
that both call the same sentences vague:

- a *vague formula* is a generic phrase ("publicly available data", "from
  the internet", "a large corpus", "best practices", "rigorously tested")
  in a text that carries no checkable specific once the generic phrase
  itself is set aside;
- a *specific* is a number, a link or e-mail address, a date, code or a
  quoted name, a capitalised or mixed-case name inside a sentence
  ("Common Crawl", "CC-MAIN-2023-50"), or an identifier such as
  `apache-2.0`;
- a *refusal* ("we do not disclose ...", "not publicly available") says
  the thing is withheld.

A heuristic for a first pass, not a verdict: the auditor's learned
classifier weighs these cues with others.
"""

from __future__ import annotations

import re

from rigorlab.disclosure.literals import AnyOf

# Generic phrases: mention without substance. One list for the validator and the auditor.
_GENERIC = (
    r"publicly[ -]available(?: (?:data|sources?|datasets?|information|text|corpora))?",
    r"(?:from|on|across|of) the (?:internet|web)", r"internet[- ]scale", r"web[- ]scale",
    r"(?:a|an) (?:large|massive|vast|huge|broad|diverse|wide) (?:corpus|collection|amount|dataset|variety|range|mix)",
    r"(?:diverse|high[- ]quality|curated|various|multiple) (?:data|datasets?|sources?|corpora)",
    r"a (?:mix|mixture|variety|combination) of (?:data|datasets?|sources?|corpora|publicly|public|licensed|proprietary)",
    r"various sources", r"variety of sources", r"a lot of", r"large[- ]scale", r"large amounts? of",
    r"(?:industry[- ])?(?:best|standard) practices?", r"industry[- ]standard", r"state[- ]of[- ]the[- ]art techniques?",
    r"extensive(?:ly)? (?:test|tested|testing|evaluat\w+|review\w*)", r"rigorous(?:ly)? (?:test\w*|evaluat\w+|review\w*)",
    r"(?:we|the team|the company) (?:take|takes) .{0,20}?(?:seriously|responsib\w+)",
    r"may contain", r"applicable laws?", r"as needed", r"where appropriate", r"to be determined",
    r"(?:up)?on request", r"carefully (?:curated|selected|filtered|designed|reviewed)", r"responsibly",
    r"we respect", r"comply with", r"in accordance with", r"appropriate (?:measures|safeguards|steps)",
    r"reasonable efforts?",
)
# `\b(?:...|...)\b`, each text searched with only the phrases whose words it holds (same matches,
# `literals.AnyOf`): a text without "public", "web", "large", ... is not scanned at all.
VAGUE = AnyOf(r"\b", _GENERIC, r"\b", re.IGNORECASE)

NON_DISCLOSURE = AnyOf(r"\b", (
    r"not (?:publicly )?(?:disclosed?|shared|released|provided|available|reported|published|made public)",
    r"(?:do|does|will|can|did) not (?:publicly )?(?:disclose|share|release|provide|report|publish)",
    r"(?:cannot|can't|won't|don't|doesn't) (?:publicly )?(?:disclose|share|release|provide|report)",
    r"no (?:information|details?|data|disclosure)(?: (?:is|was|are))? (?:provided|available|found|given|disclosed)",
    r"^\s*(?:none|n/?a|no information\.?|not disclosed\.?|unknown|tbd|to be announced)\s*\.?\s*$",
    r"proprietary and (?:not|confidential)|confidential (?:and|information)",
    r"we are not (?:able|allowed) to (?:disclose|share)",
), "", re.IGNORECASE | re.MULTILINE)

# Capitalised words and generic acronyms that name nothing checkable on their own.
NOT_NAMES = frozenset("AI ML LLM LLMs NLP CoT API APIs FAQ README I The We Our This These It Internet Web".split())
_SPECIFIC = (
    re.compile(r"\d"),                                        # numbers, dates, versions
    re.compile(r"https?://|www\.|\S+@\S+\.\w+"),              # links, e-mail
    re.compile(r"`[^`]+`|\"[^\"]{2,}\"|\u201c[^\u201d]{2,}\u201d"),   # code or quoted names
    re.compile(r"\b[a-z]+[-_.][a-z0-9]+[-_.]?[a-z0-9]*\b(?=.*\d)|\b[a-z]+(?:[-_][a-z0-9]+){2,}\b"),  # apache-2.0, cc-by-sa
)
_NAME = re.compile(r"\b[A-Z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*")
_SENTENCE = re.compile(r"(?<=[.!?:;])\s+|\n+")
_BULLET = re.compile(r"^\s*(?:[-*+\u2022>]|\(?\d{1,3}[.)])\s*")


def vague_phrases(text: str) -> list[str]:
    """The generic phrases in `text`, lower-cased, in order."""
    return [m.group(0).lower() for m in VAGUE.finditer(text)]


def has_specifics(text: str) -> bool:
    """Does `text` carry a checkable specific once its generic phrases are set aside?"""
    rest = VAGUE.sub(" ", text)
    if any(p.search(rest) for p in _SPECIFIC):
        return True
    for sent in _SENTENCE.split(rest):
        words = _BULLET.sub("", sent).split(None, 1)          # a sentence's first word is capitalised anyway
        if len(words) == 2 and any(m.group(0) not in NOT_NAMES for m in _NAME.finditer(words[1])):
            return True
    return False


def vague_formula(text: str) -> list[str]:
    """The generic phrases of `text` when it has no checkable specific; [] otherwise."""
    found = vague_phrases(text)
    if not found or has_specifics(text):
        return []
    return list(dict.fromkeys(found))


def refuses(text: str) -> bool:
    """Says the thing is withheld ("we do not disclose ...", "not publicly available")."""
    return NON_DISCLOSURE.search(text) is not None


# ---- the card validator: one answer to one question -------------------------------------------

PLACEHOLDERS = {"", "tbd", "todo", "?", "...", "[more information needed]", "more information needed", "xxx"}
BARE = {"yes", "no", "none", "n/a", "na", "unknown", "not applicable", "various", "many", "some", "several",
        "see paper", "see above", "see below", "see the paper", "-"}
WH = re.compile(r"^\s*(what|which|who|whom|how|where|when|why|over what|for what|in what|on what|under what|"
                r"by whom|with what|from what)\b", re.IGNORECASE)


def judge(answer: str | None, question: str) -> tuple[str, str]:
    """(`missing` | `vague` | `disclosed`, reason) for one answer to one question."""
    text = (answer or "").strip()
    norm = text.lower().rstrip(".")
    if norm in PLACEHOLDERS:
        return "missing", "no answer" if not text else f"placeholder {text!r}"
    wh = WH.match(question)
    if norm in BARE and wh:
        return "vague", f"{text!r} does not answer a question that asks {wh.group(1).lower()}"
    phrases = vague_formula(text)
    if phrases:
        return "vague", (f"generic phrase{'s' if len(phrases) > 1 else ''} "
                         f"{', '.join(repr(p) for p in phrases)} without a name, number or link")
    return "disclosed", ""
