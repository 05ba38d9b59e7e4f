"""A report laid out by indicator: sections whose headings name a framework's indicators.

Why: transparency reports (the FMTI's among them) often give each indicator its own section,
headed by the indicator's name. Read like a card, retrieval lets a neighbouring section's facts
stand in for an empty or off-topic answer, and an answer that does not repeat the indicator's
words never passes the keyword gate. Where the headings show the layout, each named section is
the document's answer to that indicator, as in a questionnaire (`questionnaire.py`): the judge
reads only that section, and a heading with nothing under it is an empty answer (absent).

The layout is recognised per framework, and only when the headings name at least
`MIN_SHARE` of its indicators (and `MIN_NAMED`): a card with one "Limitations" heading is still
read as a card, with that heading as one signal among others (`judge.DocumentJudge.dedicated`).
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.frameworks.schema import Framework, slug

MIN_SHARE = 0.25     # of a framework's indicators named by headings, for the layout to count
MIN_NAMED = 3
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*|[a-z]|[ivx]+)[.)]?\s+(?=\S)", re.IGNORECASE)


_NAMES: dict[int, tuple[Framework, dict[str, str]]] = {}


def heading_names(framework: Framework) -> dict[str, str]:
    """slug of each way a heading may name an indicator ('DDT-1.1', its title, 'DDT-1.1 Title') -> id
    (computed once per framework object: the auditor asks for every document)."""
    got = _NAMES.get(id(framework))
    if got is not None and got[0] is framework:
        return got[1]
    names: dict[str, str] = {}
    for ind in framework.indicators:
        for form in (ind.title, f"{ind.id} {ind.title}", ind.id):
            names[slug(form)] = ind.id
    _NAMES[id(framework)] = (framework, names)
    return names


def _heading_keys(doc: Document) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """(heading path, the slugs its own heading may match: as written, and without its numbering)."""
    paths = list(doc.headings) or sorted({p.heading_path[:k] for p in doc.passages
                                          for k in range(1, len(p.heading_path) + 1)})
    out = []
    for path in paths:
        if not path:
            continue
        bare = _NUMBERING.sub("", path[-1], count=1)
        out.append((path, (slug(path[-1]),) + ((slug(bare),) if bare != path[-1] else ())))
    return out


def indicator_sections(doc: Document, framework: Framework,
                       keys: list[tuple[tuple[str, ...], tuple[str, ...]]] | None = None
                       ) -> dict[str, tuple[int, ...]]:
    """indicator id -> the passages of every section whose own heading names it (subsections
    included; an empty section gives an empty tuple)."""
    names = heading_names(framework)
    found: dict[str, set[int]] = {}
    for path, forms in keys if keys is not None else _heading_keys(doc):
        iid = next((names[f] for f in forms if f in names), None)
        if iid is None:
            continue
        n = len(path)
        found.setdefault(iid, set()).update(p.index for p in doc.passages if p.heading_path[:n] == path)
    return {iid: tuple(sorted(ix)) for iid, ix in found.items()}


def laid_out_by_indicator(doc: Document, frameworks: list[Framework]) -> Document:
    """The document with `answers` for each framework whose indicators its headings name (see the
    module note); itself when none is (or when it already is a questionnaire)."""
    if doc.answers is not None:
        return doc
    keys = _heading_keys(doc)
    if len(keys) < MIN_NAMED:
        return doc
    answers: dict[str, tuple[int, ...]] = {}
    for fw in frameworks:
        sections = indicator_sections(doc, fw, keys)
        if len(sections) >= max(MIN_NAMED, math.ceil(MIN_SHARE * len(fw.indicators))):
            answers.update({slug(iid): ix for iid, ix in sections.items()})
    return replace(doc, answers=answers) if answers else doc
