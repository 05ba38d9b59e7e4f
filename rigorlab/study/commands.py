"""CLI: `rigorlab runs list` and `rigorlab study plan` (`run` and `report`: rigorlab.report.commands)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

DEFAULT_OUT = Path("rigorlab-runs")


def register(app: typer.Typer) -> None:
    runs_app = typer.Typer(help="Query the run index.", no_args_is_help=True)
    runs_app.command("list")(runs_list)
    app.add_typer(runs_app, name="runs")
    study_app = typer.Typer(help="Inspect study definitions.", no_args_is_help=True)
    study_app.command("plan")(study_plan)
    app.add_typer(study_app, name="study")


def runs_list(
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Output root holding index.sqlite."),
    study: Optional[str] = typer.Option(None, "--study", help="Only this study."),
    arm: Optional[str] = typer.Option(None, "--arm", help="Only this arm."),
    status: Optional[str] = typer.Option(None, "--status", help="pending | running | done | failed | interrupted."),
    metric: List[str] = typer.Option(["trained.accuracy", "trained.distinct_correct"], "--metric",
                                     help="Summary metric columns (dotted, e.g. trained.pass_at_k.64)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
) -> None:
    """List indexed runs with their status, config hash, metrics and paths."""
    import json

    from rich.console import Console
    from rich.table import Table

    from rigorlab.errors import UserError
    from rigorlab.store.index import INDEX_NAME, STATUSES, RunIndex

    path = out / INDEX_NAME
    if not path.is_file():
        raise UserError(f"no run index at {path}; run 'rigorlab run' first or pass --out")
    if status is not None and status not in STATUSES:
        raise UserError(f"--status must be one of {', '.join(STATUSES)}, got {status!r}")
    index = RunIndex(path)
    rows = index.runs(study=study, arm=arm, status=status)
    if as_json:
        for r in rows:
            m = index.metrics(r.run_id)
            typer.echo(json.dumps({"run_id": r.run_id, "study": r.study, "arm": r.arm, "seed": r.seed,
                                   "status": r.status, "config_hash": r.config_hash, "path": str(r.path),
                                   "steps": r.steps, "seconds": r.seconds, "error": r.error,
                                   "metrics": m, "documents": {k: str(v) for k, v in r.documents.items()}}))
        return
    table = Table(title=f"{len(rows)} run(s) in {path}")
    for col in ("study", "arm", "seed", "status", "config", "steps", "s", *[m.split(".")[-1] for m in metric], "path"):
        table.add_column(col, overflow="fold")
    for r in rows:
        m = index.metrics(r.run_id)
        table.add_row(r.study, r.arm, str(r.seed), r.status, r.config_hash, str(r.steps or "-"),
                      f"{r.seconds:.0f}" if r.seconds is not None else "-",
                      *[f"{m[k]:.3f}" if k in m else "-" for k in metric], str(r.path))
    Console(width=200).print(table)


def study_plan(
    study: Optional[Path] = typer.Argument(None, help="Study YAML (omit for the default of --profile)."),
    profile: str = typer.Option("quick", "--profile", help="quick | full."),
    set_: List[str] = typer.Option([], "--set", help="Override a base field for every arm."),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="Use seeds 0..N-1."),
) -> None:
    """Validate a study and print its arms, what each sets, and its config hash (trains nothing)."""
    import json

    from rich.console import Console
    from rich.table import Table

    from rigorlab.study.spec import load_study

    s = load_study(study, profile, list(set_), seeds)
    table = Table(title=f"study {s.name}: {len(s.arms)} arms x seeds {s.seeds}; baseline {s.baseline!r} "
                        f"({s.baseline_reason})")
    for col in ("arm", "group", "sets", "config hash"):
        table.add_column(col, overflow="fold")
    for a in s.arms:
        sets = "\n".join(f"{k} = {json.dumps(v)}" for k, v in a.overrides.items()) or "(base)"
        table.add_row(a.name, a.group or "-", sets, a.config.hash())
    Console(width=160).print(table)
