"""Multi-Stakeholder Action Agenda: from audit gaps to prioritised actions per audience.

The actions are data (`rigorlab/disclosure/frameworks/msaa.yaml`, schema in
`schema.py`); `build_agenda` ties each action to the gap that triggered it.
"""

from rigorlab.disclosure.audit.agenda.build import AgendaItem, DocumentAgenda, build_agenda, load_agenda
from rigorlab.disclosure.audit.agenda.reach import Reach, detect_reach
from rigorlab.disclosure.audit.agenda.render import agenda_html, agenda_json, agenda_markdown
from rigorlab.disclosure.audit.agenda.schema import Agenda

__all__ = ["Agenda", "AgendaItem", "DocumentAgenda", "Reach", "agenda_html", "agenda_json", "agenda_markdown",
           "build_agenda", "detect_reach", "load_agenda"]
