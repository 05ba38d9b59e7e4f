"""Audit any model card, datasheet or paper against disclosure frameworks.

    from rigorlab.disclosure.audit import audit_paths
    run = audit_paths(["README.md"], "ddt,aad")       # AuditRun
    for f in run.documents[0].findings:               # Finding: level, evidence, location
        print(f.id, f.level, f.evidence)

Pipeline: `reader` (Markdown with front matter, text, HTML, PDF) ->
`markdown` (located passages) -> `retrieval` (keyword gate + BM25) ->
`judge` (learned FMTI specificity model + the frameworks' own rules) ->
`scoring` -> renderers (`render`, `html_report`, `compare`). The action
agenda built from the gaps lives in `rigorlab.disclosure.audit.agenda`.
"""

from rigorlab.disclosure.audit.document import Document, DocumentError, Passage, format_location
from rigorlab.disclosure.audit.engine import (
    DEFAULT_FRAMEWORKS, Auditor, AuditRun, DocumentAudit, audit_paths, audit_text, markdown_document,
    resolve_frameworks,
)
from rigorlab.disclosure.audit.judge import Finding
from rigorlab.disclosure.audit.reader import collect_paths, read_document

__all__ = ["DEFAULT_FRAMEWORKS", "AuditRun", "Auditor", "Document", "DocumentAudit", "DocumentError", "Finding",
           "Passage", "audit_paths", "audit_text", "collect_paths", "format_location", "markdown_document",
           "read_document", "resolve_frameworks"]
