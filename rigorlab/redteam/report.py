"""The campaign's self-contained HTML report, on rigorlab's one base template.

Everything that came from a target (responses, and prompts that may quote
them) is escaped by the template's autoescaping; the proving span is
highlighted by slicing the escaped text, never by inserting raw markup.
"""

from __future__ import annotations

from typing import Any

from rigorlab.html import render_page

CSS = """.grid td,.grid th{border-bottom:1px solid #ddd}.tr{border-left:3px solid #ccc;padding-left:.6em}
.m pre{white-space:pre-wrap;margin:.1em 0 .5em;font:12px/1.4 ui-monospace,monospace}.role{font-weight:600;font-size:11px;
text-transform:uppercase;color:#5f6368}.m.assistant pre{background:#f6f8fa}mark{background:#ffd54f}"""


def render_report(results: dict[str, Any]) -> str:
    """HTML for a results.json dict."""
    return render_page(f"Red-team campaign: {results['campaign']}", "redteam_report.html",
                       package="rigorlab.redteam", css=CSS, r=results)
