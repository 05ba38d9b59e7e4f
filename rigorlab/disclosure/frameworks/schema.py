"""The typed schema every disclosure framework file must satisfy.

A framework (DDT, AAD, FMTI, Datasheets, a user's own) is a list of
indicators grouped in sections. Each indicator says what question it asks,
what counts as disclosed (specific and checkable) and what counts as vague,
and how it maps onto other frameworks (crosswalk). The auditor and the
document generators read the same objects, so a new edition is a new file.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Section(_Strict):
    """A dimension / section / subdomain that groups indicators."""

    id: str
    title: str
    parent: str | None = None          # e.g. the FMTI domain above a subdomain
    description: str | None = None


class Indicator(_Strict):
    """One checkable disclosure item, judged disclosed / vague / absent."""

    id: str                            # "DDT-1.1", "AAD-4.2", FMTI indicator name as in the CSV
    title: str
    question: str
    disclosed_when: str                # what counts as disclosed: specific, checkable
    vague_when: str | None = None      # what counts as mentioned without substance
    section: str                       # id of a Section of the same framework
    keywords: list[str] = Field(default_factory=list)   # retrieval terms for the auditor
    weight: float = 1.0
    crosswalk: dict[str, list[str]] = Field(default_factory=dict)  # framework id -> its indicator ids
    run_knowable: bool = False         # a training run's own records can answer it
    notes: str | None = None           # the source's own notes / examples, verbatim where licensed


class Framework(_Strict):
    """A versioned set of indicators (one YAML file)."""

    id: str
    title: str
    version: str
    source: str                        # citation / URL of the framework's origin
    licence: str
    description: str
    kind: list[str] = Field(default_factory=lambda: ["model", "dataset"])  # what it documents
    sections: list[Section]
    indicators: list[Indicator]

    def problems(self) -> list[tuple[tuple[Any, ...], str]]:
        """Internal inconsistencies as (location, message): duplicate ids, unknown sections."""
        out: list[tuple[tuple[Any, ...], str]] = []
        section_ids = [s.id for s in self.sections]
        seen: set[str] = set()
        for i, s in enumerate(self.sections):
            if s.id in seen:
                out.append((("sections", i, "id"), f"section id `{s.id}` is used twice"))
            seen.add(s.id)
        ind_seen: set[str] = set()
        for i, ind in enumerate(self.indicators):
            if ind.id in ind_seen:
                out.append((("indicators", i, "id"), f"indicator id `{ind.id}` is used twice"))
            ind_seen.add(ind.id)
            if ind.section not in section_ids:
                out.append((("indicators", i, "section"),
                            f"section `{ind.section}` is not one of this framework's sections"))
            if ind.weight < 0:
                out.append((("indicators", i, "weight"), "weight must be >= 0"))
        for k in self.kind:
            if k not in ("model", "dataset"):
                out.append((("kind",), f"kind `{k}` must be `model` or `dataset`"))
        return out

    def indicator(self, indicator_id: str) -> Indicator | None:
        """Exact id first, then a case- and punctuation-insensitive match (FMTI names)."""
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        key = slug(indicator_id)
        for ind in self.indicators:
            if slug(ind.id) == key:
                return ind
        return None

    def section_title(self, section_id: str) -> str:
        for s in self.sections:
            if s.id == section_id:
                return s.title
        return section_id


def slug(text: str) -> str:
    """Lower-case, alphanumerics joined by '-': a stable handle for long names."""
    out, dash = [], False
    for ch in text.strip().lower():
        if ch.isalnum() or ch == ".":
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")
