"""The SQLite index of runs: config hash, arm, seed, status, summary metrics, paths.

One index per output root (`rigorlab-runs/index.sqlite`) lists the runs of
every study written there. Only the study's driver process writes it (workers
write run directories), each change in its own transaction, so a killed study
leaves a consistent index. Paths inside the root are stored relative to it,
so the whole root can be moved or copied. The index can be rebuilt from the
run directories at any time (`index_study_dir`).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from rigorlab.errors import UserError
from rigorlab.store.rundir import flatten_summary, read_summary, run_documents, run_status

INDEX_NAME = "index.sqlite"
SCHEMA_VERSION = 1
STATUSES = ("pending", "running", "done", "failed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      TEXT PRIMARY KEY,     -- <study>/<arm>/seed-<seed>
    study       TEXT NOT NULL,
    arm         TEXT NOT NULL,
    seed        INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    status      TEXT NOT NULL,        -- pending | running | done | failed | interrupted
    path        TEXT NOT NULL,        -- relative to the index's directory when inside it
    task        TEXT,
    steps       INTEGER,
    seconds     REAL,
    updated     REAL NOT NULL,        -- unix time of the last change
    owner       TEXT,                 -- pid@host of the driver while running
    error       TEXT,
    documents   TEXT                  -- JSON {kind: relative path}
);
CREATE INDEX IF NOT EXISTS runs_study ON runs (study, arm, seed);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    name   TEXT NOT NULL,             -- dotted summary key: trained.accuracy, trained.pass_at_k.64, ...
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""


@dataclass
class RunRecord:
    """One row of the index (path absolute when read back)."""

    run_id: str
    study: str
    arm: str
    seed: int
    config_hash: str
    status: str
    path: Path
    task: str | None = None
    steps: int | None = None
    seconds: float | None = None
    updated: float = 0.0
    owner: str | None = None
    error: str | None = None
    documents: dict[str, Path] = field(default_factory=dict)


def _owner() -> str:
    return f"{os.getpid()}@{socket.gethostname()}"


def _owner_alive(owner: str | None) -> bool:
    """Whether the driver that marked a run `running` still exists (unknowable on another host: True)."""
    if not owner or "@" not in owner:
        return False
    pid, _, host = owner.partition("@")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


class RunIndex:
    """Read and write the run index at `path` (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.root = self.path.parent
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            with closing(self._connect()) as con, con:
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise UserError(f"{self.path} was written by a newer rigorlab (index schema {version})")
                con.executescript(_SCHEMA)
                con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{self.path} is not a rigorlab run index ({exc})") from None

    @classmethod
    def at(cls, root: str | Path) -> "RunIndex":
        """The index of an output root (root/index.sqlite)."""
        return cls(Path(root) / INDEX_NAME)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("PRAGMA foreign_keys = ON")
        return con

    def _rel(self, p: str | Path) -> str:
        p = Path(p).resolve()
        try:
            return p.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(p)

    def _abs(self, s: str) -> Path:
        p = Path(s)
        return p if p.is_absolute() else self.root / p

    # ---------------------------------------------------------------- writes
    def register(self, run_id: str, study: str, arm: str, seed: int, config_hash: str, path: str | Path,
                 task: str | None = None) -> None:
        """Add a planned run, or refresh its identity; keeps the status of a known run."""
        with closing(self._connect()) as con, con:
            con.execute(
                "INSERT INTO runs (run_id, study, arm, seed, config_hash, status, path, task, updated) "
                "VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) "
                "ON CONFLICT (run_id) DO UPDATE SET study = excluded.study, arm = excluded.arm, "
                "seed = excluded.seed, config_hash = excluded.config_hash, path = excluded.path, "
                "task = excluded.task",
                (run_id, study, arm, int(seed), config_hash, self._rel(path), task, time.time()))

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        owner = _owner() if status == "running" else None
        with closing(self._connect()) as con, con:
            cur = con.execute("UPDATE runs SET status = ?, error = ?, owner = ?, updated = ? WHERE run_id = ?",
                              (status, error, owner, time.time(), run_id))
            if cur.rowcount == 0:
                raise KeyError(f"run {run_id!r} is not in {self.path}")

    def record_done(self, run_id: str, run_dir: str | Path, summary: dict | None = None) -> None:
        """Mark a run done and store its summary metrics and document paths (one transaction)."""
        summary = summary if summary is not None else read_summary(run_dir) or {}
        metrics = flatten_summary(summary)
        docs = {k: self._rel(v) for k, v in run_documents(run_dir).items()}
        with closing(self._connect()) as con, con:
            con.execute("UPDATE runs SET status = 'done', error = NULL, owner = NULL, steps = ?, seconds = ?, "
                        "documents = ?, updated = ? WHERE run_id = ?",
                        (summary.get("steps"), summary.get("seconds"), json.dumps(docs), time.time(), run_id))
            con.execute("DELETE FROM metrics WHERE run_id = ?", (run_id,))
            con.executemany("INSERT INTO metrics (run_id, name, value) VALUES (?, ?, ?)",
                            [(run_id, k, v) for k, v in metrics.items()])

    # ----------------------------------------------------------------- reads
    def runs(self, study: str | None = None, arm: str | None = None, status: str | None = None) -> list[RunRecord]:
        """Runs matching the filters, ordered by study, arm, seed.

        A run marked `running` whose driver process is gone reads as `interrupted`.
        """
        where, args = [], []
        for col, val in (("study", study), ("arm", arm)):
            if val is not None:
                where.append(f"{col} = ?")
                args.append(val)
        sql = ("SELECT run_id, study, arm, seed, config_hash, status, path, task, steps, seconds, updated, owner, "
               "error, documents FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY study, arm, seed")
        with closing(self._connect()) as con:
            rows = con.execute(sql, args).fetchall()
        out = []
        for r in rows:
            rec = RunRecord(run_id=r[0], study=r[1], arm=r[2], seed=r[3], config_hash=r[4], status=r[5],
                            path=self._abs(r[6]), task=r[7], steps=r[8], seconds=r[9], updated=r[10],
                            owner=r[11], error=r[12],
                            documents={k: self._abs(v) for k, v in json.loads(r[13] or "{}").items()})
            if rec.status == "running" and not _owner_alive(rec.owner):
                rec.status = "interrupted"
            if status is None or rec.status == status:
                out.append(rec)
        return out

    def get(self, run_id: str) -> RunRecord | None:
        """One run by id, or None."""
        return next((r for r in self.runs() if r.run_id == run_id), None)

    def metrics(self, run_id: str) -> dict[str, float]:
        with closing(self._connect()) as con:
            return dict(con.execute("SELECT name, value FROM metrics WHERE run_id = ? ORDER BY name", (run_id,)))

    def studies(self) -> list[str]:
        with closing(self._connect()) as con:
            return [r[0] for r in con.execute("SELECT DISTINCT study FROM runs ORDER BY study")]


def sync_run(index: RunIndex, run_id: str, run_dir: str | Path) -> str:
    """Set a registered run's status from its directory (done runs get their metrics); returns it."""
    status = run_status(run_dir)
    if status == "done":
        index.record_done(run_id, run_dir)
        return "done"
    current = index.get(run_id)
    if current is not None and current.status == "failed" and status == "interrupted":
        return "failed"        # keep the error message of a failed run
    index.set_status(run_id, "interrupted" if status == "interrupted" else "pending")
    return "interrupted" if status == "interrupted" else "pending"


def sync_runs(index: RunIndex, runs: Iterable[tuple[str, Path]]) -> dict[str, str]:
    """sync_run for many (run_id, run_dir) pairs."""
    return {rid: sync_run(index, rid, d) for rid, d in runs}
