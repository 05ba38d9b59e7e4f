"""Audit results as a terminal table (rich), JSON and Markdown.

Everything quoted from an audited document is untrusted: in Markdown it is
HTML-escaped and stripped of table/line syntax, so a card containing
`<script>` or `|` cannot inject markup into a report rendered downstream.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rigorlab.disclosure.audit.document import format_location
from rigorlab.disclosure.audit.engine import FMTI_CREDIT, AuditRun, DocumentAudit
from rigorlab.disclosure.audit.scoring import gaps

LEVEL_STYLE = {"disclosed": "green", "vague": "yellow", "absent": "red"}
DASH = "\u2014"
LEVEL_MARK = {"disclosed": "\u2714 disclosed", "vague": "~ vague", "absent": "\u2718 absent"}


def sure_mark(sure: bool | None) -> str:
    """The sure column: sure, check (by hand), or a dash where the learned layer did not judge the finding."""
    return DASH if sure is None else "sure" if sure else "check"


def md_cell(text: Any, limit: int | None = None) -> str:
    """Untrusted text made safe for one Markdown table cell."""
    s = " ".join(str(text if text is not None else "").split())
    if limit and len(s) > limit:
        s = s[: limit - 1].rstrip() + "\u2026"
    # `<` opens a tag and `&name;` an entity: those are escaped; `>` alone is harmless inside a cell
    # and stays readable ("Model Summary > Pre-Training", not "&gt;").
    s = _ENTITY.sub("&amp;", s).replace("<", "&lt;")
    return s.replace("|", "\\|").replace("`", "\\`").replace("[", "\\[")


_ENTITY = re.compile(r"&(?=#?\w+;)")


def shown_title(item: Any) -> str:
    """An indicator's title, or "" where it only repeats the id (FMTI's ids are its titles)."""
    return "" if item.title == item.id else item.title


def _cut(text: str, limit: int) -> str:
    """Keep the start of a location (its outer headings), cut on the right with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def render_json(run: AuditRun, agenda: list[dict] | None = None) -> str:
    data = run.to_dict()
    if agenda is not None:
        data["agenda"] = agenda
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _scores_md(doc: DocumentAudit) -> list[str]:
    out = ["| framework | score | mentioned | disclosed | vague | absent |", "|---|---:|---:|---:|---:|---:|"]
    for s in doc.scores:
        out.append(f"| {md_cell(s.title)} (`{s.id}`) | {s.score:.0f} | {s.mentioned:.0f} | "
                   f"{s.disclosed} | {s.vague} | {s.absent} |")
    return out


def _terms_md(doc: DocumentAudit) -> list[str]:
    """Wording and notation findings, apart from the indicator levels (they say how, not what, is disclosed)."""
    if not doc.terms:
        return []
    out = [f"### Terms and notation ({len(doc.terms)})", ""]
    for t in doc.terms:
        out.append(f"- **{md_cell(t.id)}** ({t.check}): {md_cell(t.message)} Quote: \u201c{md_cell(t.quote, 400)}\u201d "
                   f"({md_cell(format_location(t.location))}).")
    return out + [""]


def render_markdown(run: AuditRun, agenda_md: str | None = None, evidence_chars: int = 240) -> str:
    """One section per document: scores, per-section scores, every finding, then the gaps."""
    lines = ["# Disclosure audit", "",
             f"Frameworks: {', '.join(f'{f.title} (`{f.id}` {f.version})' for f in run.frameworks)}.",
             "Levels: **disclosed** = specific and checkable; **vague** = mentioned without checkable "
             "substance; **absent** = not found. Score = weighted share disclosed (0-100).", ""]
    sentence = run.sure_sentence()
    if sentence:
        lines += [md_cell(sentence), ""]
    for doc in run.documents:
        lines += [f"## {md_cell(doc.title)}", "", f"File: `{md_cell(doc.document)}` ({doc.kind})", ""]
        lines += [f"> note: {md_cell(n)}" for n in doc.notices]
        lines += _scores_md(doc) + [""]
        for fw in run.frameworks:
            sc = doc.score(fw.id)
            mine = [f for f in doc.findings if f.framework == fw.id]
            lines += [f"### {md_cell(fw.title)}: {sc.score:.0f}/100" if sc else f"### {md_cell(fw.title)}", ""]
            if sc and sc.sections:
                lines.append("Sections: " + "; ".join(f"{md_cell(s.title)} {s.score:.0f}" for s in sc.sections) + ".")
                lines.append("")
            lines += ["| id | indicator | level | sure | evidence | location |", "|---|---|---|---|---|---|"]
            for f in mine:
                lines.append(f"| {md_cell(f.id)} | {md_cell(shown_title(f))} | {f.level} | {sure_mark(f.sure)} | "
                             f"{md_cell(f.evidence, evidence_chars) if f.evidence else DASH} | "
                             f"{md_cell(format_location(f.location)) if f.location else DASH} |")
            lines.append("")
        g = gaps(doc.findings)
        if g:
            lines += ["### Gaps (heaviest first)", ""]
            lines += [f"- `{md_cell(f.framework)}` **{md_cell(f.id)}** {md_cell(shown_title(f))}".rstrip() + f": {f.level}"
                      + (" (check by hand)" if f.sure is False else "") for f in g[:40]]
            if len(g) > 40:
                lines.append(f"- \u2026 and {len(g) - 40} more (see the JSON output)")
            lines.append("")
        lines += _terms_md(doc)
    if run.skipped:
        lines += ["## Not audited", ""] + [f"- {md_cell(s['reason'])}" for s in run.skipped] + [""]
    if agenda_md:
        lines += [agenda_md.rstrip(), ""]
    lines += [f"_{md_cell(FMTI_CREDIT)}_", ""]
    return "\n".join(lines)


def render_table(run: AuditRun, console: Any = None, evidence_chars: int = 90) -> None:
    """Rich tables on the terminal: scores, then one row per indicator."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = console or Console()
    for doc in run.documents:
        t = Table(title=f"{escape(doc.title)}  [dim]{escape(doc.document)}[/dim]", title_justify="left")
        for col in ("framework", "score", "mentioned", "disclosed", "vague", "absent"):
            t.add_column(col, justify="left" if col == "framework" else "right")
        for s in doc.scores:
            t.add_row(escape(s.id), f"{s.score:.0f}", f"{s.mentioned:.0f}", str(s.disclosed), str(s.vague), str(s.absent))
        console.print(t)
        for n in doc.notices:
            console.print(f"[yellow]note:[/yellow] {escape(n)}")
        ft = Table(show_lines=False, expand=False)
        for col in ("id", "indicator", "level", "sure", "evidence", "location"):
            ft.add_column(col, overflow="fold")
        for f in doc.findings:
            ev = " ".join(f.evidence.split())
            ev = ev if len(ev) <= evidence_chars else ev[: evidence_chars - 1] + "\u2026"
            loc = f.location or {}
            where = (f"{escape(_cut(loc.get('heading', ''), 40))} "
                     f"L{loc['lines'][0]}-{loc['lines'][1]}" if loc else "")
            ft.add_row(escape(f.id), escape(shown_title(f)), f"[{LEVEL_STYLE[f.level]}]{LEVEL_MARK[f.level]}[/]",
                       sure_mark(f.sure) if f.sure is not False else "[bold]check[/bold]", escape(ev), where.strip())
        console.print(ft)
        if doc.terms:
            tt = Table(title=f"Terms and notation ({len(doc.terms)})", title_justify="left")
            for col in ("check", "quote", "location", "problem"):
                tt.add_column(col, overflow="fold")
            for t in doc.terms:
                loc = t.location
                tt.add_row(escape(t.id), escape(t.quote), f"{escape(_cut(loc.get('heading', ''), 40))} "
                           f"L{loc['lines'][0]}-{loc['lines'][1]}", escape(t.message))
            console.print(tt)
    sentence = run.sure_sentence()
    if sentence:
        console.print(escape(sentence))
    for s in run.skipped:
        console.print(f"[red]not audited:[/red] {escape(s['reason'])}")
