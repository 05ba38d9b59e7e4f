"""Provenance of every data set a run touches, recorded while it runs.

The trainer calls `record_dataset` for each data set it builds or reads and
`check_contamination` for each (training, evaluation) pair; `save` writes
`run_dir/provenance.json` atomically. The disclosure documents (datasheet,
cards, Croissant, EU summary) are generated from this file, so they state
what the run did rather than what someone remembers.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import platform
from pathlib import Path
from typing import Any, Sequence

from rigorlab.disclosure.provenance.decontam import ngram_overlap
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json

SCHEMA = "rigorlab.provenance/1"
TEXT_FIELDS = ("prompt", "question", "problem", "input", "text")
CHARS_PER_TOKEN = 4.0  # the usual rough ratio for English BPE; counts say it is approximate


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def record_text(record: str | dict, text_field: str | None = None) -> str:
    """The text a record shows a model: its prompt-like field, else the whole record as JSON."""
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        for key in ((text_field,) if text_field else TEXT_FIELDS):
            value = record.get(key) if key else None
            if isinstance(value, str):
                return value
        return json.dumps(record, sort_keys=True, ensure_ascii=False)
    raise UserError(f"a data record must be a string or a mapping, got {type(record).__name__}.")


def content_hash(records: Sequence[str | dict]) -> str:
    """sha256 over the records in order, each serialised canonically on its own line."""
    h = hashlib.sha256()
    for r in records:
        line = r if isinstance(r, str) else json.dumps(r, sort_keys=True, ensure_ascii=False)
        h.update(line.replace("\n", "\\n").encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _source_type(generator: str | None, url: str | None, source_path: str | None,
                 given: str | None) -> str | None:
    if given:
        return given
    if generator:
        return "synthetic"
    return None  # a path or URL alone does not say whether data is public, licensed or crawled


class ProvenanceRecorder:
    """Collects data-set records and decontamination checks for one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "provenance.json"
        self._texts: dict[str, list[str]] = {}
        if self.path.exists():
            try:
                self.data = json.loads(self.path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise UserError(f"{self.path}:{exc.lineno}: not valid JSON ({exc.msg}).") from None
            if not isinstance(self.data, dict) or not isinstance(self.data.get("datasets"), list):
                raise UserError(f"{self.path}: not a rigorlab provenance file (no `datasets` list).")
            self.data.setdefault("contamination", [])
        else:
            self.data = {
                "schema": SCHEMA,
                "created_at": _now(),
                "environment": _environment(),
                "datasets": [],
                "contamination": [],
            }

    # -- data sets -------------------------------------------------------------------------
    def record_dataset(self, name: str, role: str, records: Sequence[str | dict], *,
                       generator: str | None = None, params: dict | None = None,
                       seed: int | None = None, source_path: str | None = None,
                       url: str | None = None, licence: str | None = None,
                       languages: list[str] | None = None, fmt: str = "text",
                       filters: list[dict] | None = None, description: str | None = None,
                       source_type: str | None = None, text_field: str | None = None,
                       domain: str | None = None) -> dict:
        """Record one data set: origin, content hash, counts, filters; returns the entry."""
        if not name or not isinstance(name, str):
            raise UserError("record_dataset: `name` must be a non-empty string.")
        records = list(records)  # an iterator would be consumed twice (texts, then hash)
        texts = [record_text(r, text_field) for r in records]
        chars = sum(len(t) for t in texts)
        unique = len(set(" ".join(t.split()).lower() for t in texts))
        checked_filters = [_check_filter(f, name) for f in (filters or [])]
        entry: dict[str, Any] = {
            "name": name,
            "role": role,
            "description": description,
            "source_type": _source_type(generator, url, source_path, source_type),
            "generator": generator,
            "params": params or {},
            "seed": seed,
            "source_path": source_path,
            "url": url,
            "licence": licence,
            "languages": list(languages) if languages else [],
            "domain": domain,
            "format": fmt,
            "filters": checked_filters,
            "sha256": content_hash(records),
            "counts": {
                "examples": len(texts),
                "characters": chars,
                "words": sum(len(t.split()) for t in texts),
                "approx_tokens": int(math.ceil(chars / CHARS_PER_TOKEN)),
                "unique_examples": unique,
                "exact_duplicates": len(texts) - unique,
            },
            "fields": sorted(records[0].keys()) if records and isinstance(records[0], dict) else [],
            "examples": [t[:200] for t in texts[:3]],
            "recorded_at": _now(),
        }
        if source_path and Path(source_path).is_file():
            entry["file_sha256"] = _file_sha256(Path(source_path))
            entry["file_bytes"] = Path(source_path).stat().st_size
        datasets = self.data["datasets"]
        for i, old in enumerate(datasets):
            if old.get("name") == name:
                datasets[i] = entry  # re-recording (e.g. on resume) replaces, never duplicates
                break
        else:
            datasets.append(entry)
        self._texts[name] = texts
        return entry

    def dataset(self, name: str) -> dict:
        for d in self.data["datasets"]:
            if d.get("name") == name:
                return d
        raise UserError(f"no data set named `{name}` is recorded in {self.path}.")

    # -- decontamination -------------------------------------------------------------------
    def check_contamination(self, train_name: str, eval_name: str, n: int = 8) -> dict:
        """n-gram overlap of `eval_name`'s prompts with `train_name`'s; stored and returned."""
        for nm in (train_name, eval_name):
            self.dataset(nm)
            if nm not in self._texts:
                raise UserError(
                    f"data set `{nm}` was recorded in an earlier session and its texts are not in "
                    f"memory; record it again before checking contamination."
                )
        result = {"train": train_name, "eval": eval_name, "checked_at": _now(),
                  **ngram_overlap(self._texts[train_name], self._texts[eval_name], n=n)}
        checks = self.data["contamination"]
        checks[:] = [c for c in checks
                     if not (c.get("train") == train_name and c.get("eval") == eval_name and c.get("n") == n)]
        checks.append(result)
        return result

    def save(self) -> None:
        """Write run_dir/provenance.json atomically."""
        self.data["updated_at"] = _now()
        atomic_write_json(self.path, self.data)


def _check_filter(f: dict, dataset: str) -> dict:
    if not isinstance(f, dict) or not isinstance(f.get("name"), str):
        raise UserError(f"data set `{dataset}`: each filter must be a mapping with a `name`.")
    out = {"name": f["name"], "description": f.get("description")}
    for key in ("removed", "kept"):
        v = f.get(key)
        if v is not None and (not isinstance(v, int) or v < 0):
            raise UserError(f"data set `{dataset}`, filter `{f['name']}`: `{key}` must be a count >= 0.")
        out[key] = v
    for key, v in f.items():
        out.setdefault(key, v)
    return out


def _environment() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    env = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for pkg in ("rigorlab", "torch", "transformers"):
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return env


def load_provenance(run_dir: Path) -> dict | None:
    """The run's provenance.json, or None when the run recorded none."""
    p = Path(run_dir) / "provenance.json"
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise UserError(f"{p}:{exc.lineno}: not valid JSON ({exc.msg}).") from None
