"""The study file: a base training config, arms, axes and seeds (pydantic schema).

    name: kl-ablation
    base: {grpo: {steps: 150}}          # any TrainConfig fields (nested or dotted keys)
    base_config: pairs.yaml             # optional training YAML under `base` (relative to this file)
    arms:                               # explicit arms: a name and the fields it sets
      - {name: grpo, set: {}}
      - {name: beta0, set: {grpo.beta: 0}}
    axes:                               # crossed with the arms (or alone): field -> values
      grpo.beta: [0.01, 0.04]           #   a list, or {label: value} to name each value
    groups:                             # crossed too, and compared separately (e.g. one per task)
      - {name: pairs, set: {task.name: pairs}}
      - {name: chain, set: {task: {name: chain}, grpo.max_completion_length: 40}}
    within: []                          # axes compared separately, like groups (default: task.name if an axis)
    seeds: 3                            # or a list [0, 1, 2]
    baseline: grpo                      # default: the arm that is GRPO as published (k3 in the loss)
    metrics: [accuracy, pass@64, distinct_correct, coverage, tv_reverse, token_entropy]

Arms are the explicit list times the groups times the product of the axes; an
arm is compared with the baseline of its own group. Every error names the
file and the axis, arm, group or field at fault, with the offending value.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rigorlab.config import TrainConfig, build_config, read_yaml_mapping, set_dotted
from rigorlab.errors import UserError
from rigorlab.study.metrics import DEFAULT_METRICS, check_metric

PROFILES = ("quick", "full")
_SLUG = re.compile(r"[^A-Za-z0-9._=,+-]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ArmSpec(_Strict):
    """One explicit arm: a name and the config fields it sets on top of the base."""

    name: str = Field(min_length=1, description="Arm name (unique; used in tables and directory names).")
    description: str = Field("", description="One line saying what the arm tests.")
    set: dict[str, Any] = Field(default_factory=dict, description="Dotted config field -> value.")


class StudySpec(_Strict):
    """A study: base config, arms (explicit list x product of axes), seeds and the baseline."""

    name: str = Field("study", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", description="Study name (its directory).")
    description: str = Field("", description="What the study asks.")
    base_config: Optional[str] = Field(None, description="Training YAML the base starts from "
                                                         "(relative to the study file).")
    base: dict[str, Any] = Field(default_factory=dict, description="Training-config fields shared by every arm.")
    arms: list[ArmSpec] = Field(default_factory=list, description="Explicit arms.")
    groups: list[ArmSpec] = Field(default_factory=list,
                                  description="Named sets of fields crossed with the arms, compared separately.")
    axes: dict[str, Any] = Field(default_factory=dict, description="Dotted field -> values (or label -> value).")
    within: Optional[list[str]] = Field(None, description="Axes whose values are compared separately.")
    seeds: Union[int, list[int]] = Field(3, description="Number of seeds (0..n-1) or the list of seeds.")
    baseline: Optional[str] = Field(None, description="Arm the others are compared with.")
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS), description="Metrics tabled per arm.")

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: Union[int, list[int]]) -> Union[int, list[int]]:
        if isinstance(v, int):
            if v < 1:
                raise ValueError("must be a positive number of seeds or a list of seeds")
        else:
            if not v:
                raise ValueError("must list at least one seed")
            if len(set(v)) != len(v):
                raise ValueError(f"lists seed {next(s for s in v if v.count(s) > 1)} twice")
        return v

    @field_validator("axes")
    @classmethod
    def _axes(cls, v: dict[str, Any]) -> dict[str, Any]:
        for axis, values in v.items():
            if isinstance(values, dict):
                bad = next((k for k in values if not isinstance(k, str)), None)
                if bad is not None:
                    raise ValueError(f"axis {axis!r} has the label {bad!r}, which YAML did not read as text; "
                                     "quote it (on/off/yes/no are YAML booleans)")
            elif not isinstance(values, list):
                raise ValueError(f"axis {axis!r} must be a list of values or a mapping label -> value")
        return v

    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


@dataclass
class Arm:
    """One arm of a study: its name, what it sets, and its validated config (seed not yet set)."""

    name: str                      # unique: label plus the within-axes part
    label: str                     # identity across `within` groups (what the baseline names)
    group: str                     # the within-axes part, "" when none ("task=chain")
    overrides: dict[str, Any]      # dotted field -> value, the arm's own and its axis values
    description: str
    config: TrainConfig
    slug: str = ""                 # directory name

    def for_seed(self, seed: int) -> TrainConfig:
        return self.config.model_copy(update={"seed": int(seed)})


@dataclass
class Study:
    """A validated study: its spec, arms and seeds."""

    spec: StudySpec
    arms: list[Arm]
    seeds: list[int]
    baseline: str                  # an arm label
    baseline_reason: str
    source: str = "study"
    base_data: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name


# ---------------------------------------------------------------- loading
def _format(source: str, exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown study field {loc!r}"
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], (dict, list)) else ""
    return f"{source}: study field {loc!r}: {err['msg'].removeprefix('Value error, ')}{got}"


def default_study_path(profile: str) -> Path:
    """The packaged definition of a default study profile."""
    if profile not in PROFILES:
        raise UserError(f"unknown study profile {profile!r}; expected one of {', '.join(PROFILES)}")
    return Path(str(resources.files("rigorlab.study") / "defaults" / f"{profile}.yaml"))


def load_study(path: str | Path | None = None, profile: str = "quick", overrides: list[str] | None = None,
               seeds: int | None = None) -> Study:
    """Read, validate and expand a study file (None: the packaged `profile`).

    `overrides` (`key=value`) apply to the base of every arm; `seeds` replaces the seed list by 0..n-1.
    """
    p = Path(path) if path is not None else default_study_path(profile)
    source = str(path) if path is not None else f"{profile} study"
    data = read_yaml_mapping(p, "study file")
    try:
        spec = StudySpec.model_validate(data)
    except ValidationError as exc:
        raise UserError(_format(source, exc)) from None
    if seeds is not None:
        if seeds < 1:
            raise UserError(f"--seeds must be a positive number, got {seeds}")
        spec = spec.model_copy(update={"seeds": seeds})
    base = _base_data(spec, p.parent, source)
    if overrides:
        from rigorlab.config import parse_overrides

        for key, value in parse_overrides(overrides):
            _check_path(key, f"{source}: --set")
            set_dotted(base, key, value)
    return expand(spec, base, source)


def _base_data(spec: StudySpec, here: Path, source: str) -> dict:
    data: dict = {}
    if spec.base_config:
        cfg_path = Path(spec.base_config)
        data = read_yaml_mapping(cfg_path if cfg_path.is_absolute() else here / cfg_path)
        data.pop("seed", None)           # a training file's seed: the study's `seeds` decide
    if "seed" in spec.base:
        raise UserError(f"{source}: base sets 'seed'; list the seeds in the study's 'seeds' field instead")
    for key, value in spec.base.items():
        if "." in key:
            _check_path(key, f"{source}: base field")
            set_dotted(data, key, value)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = _merge(data[key], value)
        else:
            data[key] = value
    return data


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ------------------------------------------------------------- validation
def _fields_of(model: type[BaseModel]) -> dict[str, Any]:
    return dict(model.model_fields)


def _check_path(dotted: str, where: str) -> None:
    """Refuse a dotted name that is not a TrainConfig field (dict-valued fields accept any key below)."""
    from rigorlab.config import canonical_path

    model: Any = TrainConfig
    dotted = canonical_path(dotted)
    parts = dotted.split(".")
    for i, part in enumerate(parts):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return                       # inside a dict / list / Any field: the config check decides
        fields = _fields_of(model)
        if part not in fields:
            prefix = ".".join(parts[:i])
            options = [f"{prefix}.{f}" if prefix else f for f in fields]
            close = difflib.get_close_matches(dotted, options, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"{where} {dotted!r}, which is not a training-config field{hint}")
        model = fields[part].annotation
    if dotted == "seed":
        raise UserError(f"{where} 'seed', which cannot vary by arm; list the seeds in the study's 'seeds' field")


def _value_label(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)) or value is None:
        return json.dumps(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _axis_values(axis: str, values: Union[list, dict], source: str) -> list[tuple[str, Any]]:
    pairs = list(values.items()) if isinstance(values, dict) else [(_value_label(v), v) for v in values]
    if not pairs:
        raise UserError(f"{source}: axis {axis!r} has no values")
    labels = [lab for lab, _ in pairs]
    dup = next((lab for lab in labels if labels.count(lab) > 1), None)
    if dup is not None:
        raise UserError(f"{source}: axis {axis!r} lists the value {dup!r} twice")
    return pairs


def _axis_labels(axes: list[str]) -> dict[str, str]:
    """Short label of each axis: its last name part, or the whole path when that is ambiguous."""
    last = [a.rsplit(".", 1)[-1] for a in axes]
    return {a: (s if last.count(s) == 1 else a) for a, s in zip(axes, last)}


def _build(base: dict, overrides: dict[str, Any], where: str) -> TrainConfig:
    data = json.loads(json.dumps(base))
    for key, value in overrides.items():
        set_dotted(data, key, value)
    cfg = build_config(data, where)
    from rigorlab.rl.components import build_components

    try:
        build_components(cfg)            # unknown remedy names and bad parameters fail here, not in a worker
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None
    return cfg


def _check_part(base: dict, overrides: dict[str, Any], where: str) -> None:
    """Check the fields one axis value, arm or group sets, on the base alone.

    Errors in a field (wrong type, out of range, unknown component) are reported
    here, naming the part; a constraint between fields (forward KL needs the full
    estimator) may be met by another axis, so it is left to the arm that combines them.
    """
    from rigorlab.config import format_validation_error

    data = json.loads(json.dumps(base))
    for key, value in overrides.items():
        set_dotted(data, key, value)
    try:
        cfg = TrainConfig.model_validate(data)
    except ValidationError as exc:
        if exc.errors()[0]["loc"]:
            raise UserError(format_validation_error(where, exc)) from None
        return
    from rigorlab.rl.components import build_components

    try:
        build_components(cfg)
    except UserError as exc:
        raise UserError(f"{where}: {exc}") from None


def slugify(name: str) -> str:
    return _SLUG.sub("_", name).strip("_") or "arm"


def expand(spec: StudySpec, base: dict, source: str = "study") -> Study:
    """Arms = explicit arms x product of axes; each validated, with errors naming what is at fault."""
    _build(base, {}, f"{source}: base")
    axes = list(spec.axes)
    values = {}
    for axis in axes:
        _check_path(axis, f"{source}: axis")
        values[axis] = _axis_values(axis, spec.axes[axis], source)
        for label, value in values[axis]:
            _check_part(base, {axis: value}, f"{source}: axis {axis!r} value {label!r}")
    within = spec.within if spec.within is not None else [a for a in axes if a == "task.name"]
    for w in within:
        if w not in axes:
            raise UserError(f"{source}: 'within' names {w!r}, which is not one of the axes "
                            f"({', '.join(axes) or 'none'})")
    for kind, items in (("arm", spec.arms), ("group", spec.groups)):
        names = [a.name for a in items]
        dup = next((n for n in names if names.count(n) > 1), None)
        if dup is not None:
            raise UserError(f"{source}: two {kind}s are named {dup!r}")
        for a in items:
            for key in a.set:
                _check_path(key, f"{source}: {kind} {a.name!r} sets")
            if a.set:
                _check_part(base, a.set, f"{source}: {kind} {a.name!r}")
    explicit = spec.arms or [ArmSpec.model_construct(name="", description="", set={})]
    groups = spec.groups or [ArmSpec.model_construct(name="", description="", set={})]
    short = _axis_labels(axes)
    arms: list[Arm] = []
    for arm_spec, group_spec in itertools.product(explicit, groups):
        for combo in itertools.product(*(values[a] for a in axes)) if axes else [()]:
            chosen = dict(zip(axes, combo))
            parts = [arm_spec.name] if arm_spec.name else []
            parts += [f"{short[a]}={lab}" for a, (lab, _) in chosen.items() if a not in within]
            gparts = [group_spec.name] if group_spec.name else []
            gparts += [f"{short[a]}={lab}" for a, (lab, _) in chosen.items() if a in within]
            group = ",".join(gparts)
            label = ",".join(parts) or "base"
            name = f"{label},{group}" if group else label
            overrides = {**group_spec.set, **arm_spec.set, **{a: v for a, (_, v) in chosen.items()}}
            what = [f"group {group_spec.name!r}"] if group_spec.name else []
            what += [f"{a}={lab}" for a, (lab, _) in chosen.items()]
            where = f"{source}: arm {name!r}" + (f" ({', '.join(what)})" if what else "")
            cfg = _build(base, overrides, where)
            description = arm_spec.description or group_spec.description
            arms.append(Arm(name=name, label=label, group=group, overrides=overrides,
                            description=description, config=cfg, slug=slugify(name)))
    slugs = [a.slug for a in arms]
    clash = next((a for a in arms if slugs.count(a.slug) > 1), None)
    if clash is not None:
        raise UserError(f"{source}: two arms share the directory name {clash.slug!r}; rename one")
    for m in spec.metrics:
        check_metric(m, source)
    baseline, reason = choose_baseline(spec.baseline, arms, source)
    return Study(spec=spec, arms=arms, seeds=spec.seed_list(), baseline=baseline, baseline_reason=reason,
                 source=source, base_data=base)


def is_published_grpo(cfg: TrainConfig) -> bool:
    """GRPO as published (DeepSeekMath): k3 reverse-KL estimate in the loss, beta > 0, std-scaled
    advantages, PPO clip, no reward shapers, controllers, extra regularisers or entropy bonus."""
    g = cfg.grpo
    return (g.beta > 0 and g.kl.estimator == "k3" and g.kl.placement == "loss" and g.kl.direction == "reverse"
            and cfg.loss.name == "ppo_clip" and not cfg.reward.shapers and not cfg.controllers
            and not cfg.regularisers and g.entropy_coef == 0 and g.scale_rewards and g.loss_type == "grpo")


def choose_baseline(requested: str | None, arms: list[Arm], source: str) -> tuple[str, str]:
    """The baseline arm label and why it was chosen."""
    labels = list(dict.fromkeys(a.label for a in arms))
    if requested is not None:
        if requested not in labels:
            close = difflib.get_close_matches(requested, labels, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"{source}: baseline {requested!r} is not an arm{hint}; arms: {', '.join(labels)}")
        return requested, "named in the study file"
    published = [a for a in arms if is_published_grpo(a.config)]
    if published:
        best = next((a for a in published if a.config.grpo.beta == 0.04), published[0])
        return best.label, "GRPO as published (k3 in the loss)"
    return labels[0], "the first arm (no arm is GRPO as published)"
