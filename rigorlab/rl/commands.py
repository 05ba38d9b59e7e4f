"""CLI: `rigorlab pretrain` and `rigorlab config` (training itself: rigorlab.pipeline.commands)."""

from __future__ import annotations

import typing

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("pretrain")(pretrain)
    app.command("config")(config_doc)


def pretrain(
    task: str = typer.Option("pairs", "--task", help="pairs | chain | steps (or a registered task)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Take task/policy settings from a training config."),
    set_: List[str] = typer.Option([], "--set", help="Override a field, e.g. --set policy.pretrain.zipf=2."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the model here instead of the cache."),
    force: bool = typer.Option(False, "--force", help="Retrain even if the cache holds this config."),
) -> None:
    """Pretrain the embedded tiny reference on a synthetic corpus (cached by config hash)."""
    import json

    from rigorlab.config import load_config
    from rigorlab.userpaths import check_output_dir

    cfg = load_config(config, ([f"task.name={task}"] if config is None else []) + list(set_))
    if out is not None:
        check_output_dir(out, "--out")   # before importing torch and pretraining, not after

    from rigorlab.policy.pretrain import pretrain as run_pretrain
    from rigorlab.progress import console, phase_progress

    with phase_progress() as progress:
        path = run_pretrain(cfg.task, cfg.policy, out_dir=out, force=force,
                            progress=lambda s, n, loss: progress("pretrain", s, n, {"pretrain_loss": loss}))
    info = json.loads((path / "corpus.json").read_text())
    console.print(f"reference policy: {path}  ({info['parameters']:,} parameters, final loss {info['final_loss']:.3f})")


def config_doc() -> None:
    """Print every training-config field with its default and description."""
    from rich.console import Console

    from rigorlab.config import TrainConfig

    console = Console()

    def walk(model, prefix: str = "") -> None:
        for name, field in model.model_fields.items():
            ann = field.annotation
            inner = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(inner) == 1 and isinstance(inner[0], type) and hasattr(inner[0], "model_fields"):
                # an optional block (e.g. policy.lora: null = off): list its fields too
                console.print(f"[bold]{prefix}{name}[/bold] = None\n    {field.description or ''}")
                walk(inner[0], f"{prefix}{name}.")
                continue
            if isinstance(ann, type) and hasattr(ann, "model_fields") and name != "loss":
                walk(ann, f"{prefix}{name}.")
                continue
            default = field.get_default(call_default_factory=True)
            if hasattr(default, "model_dump"):
                default = default.model_dump()
            console.print(f"[bold]{prefix}{name}[/bold] = {default!r}\n    {field.description or ''}")

    walk(TrainConfig)
