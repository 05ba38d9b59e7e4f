"""The hand-labelled audit set (`data/audit/`): documents, families, labels, agreement.

Why a module: the inter-annotator script, the evaluation of the auditor and the
training of its learned exemplar layer must read the labels the same way, and
compute agreement with the same definition (Cohen's kappa, binary
"disclosed vs not" and three-level), so the figures they print are comparable.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from rigorlab.errors import UserError

LEVELS = ("disclosed", "vague", "absent")
FRAMEWORKS = ("ddt", "aad")


@dataclass(frozen=True)
class Label:
    """One indicator of one document, as an annotator (or the adjudication) judged it."""

    framework: str
    indicator: str
    level: str
    quote: str = ""
    location: str = ""
    note: str = ""
    adjudication: str = ""      # adjudicated set only: agreed | a | b | new
    reason: str = ""            # adjudicated set only, where the annotators differed


def default_root() -> Path:
    """`data/audit` of a source checkout (the labelled set is data of the repository, not of the wheel)."""
    return Path(__file__).resolve().parents[3] / "data" / "audit"


def load_sources(root: Path | None = None) -> dict[str, dict[str, str]]:
    """doc_id -> its SOURCES.tsv row (repo, path, commit, chars, kind, family)."""
    path = (root or default_root()) / "SOURCES.tsv"
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return {row["doc_id"]: row for row in csv.DictReader(fh, delimiter="\t")}
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}.") from exc


def load_label_file(path: Path) -> dict[str, Label]:
    """indicator id -> Label of one `<doc_id>.yaml` file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UserError(f"cannot read the label file {path}: {exc}.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("labels"), list):
        raise UserError(f"{path} has no `labels` list.")
    out: dict[str, Label] = {}
    for lab in data["labels"]:
        level = lab.get("level")
        if level not in LEVELS:
            raise UserError(f"{path}: {lab.get('indicator')} has level {level!r}, not one of {', '.join(LEVELS)}.")
        out[str(lab["indicator"])] = Label(
            framework=str(lab.get("framework", "")), indicator=str(lab["indicator"]), level=level,
            quote=str(lab.get("quote") or ""), location=str(lab.get("location") or ""),
            note=str(lab.get("note") or ""), adjudication=str(lab.get("adjudication") or ""),
            reason=str(lab.get("reason") or ""))
    return out


def load_labels(folder: Path, docs: list[str] | None = None) -> dict[str, dict[str, Label]]:
    """doc_id -> indicator -> Label for every `<doc_id>.yaml` in `folder` (or only `docs`)."""
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder of label files.")
    files = sorted(folder.glob("*.yaml"))
    out = {p.stem: load_label_file(p) for p in files if docs is None or p.stem in docs}
    missing = sorted(set(docs or []) - set(out))
    if missing:
        raise UserError(f"{folder} has no labels for {missing[0]} ({len(missing)} document(s) missing).")
    return out


def document_text(doc_id: str, root: Path | None = None) -> str:
    return ((root or default_root()) / "docs" / f"{doc_id}.md").read_text(encoding="utf-8")


def binary(levels: list[str] | np.ndarray) -> np.ndarray:
    """1 for disclosed, 0 for vague or absent (the issue's "disclosed vs not")."""
    return np.asarray([lv == "disclosed" for lv in levels], dtype=int)


def cohen_kappa(a: list[str] | np.ndarray, b: list[str] | np.ndarray) -> float:
    """Cohen's (1960) kappa of two labelings over the same items, any number of categories:
    (p_o - p_e) / (1 - p_e), with p_e from the two raters' marginals. 0 when p_e = 1."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.size == 0:
        raise ValueError("kappa needs two non-empty labelings of equal length")
    cats = np.union1d(a, b)
    po = float(np.mean(a == b))
    pe = float(sum(np.mean(a == c) * np.mean(b == c) for c in cats))
    return 0.0 if pe >= 1.0 else (po - pe) / (1.0 - pe)


def confusion(truth: list[str], pred: list[str]) -> np.ndarray:
    """3x3 counts, rows = truth, columns = prediction, in LEVELS order."""
    m = np.zeros((3, 3), dtype=int)
    for t, p in zip(truth, pred):
        m[LEVELS.index(t), LEVELS.index(p)] += 1
    return m
