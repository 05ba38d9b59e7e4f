"""A self-contained HTML audit report: inline CSS, no scripts, no external requests.

Document text is untrusted. Every quoted string goes through `html.escape`;
keyword highlighting splits the raw text first and escapes each piece, so
no markup from the card ever reaches the page; and a Content-Security-Policy
forbids scripts outright as a second line of defence.
"""

from __future__ import annotations

import html
import re

from rigorlab.disclosure.audit.document import format_location
from rigorlab.disclosure.audit.engine import FMTI_CREDIT, AuditRun
from rigorlab.disclosure.audit.judge import Finding
from rigorlab.disclosure.audit.scoring import gaps

_CSS = """
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


def esc(text: object) -> str:
    return html.escape(str(text if text is not None else ""), quote=True)


def highlight(text: str, matched: list[str]) -> str:
    """Escape `text`, wrapping words that start with a matched keyword token in <mark>."""
    stems = sorted({t for phrase in matched for t in phrase.split() if len(t) > 2}, key=len, reverse=True)
    if not stems:
        return esc(text)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + r")\w*", re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        out.append(esc(text[pos:m.start()]))
        out.append(f"<mark>{esc(m.group(0))}</mark>")
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out)


def _finding_row(f: Finding) -> str:
    ev = highlight(f.evidence, f.matched) if f.evidence else "<span class='muted'>\u2014</span>"
    loc = esc(format_location(f.location)) if f.location else ""
    return (f"<tr class='{f.level}'><td>{esc(f.id)}</td><td>{esc(f.title)}</td>"
            f"<td class='lvl {f.level}'>{f.level}</td><td><span class='ev'>{ev}</span>"
            f"<div class='loc'>{loc}</div><div class='loc'>{esc(f.reason)}</div></td></tr>")


def render_html(run: AuditRun, agenda_html: str | None = None) -> str:
    parts = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
             "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">",
             "<meta name='viewport' content='width=device-width,initial-scale=1'>",
             "<title>Disclosure audit</title><style>", _CSS, "</style></head><body>",
             "<h1>Disclosure audit</h1>",
             "<p>Frameworks: " + ", ".join(f"{esc(f.title)} (<code>{esc(f.id)}</code> {esc(f.version)})"
                                           for f in run.frameworks) + ".</p>",
             "<p class='muted'>disclosed = specific and checkable; vague = mentioned without checkable substance; "
             "absent = not found. Score = weighted share disclosed (0-100); the yellow part of a bar is vague.</p>"]
    for doc in run.documents:
        parts.append(f"<h2>{esc(doc.title)}</h2><p class='loc'>{esc(doc.document)} ({esc(doc.kind)})</p>")
        parts += [f"<p class='note'>{esc(n)}</p>" for n in doc.notices]
        parts.append("<table><tr><th>framework</th><th>score</th><th></th><th>disclosed</th><th>vague</th>"
                     "<th>absent</th></tr>")
        for s in doc.scores:
            parts.append(
                f"<tr><td>{esc(s.title)} <code>{esc(s.id)}</code></td><td class='num'>{s.score:.0f}</td>"
                f"<td><span class='bar' style='width:{s.score * 1.5:.0f}px'></span><span class='bar barv' "
                f"style='width:{(s.mentioned - s.score) * 1.5:.0f}px'></span></td><td class='num'>{s.disclosed}</td>"
                f"<td class='num'>{s.vague}</td><td class='num'>{s.absent}</td></tr>")
        parts.append("</table>")
        for fw in run.frameworks:
            sc = doc.score(fw.id)
            mine = [f for f in doc.findings if f.framework == fw.id]
            head = f"{esc(fw.title)}: {sc.score:.0f}/100" if sc else esc(fw.title)
            parts.append(f"<details open><summary>{head}</summary>")
            if sc and sc.sections:
                parts.append("<p class='muted'>" + "; ".join(f"{esc(s.title)} {s.score:.0f}" for s in sc.sections)
                             + "</p>")
            parts.append("<table><tr><th>id</th><th>indicator</th><th>level</th><th>evidence and location</th></tr>")
            parts += [_finding_row(f) for f in mine]
            parts.append("</table></details>")
        g = gaps(doc.findings)
        if g:
            parts.append(f"<details><summary>Gaps ({len(g)}, heaviest first)</summary><ul>")
            parts += [f"<li><code>{esc(f.framework)}</code> <b>{esc(f.id)}</b> {esc(f.title)}: "
                      f"<span class='{f.level}'>{f.level}</span></li>" for f in g]
            parts.append("</ul></details>")
    if run.skipped:
        parts.append("<h2>Not audited</h2><ul>" + "".join(f"<li>{esc(s['reason'])}</li>" for s in run.skipped)
                     + "</ul>")
    if agenda_html:
        parts.append(agenda_html)
    parts.append(f"<p class='muted'>{esc(FMTI_CREDIT)}</p></body></html>\n")
    return "".join(parts)
