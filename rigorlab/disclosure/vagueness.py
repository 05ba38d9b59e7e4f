"""A cheap, explainable test for answers that mention a topic without substance.

FRAMEWORKS.md: "All from the internet" is vague, not disclosed. An answer is
judged vague when it is a bare word (yes / no / none / n/a / unknown) to a
question asking what, which, who or how, or when it uses a generic phrase and
carries no specific (a number, a link, an e-mail address, code, a quoted or
capitalised name). It is a heuristic for a person filling in a card, not the
auditor's judgement.
"""

from __future__ import annotations

import re

PLACEHOLDERS = {"", "tbd", "todo", "?", "...", "[more information needed]", "more information needed", "xxx"}
BARE = {"yes", "no", "none", "n/a", "na", "unknown", "not applicable", "various", "many", "some", "several",
        "see paper", "see above", "see below", "see the paper", "-"}
GENERIC = ("publicly available", "from the internet", "the internet", "the web", "various sources",
           "variety of sources", "diverse", "high-quality", "high quality", "large-scale", "large amount",
           "seriously", "may contain", "applicable law", "industry standard", "best practice", "state-of-the-art",
           "state of the art", "extensive", "as needed", "where appropriate", "to be determined", "upon request",
           "on request", "robust", "rigorous", "carefully", "responsibly", "mix of", "a lot of", "we respect",
           "comply with", "in accordance with", "appropriate measures", "reasonable efforts")
WH = re.compile(r"^\s*(what|which|who|whom|how|where|when|why|over what|for what|in what|on what|under what|"
                r"by whom|with what|from what)\b", re.I)
_SPECIFIC = (
    re.compile(r"\d"),                         # numbers, dates, versions
    re.compile(r"https?://|www\.|\S+@\S+\.\w+"),  # links, e-mail
    re.compile(r"`[^`]+`|\"[^\"]{2,}\"|'[^']{2,}'"),  # code or quoted names
    re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z0-9]+"),  # a capitalised name inside a sentence
    re.compile(r"\b[a-z]+[-_.][a-z0-9]+\b"),   # identifiers such as apache-2.0, cc-by-sa
)


def has_specifics(text: str) -> bool:
    return any(p.search(text) for p in _SPECIFIC)


def judge(answer: str | None, question: str) -> tuple[str, str]:
    """(`missing` | `vague` | `disclosed`, reason) for one answer to one question."""
    text = (answer or "").strip()
    norm = text.lower().rstrip(".")
    if norm in PLACEHOLDERS:
        return "missing", "no answer" if not text else f"placeholder {text!r}"
    if norm in BARE and WH.match(question):
        return "vague", f"{text!r} does not answer a question that asks {WH.match(question).group(1).lower()}"
    for phrase in GENERIC:
        if phrase in norm and not has_specifics(text):
            return "vague", f"generic phrase {phrase!r} without a name, number or link"
    return "disclosed", ""
