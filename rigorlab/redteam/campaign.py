"""The campaign file: target, goals, static suites, operators, search, budget, seeds, concurrency.

Every field is documented once, here (`rigorlab redteam --help-campaign`
prints them). A bad file gets one sentence naming the field at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rigorlab.config import format_validation_error, read_yaml_mapping
from rigorlab.errors import UserError
from rigorlab.redteam.goals import Goal
from rigorlab.redteam.search import SearchConfig
from rigorlab.redteam.targets.base import TargetSpec

# The operators a campaign uses when the file names none (`pair` joins when an attacker is given).
DEFAULT_OPERATORS = ["roleplay", "prefix_injection", "prefill", "refusal_suppression", "encode_output",
                     "encode_request", "paraphrase", "repeat_context", "payload_split", "few_shot", "many_shot",
                     "crescendo"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Budget(_Strict):
    """Limits on each seed's adaptive search, per goal; whichever is reached first stops it."""

    queries: int = Field(200, ge=1, description="Queries to the target (a k-turn attack costs k).")
    tokens: Optional[int] = Field(None, ge=1, description="Prompt + completion tokens, as the target reports "
                                  "them (estimated as characters / 4 when it does not); none = no limit.")
    seconds: Optional[float] = Field(None, gt=0, description="Seconds spent waiting for the target; none = no "
                                     "limit. A time budget makes results depend on the machine's speed.")


class Sampling(_Strict):
    """How the target samples (sent with every query)."""

    temperature: float = Field(0.0, ge=0, description="0 = greedy: a deterministic target answers the same "
                               "prompt the same way, so the static suite runs once instead of once per seed.")
    top_p: Optional[float] = Field(None, gt=0, le=1, description="Nucleus sampling mass; none = the target's default.")
    max_tokens: int = Field(128, ge=1, description="Longest answer, in tokens.")
    stop: Optional[Union[str, list[str]]] = Field(None, description="Stop string(s).")


class OperatorSpec(_Strict):
    """A registered operator (or `package.module:Class`) with parameters, under a name of its own."""

    name: str = Field(description="Registered operator name or import path 'package.module:Class'.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments (e.g. ops for compose).")
    label: Optional[str] = Field(None, description="Name in results (default: name); needed to use one operator twice.")


class Campaign(_Strict):
    """One red-teaming campaign: static suite and adaptive search on the same target, goals and budget."""

    name: str = Field("campaign", description="Label for the report.")
    target: TargetSpec = Field(description="The model under test (see `rigorlab.redteam.targets`): kind openai "
                               "(url, model, api_key_env) or local (path).")
    concurrency: Optional[int] = Field(None, ge=1, le=256, description="Requests in flight at once; overrides "
                                       "target.concurrency when set.")
    goals: list[Goal] = Field(min_length=1, description="What the attacker must achieve: kind secret, injection "
                              "or judge, each with its static suite and detectors.")
    operators: list[Union[str, OperatorSpec]] = Field(
        default_factory=lambda: list(DEFAULT_OPERATORS),
        description="Mutation operators the search may use (registered names or specs).")
    search: SearchConfig = Field(default_factory=SearchConfig, description="The adaptive search.")
    budget: Budget = Field(default_factory=Budget, description="Per seed and goal, the adaptive search's budget.")
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1,
                             description="Campaign seeds: each runs its own adaptive search; dynamic ASR is "
                             "the share of seeds whose search breached.")
    sampling: Sampling = Field(default_factory=Sampling, description="Target sampling parameters.")
    phases: list[Literal["static", "dynamic"]] = Field(
        default_factory=lambda: ["static", "dynamic"], min_length=1,
        description="Which phases run: the static suite, the adaptive search, or both (the default).")
    attacker: Optional[TargetSpec] = Field(None, description="An attacker model for PAIR/TAP-style refinement "
                                           "(adds the `pair` operator).")
    judge: Optional[TargetSpec] = Field(None, description="The judge model used by llm_judge detectors.")
    alpha: float = Field(0.05, gt=0, lt=1, description="Intervals have coverage 1 - alpha (exact Clopper-Pearson).")
    transcripts: int = Field(5, ge=0, description="Breaching transcripts kept per goal and phase in results.json "
                             "(the log keeps all of them).")

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("seeds must be distinct")
        return v

    def operator_specs(self) -> list[OperatorSpec]:
        specs = [OperatorSpec(name=o) if isinstance(o, str) else o for o in self.operators]
        if self.attacker is not None and not any(s.name == "pair" for s in specs):
            specs.append(OperatorSpec(name="pair"))
        return specs

    def target_spec(self) -> TargetSpec:
        if self.concurrency is None:
            return self.target
        return self.target.model_copy(update={"concurrency": self.concurrency})


def campaign_from_dict(data: dict[str, Any], source: str = "campaign", base: Path | None = None) -> Campaign:
    """Validate a campaign; relative static-suite paths are resolved against `base`."""
    try:
        camp = Campaign.model_validate(data)
    except ValidationError as exc:
        raise UserError(format_validation_error(source, exc)) from None
    if base is not None:
        for goal in camp.goals:
            if goal.static and not goal.static.startswith("garak:") and not Path(goal.static).is_absolute():
                goal.static = str((base / goal.static).resolve())
    return camp


def load_campaign(path: str | Path) -> Campaign:
    """Read a campaign YAML file (UserError names the file and field at fault)."""
    p = Path(path)
    return campaign_from_dict(read_yaml_mapping(p, "campaign file"), str(p), p.parent)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models inside an annotation (through Optional, list, Union and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        found.extend(m for m in _models_in(arg) if m not in found)
    return found


def describe_fields(model: type[BaseModel] = Campaign, prefix: str = "") -> list[str]:
    """`name: description` lines for every field, nested sections and each goal kind included."""
    lines = []
    for name, f in model.model_fields.items():
        lines.append(f"{prefix}{name}: {f.description or ''}")
        models = _models_in(f.annotation)
        for sub in models:
            kind = sub.model_fields.get("kind")
            tag = f"[kind={get_args(kind.annotation)[0]}]" if kind is not None and len(models) > 1 else ""
            lines.extend(describe_fields(sub, f"{prefix}{name}{tag}."))
    return lines
