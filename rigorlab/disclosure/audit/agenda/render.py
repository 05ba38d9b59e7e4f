"""The agenda as Markdown (a document people read) and JSON-ready data.

Grouped by audience, highest priority first; every action names the
indicator that triggered it and quotes the evidence (escaped: the evidence
comes from the audited document).
"""

from __future__ import annotations

import html
from typing import Any

from markupsafe import Markup

from rigorlab.disclosure.audit.agenda.build import DocumentAgenda
from rigorlab.disclosure.audit.agenda.schema import Agenda
from rigorlab.disclosure.audit.document import format_location

FIELD_LABEL = {"require": "Require", "question": "Ask", "proof": "At proof", "obligation": "Obligation",
               "request": "Request", "write": "Write", "snippet": "Template", "measure": "Measure",
               "workaround": "Work around"}


def _md(text: Any) -> str:
    return html.escape(" ".join(str(text or "").split()), quote=False).replace("|", "\\|")


def repeats_label(field: str, text: str) -> bool:
    """Whether an action's text already starts with its field's label word ("Require ...")."""
    label = FIELD_LABEL.get(field, "")
    return bool(label) and text.split(" ", 1)[0].lower() == label.split(" ", 1)[0].lower()


def agenda_json(agendas: list[DocumentAgenda]) -> list[dict[str, Any]]:
    return [a.to_dict() for a in agendas]


def _reach_line(a: DocumentAgenda) -> str:
    r = a.reach
    parts = [f"open weights: {'yes' if r.open_weights else 'no'} ({r.sources.get('open_weights')})",
             f"size: {r.params_billion:g}B parameters ({r.sources.get('params_billion')})" if r.params_billion
             else "size: unknown",
             f"users: {r.users_million:g}M ({r.sources.get('users_million')})" if r.users_million else "users: unknown"]
    return f"Release reach x{r.factor:.2f} — " + "; ".join(parts) + "."


def agenda_markdown(agendas: list[DocumentAgenda], agenda: Agenda, per_audience: int = 12) -> str:
    """Markdown: per document, per audience, the top `per_audience` actions (all are in the JSON)."""
    out = ["## Multi-Stakeholder Action Agenda", "",
           f"{_md(agenda.description)} Priority = indicator weight x release reach x (1.0 absent, "
           f"{agenda.reach.vague_factor:g} vague).", ""]
    for a in agendas:
        counts = {lbl: sum(i.priority_label == lbl for i in a.items) for lbl in ("high", "medium", "low")}
        out += [f"### {_md(a.title)} (`{_md(a.document)}`)", "", _reach_line(a),
                f"{len(a.items)} gaps: {counts['high']} high, {counts['medium']} medium, {counts['low']} low priority.", ""]
        for aud in agenda.audiences:
            rows = a.by_audience(aud.id)
            if not rows:
                continue
            out += [f"#### {_md(aud.title)}", "", f"_{_md(aud.description)}_", ""]
            for item, acts in rows[:per_audience]:
                ev = f" Evidence: \u201c{_md(item.evidence[:160])}\u201d ({_md(format_location(item.location))})." \
                    if item.evidence else " Evidence: nothing found."
                title = "" if item.title == item.id else f" {_md(item.title)}"   # FMTI: the id is the title
                check = ", check by hand first" if item.sure is False else ""
                out.append(f"- **[{item.priority_label} {item.priority:.2f}] `{_md(item.framework)}` {_md(item.id)}"
                           f"{title}** ({item.level}{check}).{ev}")
                for k, v in acts.items():
                    if k == "snippet":   # code fence: shown verbatim, so only a fence inside must be defused
                        body = "\n".join("    " + line.replace("```", "\u02cb\u02cb\u02cb") for line in v.splitlines())
                        out.append(f"  - {FIELD_LABEL[k]}:\n\n    ```text\n{body}\n    ```\n")
                    elif repeats_label(k, v):   # "Require the information ...", not "Require: Require ..."
                        out.append(f"  - {_md(v)}")
                    else:
                        out.append(f"  - {FIELD_LABEL[k]}: {_md(v)}")
            if len(rows) > per_audience:
                out.append(f"- \u2026 {len(rows) - per_audience} more actions for this audience in the JSON output.")
            out.append("")
    return "\n".join(out)


def agenda_html(agendas: list[DocumentAgenda], agenda: Agenda, per_audience: int = 12) -> Markup:
    """The agenda as an HTML fragment of the audit report (templates/agenda.html, autoescaped)."""
    from rigorlab.disclosure.audit.html_report import TEMPLATES
    from rigorlab.html import environment

    return Markup(environment(TEMPLATES).get_template("agenda.html").render(
        agendas=agendas, agenda=agenda, per_audience=per_audience, labels=FIELD_LABEL, repeats_label=repeats_label, reach_line=_reach_line,
        location=format_location))
