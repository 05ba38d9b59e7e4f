"""Atomic writes and append-only JSONL logs.

Every file rigorlab writes goes through here, so a kill at any moment leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` via a temporary file in the same directory and a rename."""
    path = Path(path)
    if path.is_dir():   # os.replace would name the temporary file, not the user's path
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):   # name the user's path, not the temporary file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write text (UTF-8) atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> Path:
    """Write JSON atomically (keys kept in insertion order)."""
    return atomic_write_text(path, json.dumps(obj, indent=indent, default=_json_default) + "\n")


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSONL file, ignoring a torn last line left by a kill."""
    rows: list[dict] = []
    p = Path(path)
    if not p.exists():
        return rows
    lines = p.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) - 1:
                break  # torn tail from an interrupted append
            raise
    return rows


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Replace a JSONL file atomically with `rows`."""
    text = "".join(json.dumps(r, default=_json_default) + "\n" for r in rows)
    return atomic_write_text(path, text)
