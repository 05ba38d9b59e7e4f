"""Audit documents against frameworks: the one entry point the CLI and users call."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rigorlab import __version__
from rigorlab.disclosure.audit.classifier import SpecificityModel, load_model
from rigorlab.disclosure.audit.document import Document, DocumentError
from rigorlab.disclosure.audit.exemplars import load_exemplar_model
from rigorlab.disclosure.audit.judge import DocumentJudge, Finding, PreparedIndicator, prepare
from rigorlab.disclosure.audit.layout import laid_out_by_indicator
from rigorlab.disclosure.audit.reader import collect_paths, markdown_text, read_document
from rigorlab.disclosure.audit.scoring import FrameworkScore, gaps, score_framework
from rigorlab.disclosure.audit.terms import TermFinding, check_terms
from rigorlab.disclosure.frameworks import builtin_ids, load_framework
from rigorlab.disclosure.frameworks.schema import Framework
from rigorlab.errors import UserError

if TYPE_CHECKING:
    from rigorlab.disclosure.audit.llm_judge import LLMJudge

DEFAULT_FRAMEWORKS = ("ddt", "aad", "fmti-2025")
FMTI_CREDIT = ("FMTI indicators and the classifier's training labels: Foundation Model Transparency Index, "
               "December 2025, Bommasani et al., Stanford CRFM (github.com/stanford-crfm/fmti), CC BY 4.0.")


@dataclass
class DocumentAudit:
    document: str
    title: str
    kind: str
    findings: list[Finding]
    scores: list[FrameworkScore]
    notices: list[str] = field(default_factory=list)
    front_matter: dict[str, Any] = field(default_factory=dict)
    text: str = ""                      # the plain text (for reach detection by the agenda)
    terms: list[TermFinding] = field(default_factory=list)   # wording and notation, apart from the levels

    def score(self, framework_id: str) -> FrameworkScore | None:
        return next((s for s in self.scores if s.id == framework_id), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document, "title": self.title, "kind": self.kind, "notices": self.notices,
            "scores": [s.to_dict() for s in self.scores],
            "gaps": [{"framework": f.framework, "id": f.id, "level": f.level, "weight": f.weight}
                     for f in gaps(self.findings)],
            "terms": [t.to_dict() for t in self.terms],
        }


@dataclass
class AuditRun:
    frameworks: list[Framework]
    documents: list[DocumentAudit]
    skipped: list[dict[str, str]]       # {"document", "reason"}: files that could not be audited
    sure: dict[str, dict[str, float] | None] = field(default_factory=dict)   # judge -> its sure margin and figures

    def sure_counts(self) -> tuple[int, int]:
        """(sure findings, findings with a sure mark) over all documents."""
        judged = [f for d in self.documents for f in d.findings if f.sure is not None]
        return sum(bool(f.sure) for f in judged), len(judged)

    def sure_sentence(self) -> str | None:
        """One sentence for the reader of a report: how many findings to check by hand, and why."""
        sure, judged = self.sure_counts()
        if not judged:
            return None
        return (f"{sure} of the {judged} findings with a sure mark are sure; check the other {judged - sure} by "
                "hand (sure: the judge's probabilities sit beyond the margin at which its findings on documents "
                "it was not fitted on agreed with people at kappa >= 0.8 and accuracy >= 0.8; docs/audit.md, "
                "\"Sure findings\").")

    def to_dict(self) -> dict[str, Any]:
        sure, judged = self.sure_counts()
        return {
            "tool": "rigorlab audit", "version": __version__,
            "frameworks": [{"id": f.id, "title": f.title, "version": f.version} for f in self.frameworks],
            "sure": {"findings": sure, "marked": judged, "margins": self.sure},
            "documents": [d.to_dict() for d in self.documents],
            "findings": [f.to_dict() for d in self.documents for f in d.findings],
            "skipped": self.skipped,
            "notices": [n for d in self.documents for n in d.notices],
            "credit": FMTI_CREDIT,
        }


def resolve_frameworks(spec: str | list[str] | None) -> list[Framework]:
    """'ddt,aad' / ['ddt', 'my.yaml'] / 'all' / None (the defaults) to loaded frameworks."""
    if spec is None:
        ids: list[str] = list(DEFAULT_FRAMEWORKS)
    else:
        items = spec if isinstance(spec, list) else [spec]
        ids = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
        if not ids:
            raise UserError("--framework is empty: give ids such as ddt,aad,fmti-2025 or `all`.")
    if "all" in ids:
        ids = [i for i in ids if i != "all"] + builtin_ids()
    out, seen = [], set()
    for i in ids:
        fw = load_framework(i)
        if fw.id not in seen:
            seen.add(fw.id)
            out.append(fw)
    return out


@contextmanager
def fewer_collections(gen0: int = 50_000) -> Iterator[None]:
    """Run the block with the cyclic garbage collector's first generation threshold raised.

    Auditing allocates hundreds of thousands of short-lived tuples, sets and arrays that hold no
    reference cycles; at the default threshold (700) the collector ran 315 times in five passes over
    the shared cards, about 4% of the auditor's CPU time (5 times with this). Reference counting still
    frees them at once; the old thresholds come back on exit."""
    old = gc.get_threshold()
    gc.set_threshold(max(gen0, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


class Auditor:
    """Frameworks prepared once, then any number of documents."""

    def __init__(self, frameworks: list[Framework], model: SpecificityModel | None = None,
                 exemplars: bool = True, judge: LLMJudge | None = None, terms: bool = True,
                 dense: bool = False) -> None:
        """`exemplars`: apply the learned exemplar layer (`exemplars.py`) to the indicators it was trained
        on (DDT, AAD); on by default: on held-out documents of new families it raises agreement with
        people over the rules alone (fitted on 315, on 25 such documents: kappa +0.285, paired bootstrap
        95% CI [+0.200, +0.359], three-level accuracy +0.087 [+0.055, +0.118]; fitted on 293, on 10:
        +0.336 [+0.191, +0.488]; fitted on 283, on 10
        others: +0.389 [+0.298, +0.493]; fitted on 128, on 92:
        +0.228 [+0.191, +0.263]; benchmarks/eval_cards.py --holdout) for a few percent more CPU;
        `dense`: the layer with sentence-embedding columns (`dense.py`; needs rigorlab[embeddings]; about
        20x the CPU time for kappa +0.003 [-0.013, +0.016] over the default layer, leave-one-family-out
        on 128 documents), implies `exemplars`;
        `judge`: an optional LLM judge (`llm_judge.py`) asked last, with offline fallback;
        `terms`: the term and notation checks of `terms.py` (on by default, listed apart from the levels)."""
        self.frameworks = frameworks
        self.model = model or load_model()
        self.prepared: list[PreparedIndicator] = [p for fw in frameworks for p in prepare(fw, self.model)]
        self.exemplars = load_exemplar_model(dense=True) if dense else load_exemplar_model() if exemplars else None
        if dense and self.exemplars is None:
            raise UserError("--dense: this installation has no exemplar_model_dense.json; train it with "
                            "`python -m rigorlab.disclosure.audit.train_exemplars --dense`.")
        self.judge = judge
        self.terms = terms
        self._by_id = {(p.framework, p.indicator.id): p for p in self.prepared}

    def audit_document(self, doc: Document) -> DocumentAudit:
        doc = laid_out_by_indicator(doc, self.frameworks)
        with fewer_collections():
            rules = DocumentJudge(doc, self.model)
            findings = [rules.judge(p) for p in self.prepared]
            if self.exemplars is not None:
                findings = self.exemplars.refine(doc, findings, self.prepared, rules)
            if self.judge is not None:
                findings = self.judge.refine(doc, findings, self._by_id)
            return DocumentAudit(
                document=doc.path, title=doc.title, kind=doc.kind, findings=findings,
                scores=[score_framework(fw, findings) for fw in self.frameworks],
                notices=list(doc.notices), front_matter=doc.front_matter, text=doc.full_text,
                terms=check_terms(doc) if self.terms else [],
            )

    def audit_paths(self, paths: list[str | Path]) -> AuditRun:
        """Every readable document under `paths`; unreadable ones are listed with one sentence each."""
        files, problems = collect_paths(paths)
        skipped = [{"document": p, "reason": r} for p, r in problems]
        docs: list[DocumentAudit] = []
        with fewer_collections():
            for f in files:
                try:
                    docs.append(self.audit_document(read_document(f)))
                except DocumentError as exc:
                    skipped.append({"document": str(f), "reason": str(exc)})
        return AuditRun(frameworks=self.frameworks, documents=docs, skipped=skipped,
                        sure={"learned layer (ddt, aad)": self.exemplars.sure if self.exemplars is not None else None,
                              "fmti classifier (a report's own answers)": self.model.sure})


def audit_paths(paths: list[str | Path], frameworks: str | list[str] | None = None,
                model: SpecificityModel | None = None, learned: bool = True) -> AuditRun:
    """Audit files and directories against framework ids/paths (default: ddt, aad, fmti-2025);
    `learned=False`: the rules alone (no exemplar layer)."""
    return Auditor(resolve_frameworks(frameworks), model, exemplars=learned).audit_paths(paths)


def markdown_document(text: str, name: str = "<text>") -> Document:
    """A Markdown or plain-text string as a Document, without a file (as `read_document` reads a .md file)."""
    doc = markdown_text(text, name)
    if not doc.passages:
        raise DocumentError(f"{name} has no readable text.")
    doc.title = doc.title or name
    return doc


def audit_text(text: str, frameworks: str | list[str] | None = None, name: str = "<text>",
               model: SpecificityModel | None = None, learned: bool = True) -> DocumentAudit:
    """Audit a Markdown/plain string (no file needed); `learned=False`: the rules alone."""
    doc = markdown_document(text, name)
    return Auditor(resolve_frameworks(frameworks), model, exemplars=learned).audit_document(doc)
