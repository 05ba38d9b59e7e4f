"""The HTML audit report, on rigorlab's one page shell (`rigorlab.html`).

Document text is untrusted. The template autoescapes every string; keyword
highlighting splits the raw text first and escapes each piece, so no markup
from the card ever reaches the page; and the shell's Content-Security-Policy
forbids scripts and fetches outright as a second line of defence.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

from rigorlab.disclosure.audit.document import format_location
from rigorlab.disclosure.audit.engine import FMTI_CREDIT, AuditRun
from rigorlab.disclosure.audit.scoring import gaps
from rigorlab.html import render_page

TEMPLATES = "rigorlab.disclosure.audit"   # the package whose templates/ holds this report's pages

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;width:100%;margin:.6em 0 1.2em}th,td{border:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}
th{background:#f5f5f5}td.num{text-align:right}.lvl{font-weight:600;white-space:nowrap}
.disclosed{color:#17692b}.vague{color:#8a6100}.absent{color:#a31515}
tr.disclosed td:first-child{border-left:4px solid #2e9e4f}tr.vague td:first-child{border-left:4px solid #e0a800}
tr.absent td:first-child{border-left:4px solid #d64545}
mark{background:#fff0a0;padding:0 .1em}.ev{font-family:Georgia,serif}.loc{color:#666;font-size:.9em}
.bar{display:inline-block;height:.7em;background:#2e9e4f;vertical-align:middle}.barv{background:#e0a800}
.note{background:#fff8e1;border-left:4px solid #e0a800;padding:.3em .6em}.muted{color:#666}
details{margin:.4em 0}summary{cursor:pointer;font-weight:600}
"""


def highlight(text: str, matched: list[str]) -> Markup:
    """Escape `text`, wrapping words that start with a matched keyword token in <mark>."""
    stems = sorted({t for phrase in matched for t in phrase.split() if len(t) > 2}, key=len, reverse=True)
    if not stems:
        return escape(text)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + r")\w*", re.IGNORECASE)
    out, pos = Markup(), 0
    for m in pattern.finditer(text):
        out += escape(text[pos:m.start()]) + Markup("<mark>%s</mark>") % m.group(0)
        pos = m.end()
    return out + escape(text[pos:])


def render_html(run: AuditRun, agenda_html: Markup | None = None) -> str:
    """The whole report as one self-contained page; `agenda_html` is the agenda fragment, if any."""
    return render_page("Disclosure audit", "audit_report.html", package=TEMPLATES, css=CSS, run=run,
                       agenda=agenda_html or "", credit=FMTI_CREDIT, highlight=highlight,
                       location=format_location, gaps=gaps)
