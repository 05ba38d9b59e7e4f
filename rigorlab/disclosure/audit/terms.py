"""Term and notation consistency: words whose near neighbours mean something else.

A document can disclose everything and still say it wrongly: "data tables"
printed where the datasheets of Gebru et al. were meant, "open source" for a
release with use restrictions, "reverse KL" written as D_KL(pi_ref || pi_theta)
(the forward KL in RL's convention). The terms and the notation are data
(`frameworks/glossary.yaml`); this module only applies them. Every finding
quotes the sentence it was found in, with its location, and is listed apart
from the indicator levels: it is about wording, not about what is disclosed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from rigorlab.disclosure.audit.document import Document, Passage
from rigorlab.disclosure.literals import Prefiltered
from rigorlab.disclosure.audit.notation import KLChecker, KLNotation
from rigorlab.disclosure.audit.wording import TermFinding, sentence_spans
from rigorlab.disclosure.frameworks import loader
from rigorlab.disclosure.frameworks.yamlio import load_yaml_model
from rigorlab.errors import UserError

GLOSSARY_NAME = "glossary.yaml"   # in the frameworks folder


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GlossaryTerm(_Strict):
    """A term and the near neighbours that are misused for it."""

    id: str
    term: str                                   # the word the author should have used
    source: str                                 # where the term's meaning is defined
    wrong: list[str]                            # regexes (case-insensitive) of the misused phrase
    context: list[str] = Field(default_factory=list)   # one must occur near the hit (if given)
    unless: list[str] = Field(default_factory=list)    # a hit whose sentence matches one is not a finding
    message: str                                # may use {found}


class Notation(_Strict):
    kl_direction: KLNotation


class Glossary(_Strict):
    schema_: Literal["rigorlab.glossary/1"] = Field(alias="schema")
    terms: list[GlossaryTerm]
    notation: Notation


@dataclass(frozen=True)
class _CompiledTerm:
    spec: GlossaryTerm
    wrong: list[Prefiltered]       # scanned only in passages holding their literal words (`literals.py`)
    context: list[re.Pattern[str]]
    unless: list[re.Pattern[str]]


def _compile(path: Path, owner: str, patterns: list[str]) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p, re.IGNORECASE))
        except re.error as exc:
            raise UserError(f"{path}: `{owner}` has an invalid regular expression `{p}` ({exc}).") from None
    return out


def load_glossary(path: str | Path | None = None) -> Glossary:
    """The glossary file, validated (every regex compiles)."""
    path = Path(path) if path is not None else loader.FRAMEWORK_DIR / GLOSSARY_NAME
    g = load_yaml_model(path, Glossary)
    for t in g.terms:
        for field_name in ("wrong", "context", "unless"):
            _compile(path, f"{t.id}.{field_name}", getattr(t, field_name))
    kl = g.notation.kl_direction
    _compile(path, "notation.kl_direction", kl.reverse + kl.forward)
    return g


@lru_cache(maxsize=4)
def _compiled(path: str | None = None) -> tuple[list[_CompiledTerm], KLChecker]:
    g = load_glossary(path)
    p = Path(path) if path else loader.FRAMEWORK_DIR / GLOSSARY_NAME
    terms = [_CompiledTerm(t, [Prefiltered(rx) for rx in _compile(p, t.id, t.wrong)], _compile(p, t.id, t.context),
                           _compile(p, t.id, t.unless))
             for t in g.terms]
    return terms, KLChecker(g.notation.kl_direction)


def _sentence_index(spans: list[tuple[int, int]], pos: int) -> int:
    return next((i for i, (a, b) in enumerate(spans) if a <= pos < b or (i == len(spans) - 1)), 0)


def _term_findings(doc: Document, p: Passage, terms: list[_CompiledTerm]) -> list[TermFinding]:
    out: list[TermFinding] = []
    spans: list[tuple[int, int]] | None = None          # cut into sentences only when something matches
    lower = p.text.lower()
    for t in terms:
        for rx in t.wrong:
            for m in rx.finditer(p.text, lower=lower):
                if spans is None:
                    spans = sentence_spans(p.text)
                i = _sentence_index(spans, m.start())
                sentence = p.text[spans[i][0]:spans[i][1]].strip()
                if any(u.search(sentence) for u in t.unless):
                    continue
                if t.context and not any(c.search(sentence) for c in t.context):
                    continue
                found = " ".join(m.group(0).split())
                out.append(TermFinding("term", t.spec.id, t.spec.term, t.spec.message.format(found=found),
                                       sentence, p.location(doc.path)))
    return out


def check_terms(doc: Document, glossary: str | Path | None = None) -> list[TermFinding]:
    """Every glossary and notation finding in `doc`, in document order, one per (check, sentence)."""
    terms, kl = _compiled(str(glossary) if glossary is not None else None)
    out: list[TermFinding] = []
    seen: set[tuple[str, str, int]] = set()
    for p in doc.passages:
        if p.kind == "front-matter":
            continue
        for f in _term_findings(doc, p, terms) + kl.findings(doc, p):
            key = (f.id, f.quote, p.index)
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out
