"""One (arm, seed) of a study, run wherever a back end puts it.

`execute_run(job)` is the unit both back ends schedule: a plain dict in, a
plain dict out, so it pickles for a process pool and serialises for Ray.
It skips a finished run, resumes an interrupted one from its checkpoint,
and turns any failure into a result (with the traceback in the run's
error.log) instead of taking the study down.

When a Ray worker cannot see the study directory (a cluster without a
shared file system), it trains in a temporary directory and ships the
finished run back as a tar archive, which the driver unpacks in place.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

Progress = Callable[[str, str, int, int], None]     # (run_id, phase, done, total)

_progress_queue = None            # set in pool workers by init_worker


def init_worker(queue: Any, threads: int) -> None:
    """Process-pool initializer: where to report progress, and how many torch threads to use."""
    global _progress_queue
    _progress_queue = queue
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))


def make_job(run_id: str, run_dir: Path, study_dir: Path, config: dict, threads: int,
             documents: bool = True, ship: bool = False) -> dict:
    """The job dict of one run (everything a worker needs, nothing it has to import to read)."""
    from rigorlab.policy.pretrain import cache_root

    return {"run_id": run_id, "run_dir": str(run_dir), "study_dir": str(study_dir), "config": config,
            "threads": int(threads), "documents": bool(documents), "ship": bool(ship), "cache": str(cache_root())}


def _queue_progress(run_id: str) -> Callable[[str, int, int, dict], None] | None:
    q = _progress_queue
    if q is None:
        return None

    def report(phase: str, done: int, total: int, row: dict) -> None:
        if phase == "train" and done not in (1, total) and done % 5:
            return                       # every 5th step is plenty for a progress bar
        try:
            q.put_nowait((run_id, phase, done, total))
        except Exception:                # a full or closed queue must never fail a run
            pass

    return report


def execute_run(job: dict, progress: Callable[[str, int, int, dict], None] | None = None) -> dict:
    """Run one job; returns {run_id, status: done|skipped|failed, summary, error, seconds, archive}."""
    import torch

    from rigorlab.config import TrainConfig
    from rigorlab.pipeline.run import run_training
    from rigorlab.store.rundir import read_summary, run_status

    t0 = time.perf_counter()
    run_id = job["run_id"]
    run_dir = Path(job["run_dir"])
    if job.get("cache") and "RIGORLAB_CACHE" not in os.environ:
        os.environ["RIGORLAB_CACHE"] = job["cache"]
    threads_before = torch.get_num_threads()
    torch.set_num_threads(max(1, int(job.get("threads", 1))))
    workdir, shipping = run_dir, False
    if job.get("ship") and not Path(job["study_dir"]).is_dir():
        # no shared file system: train here, send the directory back
        workdir, shipping = Path(tempfile.mkdtemp(prefix="rigorlab-run-")) / run_dir.name, True
    status = run_status(workdir)
    result: dict = {"run_id": run_id, "status": "done", "summary": None, "error": None, "archive": None,
                    "resumed": status == "interrupted"}
    try:
        if status == "done":
            result.update(status="skipped", summary=read_summary(workdir))
        else:
            cfg = TrainConfig.model_validate(job["config"])
            report = progress or _queue_progress(run_id)
            result["summary"] = run_training(cfg, workdir, resume=status == "interrupted", progress=report,
                                             documents=job.get("documents", True))
            if shipping:
                result["archive"] = pack_run(workdir)
    except Exception as exc:             # a UserError or a bug: recorded, the study goes on
        result.update(status="failed", error=f"{type(exc).__name__}: {exc}")
        try:
            workdir.mkdir(parents=True, exist_ok=True)
            (workdir / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        except OSError:
            pass
    finally:
        torch.set_num_threads(threads_before)
        if shipping:
            shutil.rmtree(workdir.parent, ignore_errors=True)
    result["seconds"] = round(time.perf_counter() - t0, 2)
    return result


def pack_run(run_dir: Path) -> bytes:
    """A run directory as gzip'd tar bytes (paths relative to the directory)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for p in sorted(run_dir.rglob("*")):
            tar.add(p, arcname=p.relative_to(run_dir).as_posix(), recursive=False)
    return buf.getvalue()


def unpack_run(archive: bytes, run_dir: Path) -> None:
    """Unpack a shipped run into run_dir atomically (a sibling temp dir, then a rename)."""
    run_dir = Path(run_dir)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=run_dir.parent, prefix=f".{run_dir.name}."))
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        if run_dir.exists():
            shutil.rmtree(run_dir)
        os.replace(tmp, run_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
