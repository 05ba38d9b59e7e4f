"""The run store: run status from the directory, the SQLite index, and its survival of moves and kills."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import pytest

from rigorlab.errors import UserError
from rigorlab.store import RunIndex, flatten_summary, read_summary, run_status, sync_run

SUMMARY = {"steps": 4, "seconds": 1.5, "complete": True, "config_hash": "abc",
           "train": {"accuracy": 0.5, "entropy": 0.7},
           "reference": {"accuracy": 0.4, "pass_at_k": {"1": 0.4, "8": 0.9}},
           "trained": {"accuracy": 0.6, "pass_at_k": {"1": 0.6, "8": 0.95}, "coverage": None, "flag": True}}


def _fake_run(d, complete=True):
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.yaml").write_text("seed: 0\n")
    (d / "summary.json").write_text(json.dumps({**SUMMARY, "complete": complete}))
    (d / "docs").mkdir(exist_ok=True)
    (d / "docs" / "datasheet.md").write_text("# datasheet\n")
    (d / "docs" / "model_card.md").write_text("# card\n")
    return d


def test_status_comes_from_the_directory(tmp_path):
    d = tmp_path / "run"
    assert run_status(d) == "new"
    d.mkdir()
    (d / "config.yaml").write_text("seed: 0\n")
    assert run_status(d) == "interrupted"
    (d / "summary.json").write_text('{"complete": fal')           # torn write of an older tool
    assert run_status(d) == "interrupted" and read_summary(d) is None
    _fake_run(d, complete=False)
    assert run_status(d) == "interrupted"                           # summary written, documents not yet
    _fake_run(d, complete=True)
    assert run_status(d) == "done"


def test_flatten_summary_keeps_numeric_leaves_only():
    flat = flatten_summary(SUMMARY)
    assert flat["trained.pass_at_k.8"] == 0.95 and flat["train.entropy"] == 0.7 and flat["steps"] == 4.0
    assert "trained.coverage" not in flat and "trained.flag" not in flat and "complete" not in flat


def test_register_status_done_and_query(tmp_path):
    root = tmp_path / "root"
    index = RunIndex.at(root)
    a = _fake_run(root / "s" / "runs" / "a" / "seed-0")
    index.register("s/a/seed-0", "s", "a", 0, "h1", a, "pairs")
    index.register("s/b/seed-0", "s", "b", 0, "h2", root / "s" / "runs" / "b" / "seed-0", "pairs")
    index.register("t/a/seed-1", "t", "a", 1, "h3", root / "t" / "runs" / "a" / "seed-1", "chain")
    assert [r.status for r in index.runs()] == ["pending"] * 3
    index.record_done("s/a/seed-0", a)
    index.set_status("s/b/seed-0", "failed", "ValueError: boom")
    rec = index.get("s/a/seed-0")
    assert rec.status == "done" and rec.steps == 4 and rec.seconds == 1.5 and rec.config_hash == "h1"
    assert rec.path == a and set(rec.documents) == {"datasheet", "model_card"}
    assert rec.documents["datasheet"].read_text() == "# datasheet\n"
    assert index.metrics("s/a/seed-0")["trained.accuracy"] == 0.6
    assert [r.run_id for r in index.runs(study="s")] == ["s/a/seed-0", "s/b/seed-0"]
    assert [r.run_id for r in index.runs(status="failed")] == ["s/b/seed-0"]
    assert index.get("s/b/seed-0").error == "ValueError: boom"
    assert index.studies() == ["s", "t"]
    # re-registering a known run keeps its status
    index.register("s/a/seed-0", "s", "a", 0, "h1", a, "pairs")
    assert index.get("s/a/seed-0").status == "done"
    with pytest.raises(ValueError):
        index.set_status("s/a/seed-0", "finished")
    with pytest.raises(KeyError):
        index.set_status("nope", "done")


def test_paths_are_relative_so_the_root_can_move(tmp_path):
    root = tmp_path / "root"
    index = RunIndex.at(root)
    d = _fake_run(root / "s" / "runs" / "a" / "seed-0")
    index.register("s/a/seed-0", "s", "a", 0, "h", d)
    index.record_done("s/a/seed-0", d)
    moved = tmp_path / "elsewhere"
    shutil.move(str(root), str(moved))
    rec = RunIndex.at(moved).get("s/a/seed-0")
    assert rec.path == moved / "s" / "runs" / "a" / "seed-0" and rec.path.is_dir()
    assert rec.documents["model_card"].is_file()


def test_running_with_a_dead_driver_reads_as_interrupted(tmp_path):
    index = RunIndex.at(tmp_path)
    index.register("s/a/seed-0", "s", "a", 0, "h", tmp_path / "a")
    index.set_status("s/a/seed-0", "running")
    assert index.get("s/a/seed-0").status == "running"          # this process is the driver
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    with sqlite3.connect(index.path) as con:
        owner = con.execute("SELECT owner FROM runs").fetchone()[0]
        con.execute("UPDATE runs SET owner = ?", (f"{dead.stdout.strip()}@{owner.split('@', 1)[1]}",))
    assert index.get("s/a/seed-0").status == "interrupted"


def test_sync_run_follows_the_directory(tmp_path):
    index = RunIndex.at(tmp_path)
    d = tmp_path / "s" / "a"
    index.register("s/a", "s", "a", 0, "h", d)
    assert sync_run(index, "s/a", d) == "pending"
    d.mkdir(parents=True)
    (d / "config.yaml").write_text("seed: 0\n")
    assert sync_run(index, "s/a", d) == "interrupted"
    index.set_status("s/a", "failed", "boom")
    assert sync_run(index, "s/a", d) == "failed" and index.get("s/a").error == "boom"
    _fake_run(d)
    assert sync_run(index, "s/a", d) == "done" and index.metrics("s/a")["trained.accuracy"] == 0.6


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    bad = tmp_path / "index.sqlite"
    bad.write_text("not a database, just text " * 100)
    with pytest.raises(UserError, match="is not a rigorlab run index"):
        RunIndex(bad)
    newer = tmp_path / "newer" / "index.sqlite"
    newer.parent.mkdir()
    with sqlite3.connect(newer) as con:
        con.execute("PRAGMA user_version = 99")
    with pytest.raises(UserError, match="newer rigorlab"):
        RunIndex(newer)
