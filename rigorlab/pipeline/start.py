"""Claiming a run directory: one process at a time, and a failed start leaves nothing behind.

`rigorlab train` (and each study run) holds a file lock in the run directory
for as long as it trains, so a second `train --resume` on the same directory
gets one sentence instead of both training into the same files. If the start
fails before the first step (a model that cannot be loaded, too little
memory) and this call created the directory, the directory is removed, so the
corrected command starts clean; a directory that existed before is left for
the trainer, which lets a new config replace the one of a run that never
started (rigorlab.store.rundir.run_started).
"""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from rigorlab.errors import UserError
from rigorlab.store.rundir import run_started

LOCK_NAME = ".train.lock"


@contextmanager
def claim_run_dir(run_dir: str | Path) -> Iterator[Path]:
    """Hold run_dir's lock while the body runs; on failure before any step, undo what this call created."""
    d = Path(run_dir)
    created = not d.exists()
    d.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(d / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise UserError(f"run directory {d} is in use by another rigorlab process (it holds {d / LOCK_NAME}); "
                        f"wait for it to finish or choose another --out") from None
    try:
        yield d
    except BaseException:
        if created and not run_started(d):
            shutil.rmtree(d, ignore_errors=True)
        raise
    finally:
        lock.release()
