"""CLI: `rigorlab train` and `rigorlab pretrain`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("pretrain")(pretrain)
    app.command("config")(config_doc)


def train(
    config: Optional[Path] = typer.Argument(None, help="Training config YAML (omit for the defaults)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: rigorlab-runs/train-<hash>)."),
    set_: List[str] = typer.Option([], "--set", help="Override a field: --set grpo.beta=0.01 (repeatable)."),
    resume: bool = typer.Option(False, "--resume", help="Continue a killed run from its last checkpoint."),
    device: Optional[str] = typer.Option(None, "--device", help="cpu or cuda (overrides the config)."),
    no_docs: bool = typer.Option(False, "--no-docs", help="Skip the datasheet / model card / Croissant documents."),
) -> None:
    """Train a policy with GRPO; writes metrics, the model, eval.json and the disclosure documents."""
    from rigorlab.config import load_config
    from rigorlab.progress import console, phase_progress
    from rigorlab.rl.run import run_training

    overrides = list(set_) + ([f"device={device}"] if device else [])
    cfg = load_config(config, overrides)
    run_dir = out or Path("rigorlab-runs") / f"train-{cfg.hash()}"
    with phase_progress() as progress:
        summary = run_training(cfg, run_dir, resume=resume, progress=progress, documents=not no_docs)
    ref, trained = summary["reference"], summary["trained"]
    from rich.table import Table

    table = Table(title=f"{cfg.task.name}: reference vs trained ({summary['steps']} steps, {summary['seconds']} s)")
    table.add_column("metric")
    table.add_column("reference", justify="right")
    table.add_column("trained", justify="right")
    rows = [("accuracy", "accuracy"), ("distinct correct answers", "distinct_correct"),
            ("answer entropy (nats)", "answer_entropy"), ("coverage of correct set", "coverage"),
            ("distinct reasoning paths", "distinct_paths")]
    for label, key in rows:
        if key in ref or key in trained:
            table.add_row(label, _fmt(ref.get(key)), _fmt(trained.get(key)))
    for k in ("1", "8", "64"):
        if k in ref.get("pass_at_k", {}):
            table.add_row(f"pass@{k}", _fmt(ref["pass_at_k"][k]), _fmt(trained["pass_at_k"][k]))
    for d in ("reverse", "forward"):
        key = f"tv_to_optimum/{d}"
        if key in trained:
            table.add_row(f"TV to {d}-KL optimum", "", _fmt(trained[key]))
    console.print(table)
    console.print(f"run directory: {run_dir}")


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def pretrain(
    task: str = typer.Option("pairs", "--task", help="pairs | chain (or a registered task)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Take task/policy settings from a training config."),
    set_: List[str] = typer.Option([], "--set", help="Override a field, e.g. --set policy.pretrain.zipf=2."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write the model here instead of the cache."),
    force: bool = typer.Option(False, "--force", help="Retrain even if the cache holds this config."),
) -> None:
    """Pretrain the embedded tiny reference on a synthetic corpus (cached by config hash)."""
    import json

    from rigorlab.config import load_config
    from rigorlab.policy.pretrain import pretrain as run_pretrain
    from rigorlab.progress import console, phase_progress

    cfg = load_config(config, ([f"task.name={task}"] if config is None else []) + list(set_))
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
            if isinstance(ann, type) and hasattr(ann, "model_fields") and name != "loss":
                walk(ann, f"{prefix}{name}.")
                continue
            default = field.get_default(call_default_factory=True)
            if hasattr(default, "model_dump"):
                default = default.model_dump()
            console.print(f"[bold]{prefix}{name}[/bold] = {default!r}\n    {field.description or ''}")

    walk(TrainConfig)
