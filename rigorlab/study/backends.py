"""Where a study's runs execute: local processes or a Ray cluster.

Both back ends take the same job dicts and call the same `execute_run`, one
task per (arm, seed), with the same number of torch threads per run, so the
same seeds give the same numbers on either. Results come back through
`on_result` in the driver, which alone writes the run index.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable

from rigorlab.errors import UserError
from rigorlab.study.worker import execute_run, init_worker

OnResult = Callable[[dict], None]
OnProgress = Callable[[str, str, int, int], None]      # run_id, phase, done, total

BACKENDS = ("local", "ray")


def _failed(job: dict, exc: BaseException) -> dict:
    return {"run_id": job["run_id"], "status": "failed", "summary": None, "archive": None, "resumed": False,
            "error": f"{type(exc).__name__}: {exc}", "seconds": None}


def run_local(jobs: list[dict], workers: int, threads: int, on_result: OnResult,
              on_progress: OnProgress | None = None, on_start: Callable[[str], None] | None = None) -> None:
    """Run jobs in this process (workers = 1) or in a pool of spawned processes."""
    if workers <= 1:
        for job in jobs:
            if on_start:
                on_start(job["run_id"])
            on_result(execute_run(job, progress=_direct_progress(job["run_id"], on_progress)))
        return
    ctx = mp.get_context("spawn")          # fork after torch has started threads is unsafe
    q = ctx.Queue()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init_worker, initargs=(q, threads))
    futures = {pool.submit(execute_run, job): job for job in jobs}
    started: set[str] = set()
    try:
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            _drain(q, started, on_progress, on_start)
            for fut in done:
                job = futures[fut]
                try:
                    result = fut.result()
                except Exception as exc:       # the worker process died (out of memory, killed)
                    result = _failed(job, exc)
                on_result(result)
        _drain(q, started, on_progress, on_start)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        q.close()


def _direct_progress(run_id: str, on_progress: OnProgress | None):
    if on_progress is None:
        return None
    return lambda phase, done, total, row: on_progress(run_id, phase, done, total)


def _drain(q, started: set[str], on_progress: OnProgress | None, on_start) -> None:
    while True:
        try:
            run_id, phase, done, total = q.get_nowait()
        except (queue_mod.Empty, OSError, ValueError):
            return
        if run_id not in started:
            started.add(run_id)
            if on_start:
                on_start(run_id)
        if on_progress:
            on_progress(run_id, phase, done, total)


def run_ray(jobs: list[dict], workers: int, threads: int, on_result: OnResult, address: str | None = None,
            on_start: Callable[[str], None] | None = None) -> None:
    """One Ray task per job (each asks Ray for `threads` CPUs). Without `address` and without a Ray
    already initialised in this process, starts a local Ray with workers * threads CPUs."""
    try:
        import ray
    except ImportError:
        raise UserError("--backend ray needs the 'ray' package (pip install 'ray>=2.9')") from None
    started_here = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=workers * threads, include_dashboard=False, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UserError(f"cannot start or reach Ray at {address or 'a local instance'}: {exc}") from None
        started_here = True
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1)) or 1
        task = ray.remote(execute_run).options(num_cpus=min(threads, cpus), max_retries=0)
        pending = {}
        for job in jobs:
            pending[task.remote(job)] = job
            if on_start:
                on_start(job["run_id"])
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in ready:
                job = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as exc:       # the task or its worker failed outside execute_run
                    result = _failed(job, exc)
                on_result(result)
    finally:
        if started_here:
            ray.shutdown()
