"""Operating-system and decoding errors on user-named paths, as one sentence.

The CLI's `main()` sends every `OSError` that carries a file name and every
`UnicodeDecodeError` here, so no command needs its own try/except for a
read-only `--out`, a file where a directory belongs, a directory where a file
belongs, or a binary file given as YAML: the user gets one sentence naming
the path and what is wrong with it, and exit status 2.

Readers that know what they are reading call `read_text(path, kind)` so the
sentence can also say what the file was meant to be ("card file", "framework
file").
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Sequence

from rigorlab.errors import UserError


def _blocking_file(path: Path) -> Path | None:
    """The nearest ancestor of `path` (or `path` itself) that exists and is not a directory."""
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def os_error_sentence(exc: OSError) -> str | None:
    """One sentence for an `OSError` that names a path; None when it names none (a bug, not a mistake)."""
    name = exc.filename2 if exc.filename2 is not None and exc.errno == errno.EISDIR else exc.filename
    if name is None:
        return None
    path = Path(os.fsdecode(name))
    code = exc.errno
    if code == errno.EISDIR:
        return f"{path} is a directory, where a file is expected"
    if code == errno.ENOTDIR:
        blocker = _blocking_file(path.parent if path.exists() else path)
        if blocker is not None and blocker != path:
            return f"{path} cannot be used: {blocker} is a file, not a directory"
        return f"{path} is a file, where a directory is expected"
    if code == errno.EEXIST:
        if path.exists() and not path.is_dir():
            return f"{path} is a file, where a directory is expected"
        return f"{path} already exists"
    if code == errno.ENOENT:
        blocker = _blocking_file(path)
        if blocker is not None and blocker != path:
            return f"{path} cannot be used: {blocker} is a file, not a directory"
        return f"{path} does not exist"
    if code == errno.EROFS:
        return f"{path} is on a read-only file system: choose another location"
    if code in (errno.EACCES, errno.EPERM):
        return f"permission denied for {path}: choose a location you can write to (or read)"
    if code == errno.ENOSPC:
        return f"no space left on the device that holds {path}"
    if code == errno.ENAMETOOLONG:
        return f"the path {str(path)[:60]}... is too long for the file system"
    reason = exc.strerror or type(exc).__name__
    return f"{path}: {reason[0].lower() + reason[1:]}"


def decode_error_sentence(exc: UnicodeDecodeError, argv: Sequence[str]) -> str:
    """One sentence for a decoding error: name the user-named file that is not UTF-8 text.

    A `UnicodeDecodeError` carries the bytes but not the file, so the files the
    user named on the command line are checked; the first that does not decode
    is the culprit (files inside a named directory are searched too).
    """
    for token in argv:
        for candidate in _named_files(token):
            if not _decodes(candidate):
                return f"{candidate} is not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} " \
                       f"at position {exc.start} cannot be decoded)"
    return f"a file given on the command line is not UTF-8 text ({exc.reason} at byte {exc.start})"


_TEXT_SUFFIXES = {".yaml", ".yml", ".json", ".jsonl", ".ndjson", ".md", ".markdown", ".txt", ".csv", ".tsv",
                  ".html", ".htm"}   # inside a named directory only these are meant to be text (a PDF is not)


def _named_files(token: str) -> list[Path]:
    value = token.split("=", 1)[1] if token.startswith("--") and "=" in token else token
    try:
        p = Path(value)
        if p.is_file():
            return [p]
        if p.is_dir():
            return sorted(q for q in p.rglob("*") if q.suffix.lower() in _TEXT_SUFFIXES and q.is_file()
                          and q.stat().st_size < 50_000_000)[:2000]
    except OSError:
        pass
    return []


def _decodes(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    except OSError:
        return True
    return True


def read_text(path: str | os.PathLike, kind: str = "file") -> str:
    """Read a user's UTF-8 text file; any problem is one sentence naming the file as `kind`."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{kind} {p} is a directory, not a file")
    if not p.exists():
        raise UserError(f"{kind} {p} does not exist")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"{kind} {p} is not UTF-8 text (cannot decode byte {exc.start})") from None
    except OSError as exc:
        raise UserError(f"{kind} {p} cannot be read: {os_error_sentence(exc) or exc.strerror}") from None


def check_output_dir(path: str | os.PathLike, kind: str = "output directory") -> Path:
    """Refuse, before any work, an output directory that is a file or lies under one."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UserError(f"{kind} {p} is a file, not a directory")
    blocker = _blocking_file(p)
    if blocker is not None:
        raise UserError(f"{kind} {p} cannot be created: {blocker} is a file, not a directory")
    _check_writable(p, kind)
    return p


def _check_writable(p: Path, kind: str) -> None:
    """The directory itself (if it exists) or its nearest existing ancestor must be writable."""
    here = next((q for q in (p, *p.parents) if q.exists()), None)
    if here is not None and not os.access(here, os.W_OK):
        raise UserError(f"{kind} {p} cannot be written: {here} is read-only (a read-only file system "
                        f"or no permission); choose another location")


def check_output_file(path: str | os.PathLike, kind: str = "output file") -> Path:
    """Refuse, before any work, an output file path that is a directory or lies under a file."""
    p = Path(path)
    if p.is_dir():
        raise UserError(f"{kind} {p} is a directory, not a file")
    blocker = _blocking_file(p.parent)
    if blocker is not None:
        raise UserError(f"{kind} {p} cannot be created: {blocker} is a file, not a directory")
    _check_writable(p.parent, kind)
    return p
