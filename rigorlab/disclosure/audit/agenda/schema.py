"""The typed schema of the Multi-Stakeholder Action Agenda file (`frameworks/msaa.yaml`).

FRAMEWORKS.md section 3: from an audit's gaps, concrete actions for four
audiences, each tied to the indicator that triggered it. The actions are
data (templates keyed by framework, section or indicator), so a journal or
a regulator can ship its own agenda file without touching code.

Template fields available in every text: {id} {title} {question} {framework}
{framework_title} {section} {section_title} {level} {document} {evidence}.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Audience(_Strict):
    id: str                     # publishers | policymakers | developers | researchers
    title: str
    description: str


class PublisherAction(_Strict):
    """Publishers, editors, reviewers."""
    require: str | None = None        # what to require before acceptance
    question: str | None = None       # the reviewer question to ask
    proof: str | None = None          # what to correct at proof stage


class PolicyAction(_Strict):
    """Policymakers and regulators."""
    obligation: str | None = None     # e.g. EU AI Act Art. 53(1)(d), Annex XI 2(c)
    request: str | None = None        # what to request from the provider


class DeveloperAction(_Strict):
    """Developers and corporate labs."""
    write: str | None = None          # the missing section to write
    snippet: str | None = None        # template snippet to fill in
    measure: str | None = None        # the measurement to run


class ResearcherAction(_Strict):
    """Researchers and deployers."""
    workaround: str | None = None     # how to work around the gap when using the model


class Match(_Strict):
    """Which findings a rule applies to; the most specific matching rule wins, field by field."""
    framework: str = "*"              # a framework id, or * for any
    section: str | None = None        # a section id of that framework
    indicator: str | None = None      # an indicator id of that framework


class Rule(_Strict):
    match: Match
    publishers: PublisherAction | None = None
    policymakers: PolicyAction | None = None
    developers: DeveloperAction | None = None
    researchers: ResearcherAction | None = None

    def specificity(self) -> int:
        m = self.match
        return 3 if m.indicator else 2 if m.section else 1 if m.framework != "*" else 0


class ReachModel(_Strict):
    """release reach = 1 + open_weights * w_open + size_term + users_term (FRAMEWORKS.md: priority
    follows the indicator's weight and the release's reach)."""
    open_weights: float = 0.5
    size: float = 0.5                 # * min(1, log10(1 + params in billions) / 3)
    users: float = 0.5                # * min(1, log10(1 + users in millions) / 3)
    absent_factor: float = 1.0        # an absent item weighs more than a vague one
    vague_factor: float = 0.6
    high: float = 2.5                 # priority >= high: "high"
    medium: float = 1.5               # priority >= medium: "medium", else "low"


class Agenda(_Strict):
    id: str
    title: str
    version: str
    source: str
    licence: str
    description: str
    audiences: list[Audience]
    reach: ReachModel = Field(default_factory=ReachModel)
    rules: list[Rule]
