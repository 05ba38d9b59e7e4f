"""CLI: `rigorlab train` (one run end to end, rigorlab.pipeline.run)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("train")(train)


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
    from rigorlab.progress import phase_progress
    from rigorlab.userpaths import check_output_dir

    overrides = list(set_) + ([f"device={device}"] if device else [])
    cfg = load_config(config, overrides)
    run_dir = check_output_dir(out or Path("rigorlab-runs") / f"train-{cfg.hash()}", "run directory")
    from rigorlab.pipeline.run import run_training   # torch: imported once the cheap checks passed
    with phase_progress() as progress:
        summary = run_training(cfg, run_dir, resume=resume, progress=progress, documents=not no_docs)
    ref, trained = summary["reference"], summary["trained"]
    from rich.console import Console
    from rich.table import Table

    # the time is the whole run: the reference (pretrained on first use), training and evaluation
    table = Table(title=f"{cfg.task.name}: reference vs trained "
                        f"({summary['steps']} steps, {summary['seconds']:.0f} s in all)")
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
    results = Console()   # the result goes to stdout (`> file` keeps it); progress went to stderr
    results.print(table)
    results.print(f"run directory: {run_dir}")


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)
