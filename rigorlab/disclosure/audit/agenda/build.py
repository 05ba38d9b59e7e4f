"""Build the action agenda from an audit's gaps.

Every vague or absent finding becomes one item with an action for each of
the four audiences, taken from the most specific rule of the agenda file
that defines it (indicator > section > framework > default), filled with
the indicator's own wording and the evidence that triggered it.

priority = indicator weight x release reach x level factor (absent 1.0, vague 0.6)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rigorlab.disclosure.audit.agenda.reach import Reach, detect_reach
from rigorlab.disclosure.audit.agenda.schema import Agenda, Rule
from rigorlab.disclosure.frameworks.loader import FRAMEWORK_DIR
from rigorlab.disclosure.frameworks.schema import Framework
from rigorlab.disclosure.frameworks.yamlio import load_yaml_model
from rigorlab.errors import UserError

AGENDA_PATH = FRAMEWORK_DIR / "msaa.yaml"
AUDIENCE_FIELDS = {
    "publishers": ("require", "question", "proof"),
    "policymakers": ("obligation", "request"),
    "developers": ("write", "snippet", "measure"),
    "researchers": ("workaround",),
}


def load_agenda(path: str | Path | None = None) -> Agenda:
    """The packaged MSAA, or a user's own agenda file with the same schema."""
    if path is None:
        return _packaged()
    p = Path(path)
    if not p.is_file():
        raise UserError(f"agenda file {p} does not exist.")
    return load_yaml_model(p, Agenda)


@lru_cache(maxsize=1)
def _packaged() -> Agenda:
    return load_yaml_model(AGENDA_PATH, Agenda)


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str | None, values: dict[str, str]) -> str | None:
    if template is None:
        return None
    try:
        return template.format_map(_SafeDict(values)).strip()
    except (ValueError, IndexError):  # a stray brace in a user's template: show it unfilled
        return template.strip()


def _applies(rule: Rule, framework: str, section: str, indicator: str) -> bool:
    m = rule.match
    if m.framework not in ("*", framework):
        return False
    if m.section is not None and m.section != section:
        return False
    return m.indicator is None or m.indicator == indicator


def resolve_actions(agenda: Agenda, framework: str, section: str, indicator: str,
                    values: dict[str, str]) -> dict[str, dict[str, str]]:
    """Audience -> {field: filled text}, each field from the most specific rule defining it."""
    rules = sorted((r for r in agenda.rules if _applies(r, framework, section, indicator)),
                   key=lambda r: -r.specificity())          # stable: file order within one level
    out: dict[str, dict[str, str]] = {}
    for audience, fields in AUDIENCE_FIELDS.items():
        got: dict[str, str] = {}
        for f in fields:
            for r in rules:
                block = getattr(r, audience)
                text = getattr(block, f) if block is not None else None
                if text:
                    got[f] = _fill(text, values) or ""
                    break
        if got:
            out[audience] = got
    return out


@dataclass
class AgendaItem:
    document: str
    framework: str
    id: str
    title: str
    level: str
    weight: float
    priority: float
    priority_label: str
    evidence: str
    location: dict[str, Any] | None
    actions: dict[str, dict[str, str]] = field(default_factory=dict)
    sure: bool | None = None      # the finding's sure mark: False means check the gap by hand before acting on it

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class DocumentAgenda:
    document: str
    title: str
    reach: Reach
    items: list[AgendaItem]

    def to_dict(self) -> dict[str, Any]:
        return {"document": self.document, "title": self.title, "reach": self.reach.to_dict(),
                "items": [i.to_dict() for i in self.items]}

    def by_audience(self, audience: str) -> list[tuple[AgendaItem, dict[str, str]]]:
        return [(i, i.actions[audience]) for i in self.items if audience in i.actions]


def build_agenda(audit: Any, frameworks: list[Framework], agenda: Agenda | None = None,
                 open_weights: bool | None = None, params_billion: float | None = None,
                 users_million: float | None = None) -> DocumentAgenda:
    """The agenda for one `DocumentAudit`: every gap, prioritised, with its four audiences' actions."""
    agenda = agenda or load_agenda()
    reach = detect_reach(audit.front_matter, audit.text, agenda.reach, open_weights, params_billion, users_million)
    fws = {fw.id: fw for fw in frameworks}
    items: list[AgendaItem] = []
    for f in audit.findings:
        if f.level == "disclosed":
            continue
        fw = fws.get(f.framework)
        ind = fw.indicator(f.id) if fw else None
        level_factor = agenda.reach.absent_factor if f.level == "absent" else agenda.reach.vague_factor
        priority = round(f.weight * reach.factor * level_factor, 3)
        label = ("high" if priority >= agenda.reach.high else "medium" if priority >= agenda.reach.medium else "low")
        values = {
            "id": f.id, "title": f.title, "question": ind.question if ind else f.title,
            "framework": f.framework, "framework_title": fw.title if fw else f.framework,
            "section": f.section, "section_title": fw.section_title(f.section) if fw else f.section,
            "level": f.level, "document": audit.document,
            "evidence": f.evidence or "(nothing found)",
        }
        items.append(AgendaItem(
            document=audit.document, framework=f.framework, id=f.id, title=f.title, level=f.level,
            weight=f.weight, priority=priority, priority_label=label, evidence=f.evidence, location=f.location,
            actions=resolve_actions(agenda, f.framework, f.section, f.id, values), sure=f.sure,
        ))
    items.sort(key=lambda i: (-i.priority, i.framework, i.id))
    return DocumentAgenda(document=audit.document, title=audit.title, reach=reach, items=items)
