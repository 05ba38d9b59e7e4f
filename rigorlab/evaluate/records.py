"""The sample file: one JSON record per completion, appended a batch at a time.

A record holds `prompt_id`, `sample` (its index among the prompt's n),
`completion`, `answer` (extracted; null when none), `correct`, `tokens`,
`finish_reason` ("stop": the model ended it; "length": cut at
--max-new-tokens), `logprob` (log pi(completion | prompt) under the model
itself, temperature 1, no top-p), `sampling_logprob` (under the distribution
actually sampled from) and `chunk` (the batch that wrote it).

Resuming after a kill: a batch's records are written with one `write` and
an fsync, but a kill can still tear it; `complete_prefix` keeps only the
batches whose every record is present (rewriting the file atomically when it
drops anything), so the rerun redoes exactly the missing batches with the
same seeds: no sample lost, none duplicated.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json, write_jsonl

REQUIRED = ("prompt_id", "completion", "correct")


def meta_path(out: Path) -> Path:
    """Where the settings of a sample file are kept (beside it, `<name>.meta.json`)."""
    return out.with_name(out.stem + ".meta.json")


def check_or_write_meta(out: Path, settings: dict[str, Any]) -> None:
    """Start a new sample file's settings, or refuse to resume one made with other settings."""
    mp = meta_path(out)
    if out.exists() and out.stat().st_size > 0 and mp.is_file():
        try:
            old = json.loads(mp.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(f"{mp} is not valid JSON; delete it and {out} to start again") from None
        for key, value in settings.items():
            if old.get(key) != value:
                raise UserError(f"{out} was sampled with {key} = {old.get(key)!r}, not {value!r}; "
                                "use the same options to resume or another --out")
        return
    if out.exists() and out.stat().st_size > 0:
        raise UserError(f"{out} exists but has no {mp.name}; it was not written by `rigorlab sample` "
                        "(choose another --out)")
    atomic_write_json(mp, settings)


def complete_prefix(out: Path, chunk_sizes: dict[int, int]) -> tuple[list[dict], set[int]]:
    """Records of the fully written batches, and their ids; drops torn or partial batches from the file."""
    if not out.exists():
        return [], set()
    rows, torn = [], False
    with out.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                torn = True            # only a kill mid-write makes this; nothing after it is trusted
                break
    by_chunk: dict[int, int] = {}
    for r in rows:
        by_chunk[r["chunk"]] = by_chunk.get(r["chunk"], 0) + 1
    done = {c for c, k in by_chunk.items() if chunk_sizes.get(c) == k}
    kept = [r for r in rows if r["chunk"] in done]
    if torn or len(kept) != len(rows):
        write_jsonl(out, kept)
    return kept, done


def append_chunk(out: Path, rows: list[dict]) -> None:
    """Append one batch's records with a single write, flushed to disk."""
    data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    with open(out, "ab") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def read_samples(path: str | os.PathLike) -> list[dict]:
    """The records of a sample file, each checked for the fields `rigorlab compare` reads."""
    from rigorlab.metrics.errors import MetricInputError
    from rigorlab.metrics.loaders import load_records

    try:
        rows = load_records(path)
    except MetricInputError as exc:
        raise UserError(str(exc)) from None
    for i, r in enumerate(rows, 1):
        missing = [f for f in REQUIRED if f not in r]
        if missing:
            raise UserError(f"{path}, record {i}: missing field {missing[0]!r} (a `rigorlab sample` file has "
                            f"{', '.join(REQUIRED)})")
        if not isinstance(r["correct"], bool):
            raise UserError(f"{path}, record {i}: field 'correct' must be true or false, got {r['correct']!r}")
        if not isinstance(r["completion"], str):
            raise UserError(f"{path}, record {i}: field 'completion' must be a string")
    return rows
