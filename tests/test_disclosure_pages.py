"""The disclosure pages (audit report, agenda, comparison, rendered card) on the shared HTML shell."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from markupsafe import Markup

from rigorlab.disclosure.audit import AuditRun, audit_paths
from rigorlab.disclosure.audit.agenda import agenda_html, build_agenda, load_agenda
from rigorlab.disclosure.audit.compare import compare_html
from rigorlab.disclosure.audit.html_report import highlight, render_html
from rigorlab.disclosure.documents.card_render import render_card
from rigorlab.disclosure.documents.card_template import init_card, load_card
from rigorlab.html import CSP

EVIL = "<script>alert(1)</script><img src=x onerror=alert(2)>"
# Markdown drops raw tags, so the card spells them as entities: the reader turns them into text.
CARD = f"""# Model {html.escape(EVIL)}

## Training data

We trained on 2T tokens of web text {html.escape(EVIL)} filtered with a quality classifier; the training data
sources are listed at https://example.org/data and deduplicated with MinHash.
"""


def _audit(tmp_path: Path, frameworks: str) -> AuditRun:
    p = tmp_path / "evil.md"
    p.write_text(CARD, encoding="utf-8")
    return audit_paths([p], frameworks)


def _is_safe_page(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<link" not in page.lower()


def test_highlight_escapes_every_piece_and_marks_keywords() -> None:
    out = highlight("<b>training data</b> & more", ["training data"])
    assert isinstance(out, Markup)
    assert str(out) == "&lt;b&gt;<mark>training</mark> <mark>data</mark>&lt;/b&gt; &amp; more"
    assert str(highlight("a <i>b</i>", [])) == "a &lt;i&gt;b&lt;/i&gt;"


def test_audit_report_and_agenda_escape_document_text(tmp_path: Path) -> None:
    run = _audit(tmp_path, "ddt")
    agenda = load_agenda()
    fragment = agenda_html([build_agenda(d, run.frameworks, agenda) for d in run.documents], agenda)
    assert isinstance(fragment, Markup) and "Multi-Stakeholder Action Agenda" in fragment
    page = render_html(run, fragment)
    _is_safe_page(page)
    assert page.count("<h2>Multi-Stakeholder Action Agenda</h2>") == 1   # the fragment is not escaped twice
    assert EVIL in html.unescape(page)                                  # quoted, as text
    assert "<mark>" in page and "<details open><summary>" in page


def test_comparison_page_escapes_titles(tmp_path: Path) -> None:
    page = compare_html(_audit(tmp_path, "ddt,aad"))
    _is_safe_page(page)
    assert "<th>ddt</th><th>aad</th>" in page
    m = re.search(r'<td class="num">(\d+) <span class="muted">\((\d+)\)</span></td>', page)
    assert m and int(m.group(2)) == 1
    assert EVIL in html.unescape(page)


def test_rendered_card_page_escapes_answers_and_metadata(tmp_path: Path) -> None:
    text = init_card("model", ["hf-model-card"], name=f"m{EVIL}")
    text = re.sub(r"^(\s+)model_summary:\s*$", lambda m: f"{m.group(1)}model_summary: {json.dumps(EVIL)}",
                  text, count=1, flags=re.M)
    p = tmp_path / "card.yaml"
    p.write_text(text)
    page = render_card(load_card(p), "html")
    _is_safe_page(page)
    assert html.unescape(page).count(EVIL) >= 2     # the title and the answer
    assert '<div class="missing">' in page         # unanswered sections keep their marker
