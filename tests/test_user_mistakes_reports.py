"""Cosmetic faults of the audit reports (issue 16): `&gt;` in Markdown locations, "Require: Require",
locations cut from the left in the table view, FMTI rows repeating their id as the title."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.disclosure.audit.agenda.render import repeats_label
from rigorlab.disclosure.audit.render import _cut, md_cell

CARD = """# Demo model card

## Training data
### Sources > web crawl
The model was trained on 2T tokens of filtered Common Crawl and GitHub code, collected in 2024.

## Evaluation
We report GSM8K accuracy of 71.2% (8-shot) and MATH 40.1%.
"""


@pytest.fixture
def card(tmp_path: Path) -> Path:
    p = tmp_path / "card.md"
    p.write_text(CARD, encoding="utf-8")
    return p


def test_md_cell_escapes_what_opens_markup_only():
    assert md_cell("A > B") == "A > B"
    assert md_cell("<script>x</script>") == "&lt;script>x&lt;/script>"
    assert md_cell("AT&T &amp; co") == "AT&T &amp;amp; co"       # an entity cannot be smuggled in
    assert md_cell("a|b") == "a\\|b"


def test_markdown_locations_keep_their_separator(card, capsys):
    assert main(["audit", str(card), "--framework", "ddt", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "&gt;" not in md and "Training data > Sources > web crawl" in md


def test_agenda_does_not_repeat_its_labels(card, capsys):
    assert repeats_label("require", "Require a data-source inventory") and not repeats_label("require", "A table")
    assert main(["audit", str(card), "--framework", "fmti-2025,ddt", "--agenda", "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "Require: Require" not in md and "Ask: Ask" not in md
    assert "  - Require " in md                      # the action is still there, once


def test_fmti_rows_do_not_repeat_the_id_as_title(card, capsys):
    assert main(["audit", str(card), "--framework", "fmti-2025", "--format", "md"]) == 0
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| ") and " | " in r]
    cells = [[c.strip() for c in r.strip("|").split(" | ")] for r in rows]
    findings = [c for c in cells if len(c) == 6 and c[0] not in ("id",)]
    assert len(findings) > 50
    assert all(c[0] != c[1] for c in findings)


def test_table_locations_are_cut_on_the_right():
    heading = "6. How to Run Locally > 6.1 Inference with DeepSeek-Infer Demo > System Requirements"
    short = _cut(heading, 40)
    assert short.startswith("6. How to Run Locally") and short.endswith("\u2026") and len(short) == 40
    assert _cut("Intro", 40) == "Intro"
