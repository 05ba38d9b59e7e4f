"""A document as the auditor sees it: located passages plus what was noticed reading it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rigorlab.disclosure.frameworks.schema import slug
from rigorlab.errors import UserError


class DocumentError(UserError):
    """A file that cannot be audited; the message is one sentence naming the file."""


@dataclass(frozen=True)
class Passage:
    """A block of a document (paragraph, list, table slice, front-matter field) and where it is."""

    index: int
    text: str                          # markup stripped; what is matched and quoted
    heading_path: tuple[str, ...]      # enclosing headings, outermost first
    line_start: int                    # 1-based, inclusive (within the page for PDFs)
    line_end: int
    page: int | None = None            # PDFs only
    kind: str = "text"                 # text | list | table | code | front-matter

    def location(self, file: str) -> dict[str, Any]:
        loc: dict[str, Any] = {
            "file": file,
            "heading": " > ".join(self.heading_path),
            "lines": [self.line_start, self.line_end],
        }
        if self.page is not None:
            loc["page"] = self.page
        return loc


def format_location(loc: dict[str, Any] | None) -> str:
    """'card.md § Training > Data, lines 40-52' (or 'p. 3, lines ...' for PDFs)."""
    if not loc:
        return ""
    parts = [str(loc.get("file", ""))]
    if loc.get("page") is not None:
        parts.append(f"p. {loc['page']}")
    if loc.get("heading"):
        parts.append(f"\u00a7 {loc['heading']}")
    a, b = loc.get("lines", [0, 0])
    parts.append(f"line {a}" if a == b else f"lines {a}-{b}")
    return ", ".join(p for p in parts if p)


@dataclass
class Document:
    path: str                          # as given by the user (shown in reports)
    kind: str                          # markdown | text | html | pdf
    passages: list[Passage]
    front_matter: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    n_lines: int = 0
    notices: list[str] = field(default_factory=list)   # one sentence each, non-fatal
    # a report laid out by indicator (`questionnaire.py`, `layout.py`): slug(indicator) -> passages of its answer
    answers: dict[str, tuple[int, ...]] | None = None
    # every heading path in order, empty sections included (Markdown only; `layout.py`)
    headings: tuple[tuple[str, ...], ...] = ()

    def answer_for(self, indicator_id: str, title: str = "") -> tuple[int, ...] | None:
        """The passages of this indicator's answer in a report laid out by indicator (empty: its answer
        is empty); None when the document is not laid out that way or has no row for it."""
        if self.answers is None:
            return None
        got = self.answers.get(slug(indicator_id))
        return got if got is not None or not title else self.answers.get(slug(title))

    @property
    def full_text(self) -> str:
        return "\n".join(p.text for p in self.passages)
