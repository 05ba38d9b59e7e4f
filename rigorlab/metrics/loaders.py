"""Read model samples from JSONL, CSV or Parquet into a list of records.

Anyone's outputs (vLLM, TRL, an API) can be scored: one record per sample,
with a text field and optionally prompt, answer and correctness fields.
Every problem is reported as one sentence naming the file, line or field.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

from rigorlab.metrics.errors import MetricInputError

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".tsv": "tsv",
           ".parquet": "parquet", ".pq": "parquet"}


def load_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Records of a .jsonl/.ndjson (one JSON object a line), .csv/.tsv (header row) or .parquet file."""
    p = Path(path)
    if p.is_dir():
        raise MetricInputError(f"{p} is a directory, not a file of samples")
    if not p.is_file():
        raise MetricInputError(f"{p} does not exist")
    kind = FORMATS.get(p.suffix.lower())
    if kind is None:
        raise MetricInputError(f"{p} has extension {p.suffix!r}; expected one of {', '.join(sorted(FORMATS))}")
    records = {"jsonl": jsonl_records, "csv": _csv, "tsv": _csv, "parquet": _parquet}[kind](p)
    if not records:
        raise MetricInputError(f"{p} holds no records")
    return records


def jsonl_records(path: str | os.PathLike) -> list[dict]:
    """The JSON objects of a JSONL file, one a line (blank lines skipped); errors name the line."""
    p = Path(path)
    records = []
    with p.open(encoding="utf-8") as fh:
        try:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise MetricInputError(f"{p}, line {i}: not valid JSON ({exc.msg})") from None
                if not isinstance(obj, dict):
                    raise MetricInputError(f"{p}, line {i}: expected a JSON object, got {type(obj).__name__}")
                records.append(obj)
        except UnicodeDecodeError:
            raise MetricInputError(f"{p} is not UTF-8 text") from None
    return records


def _csv(p: Path) -> list[dict]:
    csv.field_size_limit(1 << 30)
    delimiter = "\t" if p.suffix.lower() == ".tsv" else ","
    try:
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter=delimiter)
            records = []
            for row in reader:
                if None in row:
                    raise MetricInputError(f"{p}, line {reader.line_num}: more values than header columns")
                records.append(dict(row))
    except UnicodeDecodeError:
        raise MetricInputError(f"{p} is not UTF-8 text") from None
    except csv.Error as exc:
        raise MetricInputError(f"{p}: not valid CSV ({exc})") from None
    return records


def _parquet(p: Path) -> list[dict]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MetricInputError(f"reading {p} needs pyarrow: pip install 'rigorlab[parquet]'") from None
    try:
        return pq.read_table(p).to_pylist()
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise MetricInputError(f"{p} is not a readable Parquet file ({type(exc).__name__})") from None


def column(records: list[dict], field: str, path: str | os.PathLike = "input") -> list[Any]:
    """Values of `field` in every record; a missing field is an error naming what exists."""
    missing = next((i for i, r in enumerate(records) if field not in r), None)
    if missing is not None:
        fields = ", ".join(sorted(records[missing])) or "none"
        where = "" if missing == 0 else f" in record {missing + 1}"
        raise MetricInputError(f"{path} has no field {field!r}{where} (fields: {fields})")
    return [r[field] for r in records]


def text_column(records: list[dict], field: str, path: str | os.PathLike = "input") -> list[str]:
    """Values of a text field; each must be a string."""
    values = column(records, field, path)
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise MetricInputError(f"{path}, record {i + 1}: field {field!r} is {type(v).__name__}, not text")
    return values


_TRUE = {"true", "1", "yes", "y", "t", "correct"}
_FALSE = {"false", "0", "no", "n", "f", "incorrect", ""}


def as_bool(value: Any, field: str, index: int, path: str | os.PathLike = "input") -> bool:
    """A correctness flag: bool, 0/1, or a CSV spelling of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise MetricInputError(f"{path}, record {index + 1}: field {field!r} is {value!r}, not true/false")
