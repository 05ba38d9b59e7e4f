"""CLI: `rigorlab run`, `rigorlab runs list`, `rigorlab report STUDY_DIR`, `rigorlab study plan`."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

DEFAULT_OUT = Path("rigorlab-runs")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("report")(report)
    runs_app = typer.Typer(help="Query the run index.", no_args_is_help=True)
    runs_app.command("list")(runs_list)
    app.add_typer(runs_app, name="runs")
    study_app = typer.Typer(help="Inspect study definitions.", no_args_is_help=True)
    study_app.command("plan")(study_plan)
    app.add_typer(study_app, name="study")


def run(
    study: Optional[Path] = typer.Argument(None, help="Study YAML (omit for the default study of --profile)."),
    profile: str = typer.Option("quick", "--profile", help="Default study when no file is given: quick | full."),
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Output root: <out>/<study>/ and <out>/index.sqlite."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Runs at a time (default: CPU cores)."),
    backend: str = typer.Option("local", "--backend", help="local (processes) or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (with --backend ray)."),
    set_: List[str] = typer.Option([], "--set", help="Override a base field for every arm: --set grpo.steps=50."),
    seeds: Optional[int] = typer.Option(None, "--seeds", help="Use seeds 0..N-1 instead of the study's."),
    no_docs: bool = typer.Option(False, "--no-docs", help="Skip each run's disclosure documents."),
    no_report: bool = typer.Option(False, "--no-report", help="Do not build report.html at the end."),
) -> None:
    """Run a study (default: the quick collapse-and-remedies study on pairs); skips finished runs."""
    from rigorlab.progress import console
    from rigorlab.study.runner import run_study
    from rigorlab.study.spec import load_study

    s = load_study(study, profile, list(set_), seeds)
    n = len(s.arms) * len(s.seeds)
    console.print(f"study [bold]{s.name}[/bold]: {len(s.arms)} arms x {len(s.seeds)} seeds = {n} runs, "
                  f"baseline {s.baseline!r} ({s.baseline_reason})")
    result = run_study(s, out, workers, backend, address, documents=not no_docs, report=not no_report)
    c = result.counts
    console.print(f"{c['done']} run(s) trained ({c['resumed']} resumed), {c['skipped']} already finished, "
                  f"{c['failed']} failed, in {result.seconds:.0f} s")
    console.print(f"study directory: {result.study_dir}")
    console.print(f"run index:       {result.index_path}")
    if result.report_path:
        console.print(f"report:          {result.report_path}")
    if result.failures:
        for run_id, error in result.failures:
            console.print(f"[red]failed[/red] {run_id}: {error}")
        raise typer.Exit(1)


def report(
    study_dir: Path = typer.Argument(..., help="A study directory (<out>/<study>)."),
    output: Optional[Path] = typer.Option(None, "--output",
                                          help="Write the HTML here (default: STUDY_DIR/report.html)."),
) -> None:
    """Rebuild a study's HTML report and stats.json from its runs."""
    from rigorlab.errors import UserError
    from rigorlab.progress import console
    from rigorlab.report.build import build_report

    if not study_dir.is_dir():
        raise UserError(f"study directory {study_dir} does not exist")
    path = build_report(study_dir, output=output)
    console.print(f"report: {path}")


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
