"""A report laid out by indicator (the FMTI's CSV): each answer judged alone, against its own indicator."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.disclosure.audit.document import DocumentError
from rigorlab.disclosure.audit.engine import Auditor, markdown_document, resolve_frameworks
from rigorlab.disclosure.audit.questionnaire import read_questionnaire
from rigorlab.disclosure.audit.reader import collect_paths, read_document

SIZE = ("The model was pre-trained on 15 trillion tokens (15T tokens) of text, about 60 TB after "
        "deduplication; the data size per source is in Table 2.")
ROWS = [
    # the data-size answer is empty; the justification and score columns say otherwise and must be ignored
    ("Data size", "", "Discloses 15T tokens of training data.", "1"),
    ("Compute provider", "Trained on Google Cloud TPU v5p pods (https://cloud.google.com/tpu), "
                         "rented from Google Cloud Platform.", "ok", "1"),
    ("Public datasets", SIZE, "about size, not datasets", "0"),
]


def _csv(rows: list[tuple[str, ...]], header: tuple[str, ...] = ("Indicator", "Disclosure", "Justification", "Score")
         ) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _levels(doc) -> dict[str, str]:
    audit = Auditor(resolve_frameworks("fmti-2025")).audit_document(doc)
    return {f.id: f.level for f in audit.findings}


def test_reads_only_indicator_and_answer_columns_with_row_lines() -> None:
    doc = read_questionnaire(_csv(ROWS), "r.csv")
    assert doc.kind == "questionnaire"
    assert doc.answer_for("Data size") == ()                       # row present, answer empty
    assert doc.answer_for("Some indicator with no row") is None
    texts = [p.text for p in doc.passages]
    assert len(texts) == 2 and not any("Justification" in t or "15T tokens of training" in t for t in texts)
    (j,) = doc.answer_for("Compute provider")
    assert doc.passages[j].heading_path == ("Compute provider",) and doc.passages[j].line_start == 3


def test_an_empty_answer_is_absent_even_when_another_row_names_its_facts() -> None:
    q = _levels(read_questionnaire(_csv(ROWS), "r.csv"))
    assert q["Data size"] == "absent"
    assert q["Compute provider"] == "disclosed"
    # the same answers as one plain document: retrieval credits data size with the other row's facts
    plain = "\n\n".join(a for _, a, _, _ in ROWS if a)
    assert _levels(markdown_document(plain))["Data size"] == "disclosed"


def test_each_answer_is_judged_without_its_keywords_and_unanswered_indicators_as_in_a_card() -> None:
    rows = [("Compute provider", "Google Cloud TPU v5p pods (https://cloud.google.com/tpu).", "", "")]
    doc = read_questionnaire(_csv(rows), "r.csv")
    audit = Auditor(resolve_frameworks("fmti-2025,ddt")).audit_document(doc)
    got = {(f.framework, f.id): f for f in audit.findings}
    f = got[("fmti-2025", "Compute provider")]
    assert f.level != "absent" and f.location["heading"] == "Compute provider"
    assert "TPU v5p" in f.evidence
    # DDT has no row here: judged on the whole document, as a card would be
    assert all(f.level in ("disclosed", "vague", "absent") for k, f in got.items() if k[0] == "ddt")


@pytest.mark.parametrize("text, says", [
    ("Name,Value\nx,y\n", "without an indicator column"),
    ("Indicator,Notes\nData size,x\n", "without an answer column"),
    ("Indicator,Answer\n", "no indicator rows"),
    ("Indicator,Answer\nData size,\nCrawling,  \n", "every answer"),
    ("", "no header row"),
])
def test_bad_questionnaires_are_one_sentence(text: str, says: str) -> None:
    with pytest.raises(DocumentError, match=says) as exc:
        read_questionnaire(text, "bad.csv")
    assert "bad.csv" in str(exc.value) and "\n" not in str(exc.value)


def test_cli_reads_a_named_csv_and_a_folder_skips_csv(tmp_path: Path, capsys) -> None:
    (tmp_path / "r.csv").write_text(_csv(ROWS), encoding="utf-8")
    (tmp_path / "card.md").write_text("# Card\n\nTrained on Google Cloud TPUs.\n", encoding="utf-8")
    files, _ = collect_paths([tmp_path])
    assert [f.name for f in files] == ["card.md"]
    assert read_document(tmp_path / "r.csv").kind == "questionnaire"
    assert main(["audit", str(tmp_path / "r.csv"), "--framework", "fmti-2025", "--format", "json"]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["audit", str(bad), "--framework", "fmti-2025"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and "Traceback" not in err


def test_the_llm_judge_is_shown_only_the_indicators_own_answer() -> None:
    from rigorlab.disclosure.audit.classifier import load_model
    from rigorlab.disclosure.audit.judge import prepare
    from rigorlab.disclosure.audit.llm_judge import retrieve
    from rigorlab.disclosure.audit.retrieval import PassageIndex
    from rigorlab.disclosure.frameworks import load_framework

    doc = read_questionnaire(_csv(ROWS), "r.csv")
    preps = {p.indicator.id: p for p in prepare(load_framework("fmti-2025"), load_model())}
    findings = {f.id: f for f in Auditor(resolve_frameworks("fmti-2025")).audit_document(doc).findings}
    index = PassageIndex(doc)
    shown = retrieve(doc, index, preps["Compute provider"], findings["Compute provider"])
    assert len(shown) == 1 and shown[0].startswith("(section: Compute provider)\n") and "TPU v5p" in shown[0]
    assert retrieve(doc, index, preps["Data size"], findings["Data size"]) == []     # its answer is empty
