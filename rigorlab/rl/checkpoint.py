"""Checkpoints that make a SIGKILL harmless.

Everything that decides the next step is saved: weights, optimiser state,
controller values, shaper state (answer counts) and the step number. Each
step's sampling seed derives from (seed, step), so a resumed run repeats the
uninterrupted run exactly. The file is written to a temporary name and
renamed, so a kill leaves the previous checkpoint intact. A LoRA run saves
its adapters only (`trainable_only`): the base weights never change.
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


def model_state(model: torch.nn.Module, trainable_only: bool = False) -> dict[str, torch.Tensor]:
    """The model's state dict, or only its parameters that train (LoRA adapters)."""
    if not trainable_only:
        return model.state_dict()
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_model_state(model: torch.nn.Module, state: dict[str, torch.Tensor], trainable_only: bool = False) -> None:
    """Restore `model_state`; a trainable-only state must hold every trainable parameter and nothing else."""
    if not trainable_only:
        model.load_state_dict(state)
        return
    want = {n for n, p in model.named_parameters() if p.requires_grad}
    if set(state) != want:
        raise ValueError(f"checkpoint holds {len(state)} adapter tensors, the model trains {len(want)}: "
                         "it was written for another policy.lora")
    model.load_state_dict(state, strict=False)
