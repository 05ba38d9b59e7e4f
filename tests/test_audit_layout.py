"""A Markdown report laid out by indicator (headings name the indicators): each section is that
indicator's answer, an empty section is an empty answer; a card with a few such headings is still a card."""

from __future__ import annotations

from pathlib import Path

from rigorlab.disclosure.audit.engine import Auditor, markdown_document, resolve_frameworks
from rigorlab.disclosure.audit.layout import heading_names, indicator_sections, laid_out_by_indicator
from rigorlab.disclosure.audit.markdown import split_markdown
from rigorlab.disclosure.audit.reader import read_document
from rigorlab.disclosure.frameworks import load_framework

SIZE_FACTS = ("The corpus totals 15 trillion tokens: 11T tokens of web text, 3T tokens of code and 1T tokens "
              "of scientific papers, about 60 TB after deduplication.")

REPORT = f"""# Data transparency report

## DDT-1.1 Inventory of sources with type
Web crawl (Common Crawl snapshots 2019-2023), public GitHub repositories, arXiv papers and Wikipedia.

## 1.2 Size per source and in total

## Collection time frame and knowledge cut-off
Crawled between January 2022 and June 2023; the knowledge cut-off is June 2023.

## Languages, domains, modalities
English text 92%, source code 8% (Python, C++, Java).

## DDT-3.1: Cleaning and filtering
Documents were filtered with a fastText quality classifier and URL blocklists. {SIZE_FACTS}
"""


def _levels(doc) -> dict[str, object]:
    audit = Auditor(resolve_frameworks("ddt"), exemplars=False).audit_document(doc)
    return {f.id: f for f in audit.findings}


def test_split_markdown_records_every_heading_empty_sections_included() -> None:
    heads: list[tuple[str, ...]] = []
    split_markdown(REPORT, heads)
    assert ("Data transparency report", "1.2 Size per source and in total") in heads
    assert len(heads) == 6


def test_headings_name_indicators_by_id_title_or_numbered_title() -> None:
    names = heading_names(load_framework("ddt"))
    doc = markdown_document(REPORT)
    sections = indicator_sections(doc, load_framework("ddt"))
    assert set(sections) == {"DDT-1.1", "DDT-1.2", "DDT-1.3", "DDT-1.4", "DDT-3.1"}
    assert sections["DDT-1.2"] == ()                                  # named, nothing under it
    assert names["ddt-1.1"] == "DDT-1.1" and names["inventory-of-sources-with-type"] == "DDT-1.1"


def test_an_empty_section_is_absent_though_another_section_holds_its_facts() -> None:
    laid_out = _levels(markdown_document(REPORT))
    assert laid_out["DDT-1.2"].level == "absent"
    assert "empty" in laid_out["DDT-1.2"].reason
    assert laid_out["DDT-1.1"].level == "disclosed"
    assert "Inventory of sources" in laid_out["DDT-1.1"].location["heading"]
    # the same text with the indicator headings replaced: a card, where the size facts count for DDT-1.2
    card = REPORT
    for h in ("## DDT-1.1 Inventory of sources with type", "## 1.2 Size per source and in total",
              "## Collection time frame and knowledge cut-off", "## Languages, domains, modalities",
              "## DDT-3.1: Cleaning and filtering"):
        card = card.replace(h, "## Training data" if "1.1" in h else "")
    as_card = _levels(markdown_document(card))
    assert as_card["DDT-1.2"].level == "disclosed"


def test_a_file_read_from_disk_is_recognised_too(tmp_path: Path) -> None:
    path = tmp_path / "report.md"
    path.write_text(REPORT, encoding="utf-8")
    doc = read_document(path)
    assert laid_out_by_indicator(doc, [load_framework("ddt")]).answer_for("DDT-1.2") == ()
    assert _levels(doc)["DDT-1.2"].level == "absent"


def test_a_card_with_a_few_indicator_headings_stays_a_card() -> None:
    card = ("# Model card\n\n## Cleaning and filtering\nWe removed boilerplate and near-duplicates.\n\n"
            "## Synthetic data\nNone.\n\n## Training data\n" + SIZE_FACTS + "\n")
    doc = markdown_document(card)
    assert len(indicator_sections(doc, load_framework("ddt"))) == 2
    assert laid_out_by_indicator(doc, [load_framework("ddt")]) is doc
    assert _levels(doc)["DDT-1.2"].level == "disclosed"


def test_layout_is_per_framework() -> None:
    doc = laid_out_by_indicator(markdown_document(REPORT), [load_framework("ddt"), load_framework("aad")])
    assert doc.answer_for("DDT-1.2") == ()
    assert doc.answer_for("AAD-1.1") is None          # no AAD heading: judged on the whole report


def test_an_answer_of_several_passages_is_judged_whole_as_in_the_csv() -> None:
    """The same answer, three paragraphs long, gets the same probability and level under its heading in a
    Markdown report as in the FMTI's CSV (judged whole, as the classifier was fitted; before, each
    paragraph was judged alone and the best kept, 0.365 against 0.335 here)."""
    import csv
    import io

    from rigorlab.disclosure.audit.questionnaire import read_questionnaire

    fw = load_framework("fmti-2025")
    indicators = fw.indicators[:30]             # a quarter of the FMTI's headings: read as laid out by indicator
    target = indicators[3]
    answer = ("We trained on Google Cloud TPU v5p pods.\n\n"
              "The pods were rented from Google Cloud Platform (https://cloud.google.com/tpu) for 3 months.\n\n"
              "About 2,000 chips were used.")
    rows = [(ind.title, answer if ind is target else "Not disclosed.") for ind in indicators]
    md = "# Transparency report\n\n" + "".join(f"## {title}\n\n{text}\n\n" for title, text in rows)
    doc = markdown_document(md, "r.md")
    assert len(laid_out_by_indicator(doc, [fw]).answer_for(target.id, target.title)) == 3
    buf = io.StringIO()
    csv.writer(buf).writerows([("Indicator", "Disclosure"), *rows])
    auditor = Auditor(resolve_frameworks("fmti-2025"))
    in_md = {f.id: f for f in auditor.audit_document(doc).findings}[target.id]
    in_csv = {f.id: f for f in auditor.audit_document(read_questionnaire(buf.getvalue(), "r.csv")).findings}[target.id]
    assert in_md.level == in_csv.level
    assert abs(in_md.confidence - in_csv.confidence) < 1e-12
    assert in_md.location["heading"].endswith(target.title)
