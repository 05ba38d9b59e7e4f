"""CLI: `rigorlab card init|render|validate|from-run`: fillable cards and documents from a run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from rigorlab.errors import UserError

card_app = typer.Typer(help="Fillable model / dataset cards, and documents generated from a run.",
                       no_args_is_help=True)


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


def _write_or_print(text: str, out: Optional[Path]) -> None:
    from rigorlab.io import atomic_write_text

    if out is None:
        typer.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        typer.echo(f"wrote {out}", err=True)


@card_app.command("init")
def card_init(
    kind: str = typer.Option(..., "--kind", help="model or dataset"),
    framework: Optional[list[str]] = typer.Option(None, "--framework", "-f",
                                                  help="Framework id or YAML path; repeat for several "
                                                       "(default: model = hf-model-card, aad, ddt; "
                                                       "dataset = hf-dataset-card, croissant-rai, ddt)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the model or data set."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write here instead of standard output."),
    force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists."),
) -> None:
    """Write a fillable card YAML with every indicator's question as a comment."""
    from rigorlab.disclosure.documents.card_template import init_card
    from rigorlab.userpaths import check_output_file

    if out is not None:
        check_output_file(out, "--out")   # a directory there is named as one, not "already exists"
    if out is not None and out.exists() and not force:
        raise UserError(f"{out} already exists; pass --force to overwrite it.")
    _write_or_print(init_card(kind, framework or None, name, base_dir=out.parent if out else None), out)


@card_app.command("render")
def card_render(
    file: Path = typer.Argument(..., help="A card YAML (from `card init`)."),
    to: str = typer.Option("md", "--to", help="md | html | croissant | eu-summary"),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Write here instead of standard output (eu-summary: a .json "
                                            "path writes the JSON form)."),
) -> None:
    """Render a card as a Hub-loadable Markdown card, HTML, Croissant JSON-LD or the EU summary."""
    from rigorlab.disclosure.documents.card_render import render_card
    from rigorlab.disclosure.documents.card_template import load_card

    card = load_card(file)
    text = render_card(card, to, as_json=out is not None and out.suffix.lower() == ".json")
    _write_or_print(text, out)


@card_app.command("validate")
def card_validate(
    file: Path = typer.Argument(..., help="A card YAML."),
    fail_on: str = typer.Option("missing", "--fail-on",
                                help="Exit 1 when items are `missing` (default), `vague` (missing or vague), "
                                     "or `never`."),
    show_all: bool = typer.Option(False, "--all", help="List answered items too."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """List missing and vague items; exit 1 per --fail-on, 2 for a malformed file."""
    from rich.table import Table

    from rigorlab.disclosure.documents.card_template import load_card, validate_card

    if fail_on not in ("missing", "vague", "never"):
        raise UserError(f"--fail-on must be missing, vague or never, got `{fail_on}`.")
    report = validate_card(load_card(file))
    counts = {s: sum(r.status == s for r in report) for s in ("answered", "via crosswalk", "vague", "missing")}
    if as_json:
        typer.echo(json.dumps({"file": str(file), "counts": counts, "items": [r.__dict__ for r in report]}, indent=2))
    else:
        t = Table(title=f"{file}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        for col in ("framework", "id", "title", "status", "detail"):
            t.add_column(col, overflow="fold")
        for r in report:
            if show_all or r.status in ("vague", "missing"):
                t.add_row(r.framework, r.id, r.title, r.status, r.detail)
        _console().print(t)
    failed = counts["missing"] > 0 if fail_on == "missing" else \
        (counts["missing"] + counts["vague"] > 0) if fail_on == "vague" else False
    if failed:
        # SystemExit, not typer.Exit: click returns typer.Exit's code from a non-standalone call,
        # and rigorlab.cli.main would turn it into 0.
        raise SystemExit(1)


@card_app.command("from-run")
def card_from_run(run_dir: Path = typer.Argument(..., help="A rigorlab run directory.")) -> None:
    """(Re)generate the datasheet, cards, Croissant and EU summary of a run into RUN_DIR/docs/."""
    from rigorlab.disclosure.documents.run_documents import write_run_documents
    from rigorlab.store.rundir import holds_run

    if not run_dir.is_dir():
        raise UserError(f"run directory {run_dir} " + ("is a file, not a directory" if run_dir.exists()
                                                       else "does not exist"))
    if not holds_run(run_dir):   # else seven documents would describe a run that never happened
        raise UserError(f"{run_dir} holds no finished rigorlab run (no config.yaml and summary.json); "
                        f"give a directory written by `rigorlab train` or `rigorlab run`")
    for key, path in write_run_documents(run_dir).items():
        typer.echo(f"{key:16s} {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(card_app, name="card")
