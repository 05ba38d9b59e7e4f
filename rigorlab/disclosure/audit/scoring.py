"""Scores per section and per framework, and the gaps.

score = 100 * sum(weight of disclosed indicators) / sum(weight of all indicators): vague
earns nothing, as in the FMTI. `mentioned` also counts vague, to show how
much is talked about without being checkable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from rigorlab.disclosure.audit.judge import Finding
from rigorlab.disclosure.frameworks.schema import Framework


@dataclass
class Score:
    id: str
    title: str
    score: float          # 0-100, weighted share disclosed
    mentioned: float      # 0-100, weighted share disclosed or vague
    disclosed: int
    vague: int
    absent: int


@dataclass
class FrameworkScore(Score):
    version: str = ""
    sections: list[Score] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _score(id_: str, title: str, findings: list[Finding]) -> Score:
    total = d = v = 0.0
    nd = nv = na = 0
    for f in findings:                  # one pass; each sum adds in the findings' order
        total += f.weight
        if f.level == "disclosed":
            d += f.weight
            nd += 1
        elif f.level == "vague":
            v += f.weight
            nv += 1
        elif f.level == "absent":
            na += 1
    total = total or 1.0
    return Score(id=id_, title=title, score=round(100.0 * d / total, 1), mentioned=round(100.0 * (d + v) / total, 1),
                 disclosed=nd, vague=nv, absent=na)


def score_framework(fw: Framework, findings: list[Finding]) -> FrameworkScore:
    """Scores of one framework's findings for one document, with one line per section."""
    mine = [f for f in findings if f.framework == fw.id]
    by_section: dict[str, list[Finding]] = {}
    for f in mine:
        by_section.setdefault(f.section, []).append(f)
    top = _score(fw.id, fw.title, mine)
    sections = [_score(s.id, s.title, by_section.get(s.id, [])) for s in fw.sections]
    return FrameworkScore(id=top.id, title=top.title, score=top.score, mentioned=top.mentioned,
                          disclosed=top.disclosed, vague=top.vague, absent=top.absent, version=fw.version,
                          sections=[s for s in sections if s.disclosed + s.vague + s.absent])


def gaps(findings: list[Finding]) -> list[Finding]:
    """Vague and absent findings, heaviest first (absent before vague at equal weight)."""
    return sorted((f for f in findings if f.level != "disclosed"),
                  key=lambda f: (-f.weight, f.level != "absent", f.framework, f.id))
