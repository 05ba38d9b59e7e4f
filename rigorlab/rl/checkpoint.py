"""Checkpoints that make a SIGKILL harmless.

Everything that decides the next step is saved: weights, optimiser state,
controller values, shaper state (answer counts) and the step number. Each
step's sampling seed derives from (seed, step), so a resumed run repeats the
uninterrupted run exactly. The file is written to a temporary name and
renamed, so a kill leaves the previous checkpoint intact.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from rigorlab.io import atomic_write_bytes

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> Path:
    buf = io.BytesIO()
    torch.save(state, buf)
    return atomic_write_bytes(Path(run_dir) / CHECKPOINT, buf.getvalue())


def load_checkpoint(run_dir: Path) -> dict[str, Any] | None:
    path = Path(run_dir) / CHECKPOINT
    if not path.is_file():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)
