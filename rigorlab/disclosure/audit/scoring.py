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
    total = sum(f.weight for f in findings) or 1.0
    d = sum(f.weight for f in findings if f.level == "disclosed")
    v = sum(f.weight for f in findings if f.level == "vague")
    return Score(id=id_, title=title, score=round(100.0 * d / total, 1), mentioned=round(100.0 * (d + v) / total, 1),
                 disclosed=sum(f.level == "disclosed" for f in findings),
                 vague=sum(f.level == "vague" for f in findings),
                 absent=sum(f.level == "absent" for f in findings))


def score_framework(fw: Framework, findings: list[Finding]) -> FrameworkScore:
    """Scores of one framework's findings for one document, with one line per section."""
    mine = [f for f in findings if f.framework == fw.id]
    top = _score(fw.id, fw.title, mine)
    sections = [_score(s.id, s.title, [f for f in mine if f.section == s.id]) for s in fw.sections]
    return FrameworkScore(**asdict(top), version=fw.version,
                          sections=[s for s in sections if s.disclosed + s.vague + s.absent])


def gaps(findings: list[Finding]) -> list[Finding]:
    """Vague and absent findings, heaviest first (absent before vague at equal weight)."""
    return sorted((f for f in findings if f.level != "disclosed"),
                  key=lambda f: (-f.weight, f.level != "absent", f.framework, f.id))
