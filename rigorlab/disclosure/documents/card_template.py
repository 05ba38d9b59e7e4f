"""Fillable cards for people documenting their own models and data sets.

`init_card` writes a YAML file with one entry per indicator of the chosen
frameworks, each preceded by its question and what counts as disclosed.
`load_card` validates a filled file (unknown fields, wrong types, unknown
indicator ids: one sentence with the line). Answers flow along crosswalks:
a DDT answer also fills the EU summary and Croissant RAI items it maps to.
"""

from __future__ import annotations

import os
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rigorlab.disclosure.frameworks import builtin_ids, list_frameworks, load_framework
from rigorlab.disclosure.frameworks.schema import Framework
from rigorlab.disclosure.vagueness import judge
from rigorlab.disclosure.frameworks.yamlio import error_sentence, line_of, parse_yaml
from rigorlab.errors import UserError

DEFAULT_FRAMEWORKS = {"model": ["hf-model-card", "aad", "ddt"],
                      "dataset": ["hf-dataset-card", "croissant-rai", "ddt"]}
PRIMARY = {"model": "hf-model-card", "dataset": "hf-dataset-card"}
METADATA_TEMPLATE = {
    "model": [("license", "SPDX id, e.g. apache-2.0"), ("language", "list, e.g. [en]"),
              ("base_model", "Hub id of the model it was fine-tuned from"), ("tags", "list of tags"),
              ("datasets", "Hub ids of training data sets")],
    "dataset": [("license", "SPDX id, e.g. cc-by-4.0"), ("language", "list, e.g. [en]"),
                ("pretty_name", "display name"), ("size_categories", "e.g. [1K<n<10K]"),
                ("url", "landing page (Croissant `url`)"), ("version", "e.g. 1.0.0 (Croissant `version`)"),
                ("cite_as", "citation (Croissant `citeAs`)")],
}


class CardFile(BaseModel):
    """The schema of a card YAML file."""

    model_config = ConfigDict(extra="forbid", strict=True)
    kind: Literal["model", "dataset"]
    name: str
    frameworks: list[str] = Field(min_length=1)
    metadata: dict[str, Any] = Field(default_factory=dict)
    answers: dict[str, dict[str, Any] | None] = Field(default_factory=dict)


@dataclass
class Card:
    path: Path
    kind: str
    name: str
    metadata: dict[str, Any]
    frameworks: dict[str, Framework]          # in the card's order
    answers: dict[tuple[str, str], str]       # (framework id, indicator id) -> non-empty text
    neighbours: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def resolve(self, fid: str, iid: str) -> tuple[str | None, list[str]]:
        """(answer text, sources): the direct answer, else answers reached through crosswalks."""
        if (fid, iid) in self.answers:
            return self.answers[(fid, iid)], []
        texts, via = [], []
        for key in self.neighbours.get((fid, iid), []):
            if key in self.answers and self.answers[key] not in texts:
                texts.append(self.answers[key])
                via.append(f"{key[0]}:{key[1]}")
        return ("\n\n".join(texts) if texts else None), via


    def resolve_labelled(self, fid: str, iid: str) -> str | None:
        """For documents: the direct answer, else each crosswalked answer under its source's name."""
        if (fid, iid) in self.answers:
            return self.answers[(fid, iid)]
        pieces = []
        for key in self.neighbours.get((fid, iid), []):
            if key in self.answers:
                fw = self.frameworks.get(key[0]) or load_framework(key[0])
                ind = fw.indicator(key[1])
                pieces.append(f"From {key[0]} {key[1]} ({ind.title if ind else key[1]}):\n\n{self.answers[key]}")
        return "\n\n".join(pieces) or None


def _yaml_key(key: str) -> str:
    try:
        if yaml.safe_load(f"{key}: x") == {key: "x"}:
            return key
    except yaml.YAMLError:
        pass
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _comment(text: str, indent: str, width: int = 100) -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=width, initial_indent=f"{indent}# ",
                         subsequent_indent=f"{indent}#   ")


def init_card(kind: str, frameworks: list[str] | None = None, name: str | None = None,
              base_dir: str | Path | None = None) -> str:
    """A fillable card: every indicator's question, disclosure rule and crosswalks as comments.

    A framework given as a file path is written relative to `base_dir` (the card's folder), which is
    where `load_card` looks for it.
    """
    if kind not in DEFAULT_FRAMEWORKS:
        raise UserError(f"--kind must be `model` or `dataset`, got `{kind}`.")
    refs = list(frameworks or DEFAULT_FRAMEWORKS[kind])
    fws = [load_framework(f) for f in refs]
    builtin = set(builtin_ids())
    refs = [r if r in builtin else os.path.relpath(Path(r).resolve(), Path(base_dir or ".").resolve())
            for r in refs]
    out = [f"# rigorlab {kind} card. Fill in the answers, then run `rigorlab card validate` and",
           "# `rigorlab card render`. Answer with names, numbers, links and procedures: a mention without",
           "# substance (\"all from the internet\") counts as vague. Leave an item empty if you cannot answer;",
           "# write why if it does not apply. Multi-line answers: use `key: |` and indent the text.",
           f"kind: {kind}", f"name: {_yaml_key(name or 'my-' + kind)}",
           "frameworks: [" + ", ".join(_yaml_key(r) for r in refs) + "]",
           "metadata:  # front matter of the rendered card"]
    for key, hint in METADATA_TEMPLATE[kind]:
        out.append(f"  {key}:  # {hint}")
    out.append("answers:")
    for fw in fws:
        common_d = Counter(i.disclosed_when for i in fw.indicators).most_common(1)[0][0]
        common_v = Counter(i.vague_when for i in fw.indicators).most_common(1)[0][0]
        out += ["", f"  # ===== {fw.title} ({fw.id}, version {fw.version}) =====", *_comment(fw.source, "  "),
                *_comment(f"Disclosed when (unless an item says otherwise): {common_d}", "  ")]
        if common_v:
            out += _comment(f"Vague when (unless an item says otherwise): {common_v}", "  ")
        out.append(f"  {_yaml_key(fw.id)}:")
        for sec in fw.sections:
            out += ["", f"    # --- {sec.title} ---"]
            for ind in (i for i in fw.indicators if i.section == sec.id):
                out += _comment(f"{ind.id}: {ind.title}", "    ")
                out += _comment(f"Q: {ind.question}", "    ")
                if ind.disclosed_when != common_d:
                    out += _comment(f"Disclosed when: {ind.disclosed_when}", "    ")
                if ind.vague_when and ind.vague_when != common_v:
                    out += _comment(f"Vague when: {ind.vague_when}", "    ")
                if ind.crosswalk:
                    out += _comment("Crosswalk: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in ind.crosswalk.items()),
                                    "    ")
                out.append(f"    {_yaml_key(ind.id)}:")
    return "\n".join(out) + "\n"


def _answer_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):  # YAML reads a bare yes/no as a boolean
        return "yes" if value else "no"
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        text = "\n".join(f"- {v}" for v in value)
        return text or None
    raise UserError(f"{where}: an answer must be text, a number or a list of texts, got {type(value).__name__}.")


def load_card(path: str | Path) -> Card:
    """Read and check a card file; any mistake is one UserError sentence with the line."""
    from rigorlab.userpaths import read_text

    path = Path(path)
    text = read_text(path, "card file")   # a directory, a missing file or non-UTF-8 bytes: one sentence
    data, root = parse_yaml(text, path)
    if not isinstance(data, dict):
        raise UserError(f"{path}:1: expected a mapping with `kind`, `name`, `frameworks`, `answers`.")
    try:
        card = CardFile.model_validate(data)
    except ValidationError as exc:
        raise UserError(error_sentence(exc, root, path)) from None
    fws: dict[str, Framework] = {}
    for i, ref in enumerate(card.frameworks):
        ref_path = Path(ref) if Path(ref).is_absolute() else path.parent / ref
        try:
            fw = load_framework(str(ref_path) if ref.endswith((".yaml", ".yml")) else ref)
        except UserError as exc:
            raise UserError(f"{path}:{line_of(root, ('frameworks', i))}: field `frameworks[{i}]`: {exc}") from None
        fws[fw.id] = fw
    answers: dict[tuple[str, str], str] = {}
    for fid, items in card.answers.items():
        if fid not in fws:
            raise UserError(f"{path}:{line_of(root, ('answers', fid))}: field `answers.{fid}`: framework `{fid}` "
                            f"is not listed in `frameworks` ({', '.join(fws)}).")
        for iid, value in (items or {}).items():
            where = f"{path}:{line_of(root, ('answers', fid, iid))}"
            if fws[fid].indicator(str(iid)) is None:
                raise UserError(f"{where}: field `answers.{fid}.{iid}`: `{iid}` is not an indicator of `{fid}`.")
            t = _answer_text(value, f"{where}: field `answers.{fid}.{iid}`")
            if t is not None:
                answers[(fid, fws[fid].indicator(str(iid)).id)] = t
    out = Card(path=path, kind=card.kind, name=card.name, metadata=card.metadata, frameworks=fws, answers=answers)
    out.neighbours = _crosswalk_index([*list_frameworks(), *fws.values()])
    return out


def _crosswalk_index(frameworks: list[Framework]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    idx: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for fw in frameworks:
        for ind in fw.indicators:
            for tf, tids in ind.crosswalk.items():
                for tid in tids:
                    for a, b in (((fw.id, ind.id), (tf, tid)), ((tf, tid), (fw.id, ind.id))):
                        if b not in idx.setdefault(a, []):
                            idx[a].append(b)
    return idx


@dataclass(frozen=True)
class ItemReport:
    framework: str
    id: str
    title: str
    status: str      # answered | via crosswalk | vague | missing
    detail: str


def validate_card(card: Card) -> list[ItemReport]:
    """Each indicator of the card's frameworks: answered, reached via crosswalk, vague or missing."""
    out = []
    for fid, fw in card.frameworks.items():
        for ind in fw.indicators:
            text, via = card.resolve(fid, ind.id)
            verdict, why = judge(text, ind.question)
            if verdict == "missing":
                out.append(ItemReport(fid, ind.id, ind.title, "missing", why))
            elif verdict == "vague":
                out.append(ItemReport(fid, ind.id, ind.title, "vague",
                                      why + (f" (from {', '.join(via)})" if via else "")))
            else:
                out.append(ItemReport(fid, ind.id, ind.title, "via crosswalk" if via else "answered",
                                      f"from {', '.join(via)}" if via else ""))
    return out
