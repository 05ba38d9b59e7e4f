"""The campaign log: an append-only JSONL record of every query and answer, and the resume cache.

Every query to the target (and to a judge or attacker model) is appended as
one JSON line, flushed and fsynced before the campaign moves on, so a SIGKILL
loses at most the query in flight. A query's key hashes where it sits in the
campaign (goal, phase, seed, the conversation, and how many times that same
conversation was sent before in that place); a resumed campaign recomputes the
same keys in the same order and takes answers from the log instead of
querying again. Failed queries are logged too, but are not answers: resume
retries them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from rigorlab.io import read_jsonl


def query_key(scope: tuple, messages: list[dict[str, str]], occurrence: int) -> str:
    raw = json.dumps([list(scope), messages, occurrence], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class Ledger:
    """Append-only log with a cache of answered queries; see the module docstring."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._drop_torn_tail()
        self.answers: dict[str, dict[str, Any]] = {}
        for row in read_jsonl(self.path):
            if row.get("error") is None and "key" in row:
                self.answers[row["key"]] = row
        self.replayed = 0
        self._seen: Counter = Counter()
        self._fh = open(self.path, "a", encoding="utf-8")

    def _drop_torn_tail(self) -> None:
        # A kill mid-append leaves a line without its newline; cut it so the next
        # append starts a fresh line (read_jsonl would skip it, but not once it is mid-file).
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as fh:
                fh.truncate(data.rfind(b"\n") + 1)

    def key(self, scope: tuple, messages: list[dict[str, str]]) -> str:
        """The next key for `messages` sent in `scope` (counts repeats, so each send has its own key)."""
        base = query_key(scope, messages, 0)
        occurrence = self._seen[base]
        self._seen[base] += 1
        return base if occurrence == 0 else query_key(scope, messages, occurrence)

    def lookup(self, key: str) -> dict[str, Any] | None:
        row = self.answers.get(key)
        if row is not None:
            self.replayed += 1
        return row

    def append(self, row: dict[str, Any]) -> None:
        self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())
        if row.get("error") is None:
            self.answers[row["key"]] = row

    def rows(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path)

    def close(self) -> None:
        self._fh.close()


class LoggedTarget:
    """A judge or attacker model whose answers go through the ledger (asked once, replayed on resume)."""

    def __init__(self, target: Any, ledger: Ledger, phase: str, scope: tuple = ()) -> None:
        self.target, self.ledger, self.phase, self.scope = target, ledger, phase, scope

    def respond(self, messages: list[dict[str, str]], **sampling: Any) -> str:
        key = self.ledger.key((self.phase,) + self.scope, messages)
        row = self.ledger.lookup(key)
        if row is not None:
            return row["response"]
        text = self.target.respond(messages, **sampling)
        self.ledger.append({"key": key, "phase": self.phase, "messages": messages, "response": text,
                            "error": None})
        return text
