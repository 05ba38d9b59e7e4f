"""A run directory as the store sees it: its status, summary, metrics and documents.

The directory is the truth; the SQLite index (index.py) is a query layer
over many of them and can always be rebuilt from them. A run is finished only
when summary.json says `"complete": true`, which `run_training` writes last,
so a run killed at any moment reads as `interrupted` (config.yaml written,
work left) or `new` (nothing yet), never as finished.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

Status = Literal["new", "interrupted", "done"]

DOC_FILES = {"datasheet": "datasheet.md", "model_card": "model_card.md", "dataset_card": "dataset_card.md",
             "croissant": "croissant.json", "eu_summary": "eu_training_summary.md"}


def _read_json(path: Path) -> Any | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None


def read_summary(run_dir: str | Path) -> dict | None:
    """summary.json, or None when absent or unreadable."""
    data = _read_json(Path(run_dir) / "summary.json")
    return data if isinstance(data, dict) else None


def read_eval(run_dir: str | Path) -> dict | None:
    """eval.json ({"reference": ..., "trained": ...}), or None."""
    data = _read_json(Path(run_dir) / "eval.json")
    return data if isinstance(data, dict) else None


def run_status(run_dir: str | Path) -> Status:
    """done (summary complete), interrupted (started, not complete) or new (nothing written)."""
    d = Path(run_dir)
    summary = read_summary(d)
    if summary is not None and summary.get("complete") is True:
        return "done"
    if (d / "config.yaml").is_file():
        return "interrupted"
    return "new"


def run_started(run_dir: str | Path) -> bool:
    """Whether a run has done any work: a checkpoint, a metrics row or a summary.

    A start that failed before its first step (a bad model path, too little
    memory) leaves at most config.yaml; such a directory is "not started", so a
    corrected config may replace it instead of being refused as a different run.
    """
    d = Path(run_dir)
    if (d / "checkpoint.pt").is_file() or (d / "summary.json").is_file():
        return True
    try:
        return any(line.strip() for line in (d / "metrics.jsonl").read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return False


def holds_run(run_dir: str | Path) -> bool:
    """Whether run_dir was written by a training run that finished its evaluation (config + summary)."""
    d = Path(run_dir)
    return (d / "config.yaml").is_file() and read_summary(d) is not None


def run_documents(run_dir: str | Path) -> dict[str, Path]:
    """The disclosure documents present in run_dir/docs, by kind."""
    docs = Path(run_dir) / "docs"
    return {kind: docs / name for kind, name in DOC_FILES.items() if (docs / name).is_file()}


def flatten_summary(summary: dict) -> dict[str, float]:
    """Numeric leaves of a summary as dotted names: trained.accuracy, trained.pass_at_k.64, train.entropy."""
    out: dict[str, float] = {}

    def walk(obj: Any, prefix: str) -> None:
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, f"{prefix}{k}.")
        elif isinstance(obj, bool):
            return
        elif isinstance(obj, (int, float)):
            out[prefix.rstrip(".")] = float(obj)

    for section in ("train", "reference", "trained"):
        if isinstance(summary.get(section), dict):
            walk(summary[section], f"{section}.")
    for key in ("steps", "seconds"):
        if isinstance(summary.get(key), (int, float)) and not isinstance(summary.get(key), bool):
            out[key] = float(summary[key])
    return out
