"""CLI: `rigorlab frameworks list|show`: the disclosure frameworks as data."""

from __future__ import annotations

import json
from typing import Optional

import typer

from rigorlab.errors import UserError

frameworks_app = typer.Typer(help="Disclosure frameworks (DDT, AAD, FMTI, Datasheets, HF cards, Croissant RAI, "
                                  "EU AI Act) as data.", no_args_is_help=True)


def _console():
    from rich.console import Console

    return Console(soft_wrap=False)


@frameworks_app.command("list")
def frameworks_list() -> None:
    """List the built-in frameworks."""
    from rich.table import Table

    from rigorlab.disclosure.frameworks import list_frameworks

    t = Table(title="Disclosure frameworks")
    for col in ("id", "title", "version", "indicators", "documents", "licence"):
        t.add_column(col, overflow="fold")
    for fw in list_frameworks():
        t.add_row(fw.id, fw.title, fw.version, str(len(fw.indicators)), ", ".join(fw.kind),
                  fw.licence.split(";")[0].split(". ")[0])
    _console().print(t)


@frameworks_app.command("show")
def frameworks_show(
    framework: str = typer.Argument(..., help="Built-in id (see `frameworks list`) or path to a framework YAML."),
    indicator: Optional[str] = typer.Option(None, "--indicator", "-i", help="Show one indicator in full."),
    as_json: bool = typer.Option(False, "--json", help="Print the framework (or indicator) as JSON."),
) -> None:
    """Show a framework's indicators with their crosswalks (both directions)."""
    from rich.table import Table

    from rigorlab.disclosure.frameworks import check_crosswalks, crosswalk_closure, load_framework

    builtin = framework in set(_builtin_ids())
    fw = load_framework(framework)  # unknown ids and bad files fail here
    if not builtin:
        check_crosswalks(framework)

    def links(iid: str, own: dict[str, list[str]]) -> dict[str, list[str]]:
        return crosswalk_closure(fw.id, iid) if builtin else own
    if indicator is not None:
        ind = fw.indicator(indicator)
        if ind is None:
            raise UserError(f"framework `{fw.id}` has no indicator `{indicator}`.")
        data = {**ind.model_dump(), "crosswalk_both_ways": links(ind.id, ind.crosswalk)}
        if as_json:
            typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
            return
        t = Table(title=f"{fw.id}: {ind.id}", show_header=False)
        t.add_column("field", style="bold")
        t.add_column("value", overflow="fold")
        for k, v in data.items():
            if v not in (None, [], {}):
                t.add_row(k, "; ".join(f"{a}: {', '.join(b)}" for a, b in v.items()) if isinstance(v, dict)
                          else ", ".join(v) if isinstance(v, list) else str(v))
        _console().print(t)
        return
    if as_json:
        typer.echo(json.dumps(fw.model_dump(), indent=2, ensure_ascii=False))
        return
    con = _console()
    con.print(f"[bold]{fw.title}[/bold] ({fw.id}, version {fw.version})\n{fw.description}\n"
              f"Source: {fw.source}\nLicence: {fw.licence}")
    t = Table(show_lines=False)
    for col in ("id", "section", "title", "crosswalk"):
        t.add_column(col, overflow="fold")
    for ind in fw.indicators:
        cw = links(ind.id, ind.crosswalk)
        t.add_row(ind.id, fw.section_title(ind.section), ind.title,
                  "; ".join(f"{k}: {', '.join(v)}" for k, v in cw.items()))
    con.print(t)


def _builtin_ids() -> list[str]:
    from rigorlab.disclosure.frameworks import builtin_ids

    return builtin_ids()


def register(app: typer.Typer) -> None:
    app.add_typer(frameworks_app, name="frameworks")
