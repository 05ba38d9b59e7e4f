"""What a run directory says about itself, read tolerantly.

Every generator reads the run through `RunFacts`, so a missing optional file
or key becomes a recorded gap (`facts.gaps`) instead of an invented value or
a crash. The trainer is free to add keys; nothing here depends on their order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rigorlab.disclosure.provenance import load_provenance
from rigorlab.errors import UserError
from rigorlab.io import read_jsonl


@dataclass
class RunFacts:
    run_dir: Path
    config: dict = field(default_factory=dict)
    metrics: list[dict] = field(default_factory=list)
    evaluation: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    model_files: list[str] = field(default_factory=list)
    policy: dict = field(default_factory=dict)      # policy.json: source weights, trainable parameters, LoRA
    gaps: list[str] = field(default_factory=list)   # files / keys the run lacks

    # -- config -----------------------------------------------------------------------------
    def get(self, dotted: str, default: Any = None) -> Any:
        """A config value by dotted path (`grpo.kl.direction`), or `default`."""
        node: Any = self.config
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    @property
    def name(self) -> str:
        return str(self.summary.get("name") or self.run_dir.resolve().name)

    @property
    def task(self) -> str | None:
        t = self.get("task.name")
        return str(t) if t is not None else None

    @property
    def base_model(self) -> str | None:
        m = self.get("policy.model")
        return str(m) if m is not None else None

    @property
    def fine_tuning(self) -> str | None:
        """How the weights were trained, in one line (None when the run predates policy.json)."""
        pol = self.policy
        if not pol.get("trainable_parameters"):
            return None
        trainable, base = int(pol["trainable_parameters"]), int(pol.get("parameters") or 0)
        lora = pol.get("lora")
        if not lora:
            return f"full fine-tuning of all {trainable:,} parameters"
        share = f" ({100 * trainable / base:.2f}% of the base model's {base:,})" if base else ""
        return (f"LoRA r={lora.get('r')}, alpha={lora.get('alpha')}, dropout={lora.get('dropout')} on "
                f"{', '.join(lora.get('target_modules') or [])}: {trainable:,} trainable parameters{share}; "
                "model/ holds the merged weights, model/adapter/ the adapters alone")

    @property
    def base_weights(self) -> str | None:
        """The file the base weights were read from, when it is one file (GGUF): name, size, sha256."""
        src = self.policy.get("source") or {}
        if src.get("format") != "gguf":
            return None
        size = f", {int(src['bytes']):,} bytes" if src.get("bytes") else ""
        digest = f", sha256 {src['sha256']}" if src.get("sha256") else ""
        return f"{src.get('file')} (GGUF{size}{digest}), dequantised to float32"

    @property
    def datasets(self) -> list[dict]:
        return list(self.provenance.get("datasets", []))

    def datasets_by_role(self, *roles: str) -> list[dict]:
        return [d for d in self.datasets if d.get("role") in roles]

    @property
    def training_datasets(self) -> list[dict]:
        """Every data set that shaped the weights (everything except evaluation data)."""
        return [d for d in self.datasets if d.get("role") != "evaluation"]

    @property
    def contamination(self) -> list[dict]:
        return list(self.provenance.get("contamination", []))

    def metric_series(self, key: str) -> list[tuple[int, float]]:
        out = []
        for i, row in enumerate(self.metrics):
            v = row.get(key)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append((int(row.get("step", i)), float(v)))
        return out


def flatten(mapping: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Every leaf of a nested mapping as (dotted.key, value), in file order."""
    out: list[tuple[str, Any]] = []
    if isinstance(mapping, dict):
        for k, v in mapping.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.extend(flatten(v, key))
            else:
                out.append((key, v))
    return out


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}).") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: expected a JSON object at the top level.")
    return data


def load_run(run_dir: str | Path) -> RunFacts:
    """Read the run directory's files; missing ones are listed in `gaps`."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(f"{run_dir}: no such run directory.")
    facts = RunFacts(run_dir=run_dir)
    cfg = run_dir / "config.yaml"
    if cfg.exists():
        try:
            data = yaml.safe_load(cfg.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = f":{mark.line + 1}" if mark is not None else ""
            raise UserError(f"{cfg}{line}: malformed YAML.") from None
        facts.config = data if isinstance(data, dict) else {}
    else:
        facts.gaps.append("config.yaml (training configuration)")
    facts.metrics = read_jsonl(run_dir / "metrics.jsonl")
    if not facts.metrics:
        facts.gaps.append("metrics.jsonl (per-step training metrics)")
    for fname, attr, what in (("eval.json", "evaluation", "evaluation results"),
                              ("summary.json", "summary", "run summary")):
        p = run_dir / fname
        if p.exists():
            setattr(facts, attr, _read_json(p))
        else:
            facts.gaps.append(f"{fname} ({what})")
    prov = load_provenance(run_dir)
    if prov is None:
        facts.gaps.append("provenance.json (data provenance)")
    else:
        facts.provenance = prov
    if (run_dir / "policy.json").exists():   # absent from runs before it existed: not a gap
        facts.policy = _read_json(run_dir / "policy.json")
    model_dir = run_dir / "model"
    if model_dir.is_dir():
        facts.model_files = sorted(p.name for p in model_dir.iterdir() if p.is_file())
    return facts
