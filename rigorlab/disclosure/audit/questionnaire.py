"""A transparency report laid out by indicator: one CSV row per indicator with its answer (the FMTI's layout).

Why: in a questionnaire the developer answers each indicator in its own slot, and the FMTI's scorers
judge each answer alone. Read like a card, retrieval would let a neighbouring row's facts stand in
for an empty answer (the commonest error of the auditor on the FMTI reports laid out as one Markdown
document). So each answer becomes one passage under a heading naming its indicator, and
`Document.answers` maps the indicator to it: the judge reads only that answer (an empty answer is
absent); an indicator the report has no row for is judged on the whole document, as in a card.

Only the indicator and answer columns are read: the FMTI's own justification and score columns
never reach the auditor.
"""

from __future__ import annotations

import csv
import io

from rigorlab.disclosure.audit.document import Document, DocumentError, Passage
from rigorlab.disclosure.audit.markdown import clean_inline
from rigorlab.disclosure.frameworks.schema import slug

INDICATOR_COLUMNS = ("indicator", "indicator id", "id", "item", "question")
ANSWER_COLUMNS = ("disclosure", "answer", "response")


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [h.strip().lower() for h in header]
    for name in names:
        if name in folded:
            return folded.index(name)
    return None


def read_questionnaire(text: str, name: str) -> Document:
    """The CSV report as a Document with `answers`; a file without an indicator and an answer column,
    or that is not CSV, is a DocumentError naming it."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if not header:
            raise DocumentError(f"{name} has no header row; a CSV report needs an indicator and an answer column.")
        ci, ca = _column(header, INDICATOR_COLUMNS), _column(header, ANSWER_COLUMNS)
        if ci is None or ca is None:
            missing = "an indicator column (" + ", ".join(INDICATOR_COLUMNS) + ")" if ci is None else \
                      "an answer column (" + ", ".join(ANSWER_COLUMNS) + ")"
            raise DocumentError(f"{name} is a CSV without {missing}; its columns are "
                                + ", ".join(repr(h) for h in header) + ".")
        passages: list[Passage] = []
        answers: dict[str, tuple[int, ...]] = {}
        last = reader.line_num
        for row in reader:
            start, last = last + 1, reader.line_num
            indicator = row[ci].strip() if len(row) > ci else ""
            if not indicator:
                continue
            answer = clean_inline(row[ca].strip()) if len(row) > ca else ""
            key = slug(indicator)
            got = answers.setdefault(key, ())
            if answer.strip():
                passages.append(Passage(index=len(passages), text=answer.strip(), heading_path=(indicator,),
                                        line_start=start, line_end=last, kind="text"))
                answers[key] = got + (len(passages) - 1,)
    except csv.Error as exc:
        raise DocumentError(f"{name} is not a readable CSV (line {reader.line_num}: {exc}).") from exc
    if not answers:
        raise DocumentError(f"{name} has a header but no indicator rows.")
    if not passages:
        raise DocumentError(f"{name}: every answer in its answer column '{header[ca].strip()}' is empty.")
    return Document(path=name, kind="questionnaire", passages=passages, n_lines=text.count("\n") + 1,
                    answers=answers)
