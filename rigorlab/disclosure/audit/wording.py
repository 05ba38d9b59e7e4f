"""What the wording checks report, and the sentences they quote.

Shared by the glossary check (`terms.py`) and the notation check
(`notation.py`): a finding quotes one sentence verbatim, so both must cut
sentences the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TermFinding:
    """One wording problem: which check, what is wrong, the quoted sentence and where it is."""

    check: str                  # "term" or "notation"
    id: str                     # glossary id, e.g. datasheets-vs-data-tables, kl-direction
    term: str                   # the word or notation that should have been used
    message: str
    quote: str                  # the sentence, verbatim from the passage
    location: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "id": self.id, "term": self.term, "message": self.message,
                "quote": self.quote, "location": self.location}


_SENTENCE_END = re.compile(r"([.!?])\s+(?=[\"'(\[]?[A-Z0-9])|\n\s*\n")
_NOT_AN_END = {"al", "e.g", "i.e", "eg", "ie", "fig", "figs", "eq", "eqs", "sec", "cf", "vs", "etc", "approx", "no",
               "ref", "refs", "tab", "app", "ch", "resp", "incl", "et"}


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence. A period ends one only before a capital or digit and not after an
    abbreviation ("et al. (2021)", "e.g. 3", "Fig. 2") or an initial ("J. Smith")."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        if m.group(1) == ".":
            word = re.search(r"([\w.]+)$", text[start:m.start()])
            w = word.group(1).lower() if word else ""
            if w in _NOT_AN_END or (len(w) == 1 and w.isalpha()):
                continue
        spans.append((start, m.start() + (1 if m.group(1) else 0)))
        start = m.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]
