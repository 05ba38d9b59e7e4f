"""Run a study: plan the (arm, seed) runs, pretrain the references once, dispatch, index.

Layout under the output root (default ./rigorlab-runs):

    index.sqlite                    the run index of every study written here
    <study>/study.json              what the study is: arms, overrides, seeds, baseline
    <study>/runs/<arm>/seed-<s>/    one run directory each (config, metrics, eval, model, docs)
    <study>/stats.json              intervals and paired differences
    <study>/report.html             the self-contained report

Re-running the same study skips finished runs and resumes interrupted ones
from their checkpoints; a killed study loses nothing already written.

The report is a layer above (rigorlab.report reads what a study wrote); a
caller that wants one at the end passes `reporter` (the CLI passes
rigorlab.report.build.build_report), so this package never imports it.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from filelock import FileLock, Timeout

from rigorlab.config import build_config, read_yaml_mapping
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json
from rigorlab.store.index import RunIndex
from rigorlab.store.rundir import run_status
from rigorlab.study.backends import BACKENDS, run_local, run_ray
from rigorlab.study.spec import Arm, Study
from rigorlab.study.worker import make_job, unpack_run

STUDY_FILE = "study.json"
Reporter = Callable[..., Path]        # (study_dir, index=RunIndex) -> the report's path


@dataclass
class PlannedRun:
    run_id: str
    arm: Arm
    seed: int
    run_dir: Path
    config_hash: str


@dataclass
class StudyResult:
    study_dir: Path
    index_path: Path
    report_path: Path | None
    counts: dict[str, int] = field(default_factory=dict)   # done / skipped / resumed / failed
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def plan(study: Study, study_dir: Path) -> list[PlannedRun]:
    """Every (arm, seed) run with its directory; refuses a directory holding a different config."""
    runs = []
    for arm in study.arms:
        for seed in study.seeds:
            cfg = arm.for_seed(seed)
            run_dir = study_dir / "runs" / arm.slug / f"seed-{seed}"
            cfg_path = run_dir / "config.yaml"
            if cfg_path.is_file():
                old = build_config(read_yaml_mapping(cfg_path), str(cfg_path))
                if old.hash() != cfg.hash():
                    raise UserError(f"{run_dir} holds a run of a different config than arm {arm.name!r} seed {seed} "
                                    "now asks for; use another --out or remove that directory")
            runs.append(PlannedRun(f"{study.name}/{arm.slug}/seed-{seed}", arm, seed, run_dir, cfg.hash()))
    return runs


def study_record(study: Study) -> dict:
    """study.json: enough to rebuild the report without the study file."""
    return {
        "name": study.name, "description": study.spec.description, "source": study.source,
        "seeds": study.seeds, "baseline": study.baseline, "baseline_reason": study.baseline_reason,
        "metrics": list(study.spec.metrics), "spec": study.spec.model_dump(mode="json"),
        "arms": [{"name": a.name, "label": a.label, "group": a.group, "slug": a.slug, "description": a.description,
                  "overrides": a.overrides, "config_hash": a.config.hash(), "task": a.config.task.name,
                  "run_hashes": {str(s): a.for_seed(s).hash() for s in study.seeds}}
                 for a in study.arms],
    }


@contextmanager
def study_lock(study_dir: Path) -> Iterator[None]:
    """One driver per study directory at a time (an OS lock: released when the holder dies).

    The holder's pid goes to a separate file, since filelock truncates the lock file itself.
    """
    study_dir.mkdir(parents=True, exist_ok=True)
    owner = study_dir / ".lock.pid"
    lock = FileLock(study_dir / ".lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            pid = owner.read_text(encoding="utf-8").strip()
        except OSError:
            pid = ""
        raise UserError(f"another rigorlab run is writing {study_dir} (pid {pid or '?'})") from None
    try:
        owner.write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        lock.release()


def prepare_references(study: Study, progress=None) -> list[Path]:
    """Pretrain (or find in the cache) every tiny reference the arms use, once, before any run starts."""
    from rigorlab.policy.pretrain import pretrain

    seen, out = set(), []
    for arm in study.arms:
        cfg = arm.config
        if cfg.policy.model != "tiny":
            continue
        key = (cfg.task.model_dump_json(), cfg.policy.model_dump_json())
        if key in seen:
            continue
        seen.add(key)
        cb = (lambda s, n, loss, t=cfg.task.name: progress(f"pretrain {t}", s, n)) if progress else None
        out.append(_with_threads(run_threads(cfg), pretrain, cfg.task, cfg.policy, progress=cb))
    return out


def _with_threads(threads: int, fn, *args, **kwargs):
    """Call fn with torch limited to `threads` (a run's count): the study's process pretrains while its
    workers wait, and torch's default of one thread per core spins badly on a machine already busy."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return fn(*args, **kwargs)
    finally:
        torch.set_num_threads(before)


def run_threads(cfg) -> int:
    """torch threads of one run: the config's `threads`, else 1.

    A study parallelises across runs, and the thread count is part of what
    makes a run's floating point reproducible, so it never depends on --workers
    or on the back end.
    """
    return cfg.threads if cfg.threads > 0 else 1


def default_workers(n_jobs: int) -> int:
    return max(1, min(os.cpu_count() or 1, n_jobs))


def run_study(study: Study, out: str | Path = "rigorlab-runs", workers: int | None = None, backend: str = "local",
              address: str | None = None, documents: bool = True, reporter: Reporter | None = None,
              display: bool = True) -> StudyResult:
    """Run every unfinished (arm, seed) of `study` under `out`; then `reporter(study_dir, index=...)`, if given."""
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")
    if address and backend != "ray":
        raise UserError("--address is for --backend ray")
    t0 = time.perf_counter()
    root = Path(out).resolve()
    study_dir = root / study.name
    with study_lock(study_dir):
        runs = plan(study, study_dir)
        index = RunIndex.at(root)
        atomic_write_json(study_dir / STUDY_FILE, study_record(study))
        result = StudyResult(study_dir=study_dir, index_path=index.path, report_path=None,
                             counts={"done": 0, "skipped": 0, "resumed": 0, "failed": 0})
        todo = []
        for r in runs:
            index.register(r.run_id, study.name, r.arm.name, r.seed, r.config_hash, r.run_dir, r.arm.config.task.name)
            status = run_status(r.run_dir)
            if status == "done":
                index.record_done(r.run_id, r.run_dir)
                result.counts["skipped"] += 1
            else:
                index.set_status(r.run_id, "interrupted" if status == "interrupted" else "pending")
                todo.append(r)
        n_workers = workers or default_workers(len(todo))
        by_id = {r.run_id: r for r in runs}
        with _Display(display, len(runs), result.counts["skipped"]) as show:
            if todo:
                prepare_references(study, show.phase if display else None)
            jobs = [make_job(r.run_id, r.run_dir, study_dir, r.arm.for_seed(r.seed).model_dump(mode="json"),
                             run_threads(r.arm.config), documents, ship=bool(address)) for r in todo]
            threads = max([j["threads"] for j in jobs] or [1])

            def on_start(run_id: str) -> None:
                index.set_status(run_id, "running")

            def on_result(res: dict) -> None:
                r = by_id[res["run_id"]]
                if res.get("archive") and run_status(r.run_dir) != "done":
                    unpack_run(res["archive"], r.run_dir)
                if res["status"] in ("done", "skipped") and run_status(r.run_dir) == "done":
                    index.record_done(r.run_id, r.run_dir)
                    result.counts["done" if res["status"] == "done" else "skipped"] += 1
                    if res.get("resumed"):
                        result.counts["resumed"] += 1
                else:
                    error = res.get("error") or "the run did not complete"
                    index.set_status(r.run_id, "failed", error)
                    result.counts["failed"] += 1
                    result.failures.append((r.run_id, error))
                show.finished(r.run_id, res["status"])

            try:
                if backend == "ray":
                    run_ray(jobs, n_workers, threads, on_result, address, on_start)
                else:
                    run_local(jobs, n_workers, threads, on_result, show.progress if display else None, on_start)
            except BaseException:
                for r in todo:
                    if run_status(r.run_dir) != "done" and (rec := index.get(r.run_id)) and rec.status == "running":
                        index.set_status(r.run_id, "interrupted")
                raise
        if reporter is not None:
            result.report_path = reporter(study_dir, index=index)
    result.seconds = round(time.perf_counter() - t0, 1)
    return result


class _Display:
    """A rich progress display: one bar for the study, one per running run (stderr)."""

    def __init__(self, enabled: bool, total: int, already: int) -> None:
        self.enabled, self.total, self.already = enabled, total, already
        self.bar = None
        self.tasks: dict[str, int] = {}

    def __enter__(self) -> "_Display":
        if self.enabled:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            from rigorlab.progress import console

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=False)
            self.bar.__enter__()
            self.study = self.bar.add_task("runs", total=self.total, completed=self.already)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def phase(self, name: str, done: int, total: int) -> None:
        self.progress(name, "", done, total)

    def progress(self, run_id: str, phase: str, done: int, total: int) -> None:
        if self.bar is None:
            return
        label = f"  {run_id.split('/', 1)[-1]} {phase}".rstrip()
        tid = self.tasks.get(run_id)
        if tid is None:
            tid = self.tasks[run_id] = self.bar.add_task(label, total=total)
        self.bar.update(tid, description=label, completed=done, total=total)
        if not phase and done >= total:
            self.bar.remove_task(tid)
            del self.tasks[run_id]

    def finished(self, run_id: str, status: str) -> None:
        if self.bar is None:
            return
        tid = self.tasks.pop(run_id, None)
        if tid is not None:
            self.bar.remove_task(tid)
        self.bar.advance(self.study)
        if status == "failed":
            self.bar.console.print(f"[red]run {run_id} failed[/red] (see its error.log)")
