"""CLI: `rigorlab run` (a study, then its report) and `rigorlab report STUDY_DIR`.

`run` lives here, not in study/, because it ends with the report and the
report is the layer above the study (docs/architecture.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from rigorlab.study.commands import DEFAULT_OUT


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("report")(report)


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
    from rigorlab.report.build import build_report
    from rigorlab.study.runner import run_study
    from rigorlab.study.spec import load_study

    from rigorlab.userpaths import check_output_dir

    s = load_study(study, profile, list(set_), seeds)
    check_output_dir(out, "--out")   # before any output: a file there is one sentence, not a traceback
    n = len(s.arms) * len(s.seeds)
    console.print(f"study [bold]{s.name}[/bold]: {len(s.arms)} arms x {len(s.seeds)} seeds = {n} runs, "
                  f"baseline {s.baseline!r} ({s.baseline_reason})")
    result = run_study(s, out, workers, backend, address, documents=not no_docs,
                       reporter=None if no_report else build_report)
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

    from rigorlab.userpaths import check_output_file

    if not study_dir.is_dir():
        raise UserError(f"study directory {study_dir} is a file, not a directory" if study_dir.exists()
                        else f"study directory {study_dir} does not exist")
    if output is not None:
        check_output_file(output, "--output")
    path = build_report(study_dir, output=output)
    console.print(f"report: {path}")
