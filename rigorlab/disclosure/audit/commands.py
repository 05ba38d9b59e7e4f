"""CLI: `rigorlab audit PATH... [--framework ID,...] [--format ...] [--out FILE] [--agenda] [--compare]`."""

from __future__ import annotations

import io
from pathlib import Path
from typing import List, Optional

import typer

from rigorlab.errors import UserError

FORMATS = ("table", "json", "md", "html", "csv")
_SUFFIX_FORMAT = {".json": "json", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".csv": "csv",
                  ".txt": "table"}


def _pick_format(fmt: Optional[str], out: Optional[Path], compare: bool) -> str:
    if fmt is None:
        fmt = _SUFFIX_FORMAT.get(out.suffix.lower(), "table") if out else "table"
    fmt = fmt.lower()
    if fmt == "markdown":
        fmt = "md"
    if fmt not in FORMATS:
        raise UserError(f"--format `{fmt}` is not one of table, json, md, html (csv with --compare).")
    if fmt == "csv" and not compare:
        raise UserError("--format csv is the --compare table; add --compare or choose table, json, md or html.")
    return fmt


def _table_text(render) -> str:
    from rich.console import Console

    buf = io.StringIO()
    render(Console(file=buf, width=160, color_system=None, soft_wrap=False))
    return buf.getvalue()


def audit(
    paths: List[Path] = typer.Argument(..., help="Files or directories: Markdown (front matter ok), text, HTML, PDF; a CSV named as a file is a report laid out by indicator (Indicator and Disclosure/Answer columns)."),
    framework: Optional[str] = typer.Option(
        None, "--framework", "-f",
        help="Framework ids or YAML paths, comma-separated (ddt, aad, fmti-2025, datasheets, eu-summary, "
             "eu-annex-xi-xii, hf-model-card, hf-dataset-card, croissant-rai, rigour (papers), or `all`). "
             "Default: ddt,aad,fmti-2025."),
    fmt: Optional[str] = typer.Option(None, "--format", help="table | json | md | html (csv with --compare); "
                                                             "default from --out's suffix, else table."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the report here (atomically)."),
    agenda: bool = typer.Option(False, "--agenda", help="Add the Multi-Stakeholder Action Agenda built from the gaps."),
    compare: bool = typer.Option(False, "--compare", help="One table across all documents: scores and ranks per "
                                                          "framework (CSV with --out x.csv)."),
    open_weights: Optional[bool] = typer.Option(None, "--open-weights/--closed-weights",
                                                help="Release reach for the agenda: override what the document says."),
    params: Optional[float] = typer.Option(None, "--params", help="Reach: parameters in billions (overrides detection)."),
    users: Optional[float] = typer.Option(None, "--users", help="Reach: users in millions (overrides detection)."),
    agenda_file: Optional[Path] = typer.Option(None, "--agenda-file", help="Your own agenda YAML (schema of msaa.yaml)."),
    learned: bool = typer.Option(True, "--learned/--rules-only",
                                 help="The learned exemplar layer on DDT and AAD (trained on data/audit labels; "
                                      "on by default, see README for its agreement); --rules-only: the rules alone."),
    dense: bool = typer.Option(False, "--dense", help="The learned layer with sentence-embedding similarity "
                                                       "(offline all-MiniLM-L6-v2, rigorlab[embeddings]); about 40x "
                                                       "slower, see README for its agreement."),
    judge: Optional[str] = typer.Option(
        None, "--judge", help="Also ask an LLM judge: base URL of an OpenAI-compatible endpoint "
                              "(e.g. http://127.0.0.1:8000/v1); its quote must be verbatim or the offline level stands."),
    judge_model: Optional[str] = typer.Option(None, "--judge-model", help="Model name the --judge endpoint serves."),
    judge_key_env: str = typer.Option("RIGORLAB_JUDGE_API_KEY", "--judge-key-env",
                                      help="NAME of the environment variable holding the judge's API key (never written)."),
    judge_scope: str = typer.Option("all", "--judge-scope",
                                    help="Which findings the LLM judge is asked about: all, or check (only those "
                                         "the learned layer does not mark sure; sure ones stand)."),
    judge_timeout: float = typer.Option(120.0, "--judge-timeout",
                                        help="Seconds to wait for one judgement (a local model on a CPU needs minutes)."),
    judge_cache: Optional[Path] = typer.Option(None, "--judge-cache",
                                               help="SQLite cache of judgements (default ~/.cache/rigorlab/judge.sqlite)."),
    terms: bool = typer.Option(True, "--terms/--no-terms",
                               help="Term and notation checks (glossary.yaml: datasheets vs data tables, KL "
                                    "direction vs its formula, ...), listed apart from the levels."),
) -> None:
    """Score model cards, datasheets and papers against disclosure frameworks, with quoted, located evidence."""
    from rigorlab.disclosure.audit.engine import Auditor, resolve_frameworks
    from rigorlab.io import atomic_write_text

    fmt_ = _pick_format(fmt, out, compare)
    if compare and agenda:
        raise UserError("--compare and --agenda do not combine: run the agenda on one document at a time.")
    for v, name in ((params, "--params"), (users, "--users")):
        if v is not None and v < 0:
            raise UserError(f"{name} must be >= 0, got {v}.")
    frameworks = resolve_frameworks(framework)
    llm = None
    if judge is not None or judge_model is not None:
        if not (judge and judge_model):
            raise UserError("--judge and --judge-model go together: give the endpoint URL and the model name.")
        from rigorlab.disclosure.audit.llm_judge import LLMJudge

        llm = LLMJudge(judge, judge_model, cache=judge_cache, key_env=judge_key_env, scope=judge_scope,
                       timeout_s=judge_timeout,
                       frameworks_version={f.id: str(f.version) for f in frameworks})
    try:
        run = Auditor(frameworks, exemplars=learned, judge=llm, terms=terms, dense=dense).audit_paths(paths)
    finally:
        if llm is not None:
            llm.close()
    if llm is not None:
        typer.echo(f"rigorlab: {llm.stats.summary()}", err=True)
    for s in run.skipped:
        typer.echo(f"rigorlab: skipped: {s['reason']}", err=True)
    for d in run.documents:
        for n in d.notices:
            typer.echo(f"rigorlab: note: {n}", err=True)
    if not run.documents:
        raise UserError(f"none of the {len(run.skipped)} input(s) could be audited (reasons above).")

    agendas, agenda_obj = None, None
    if agenda:
        from rigorlab.disclosure.audit.agenda import build_agenda, load_agenda

        agenda_obj = load_agenda(agenda_file)
        agendas = [build_agenda(d, frameworks, agenda_obj, open_weights, params, users) for d in run.documents]

    text = _render(run, fmt_, compare, agendas, agenda_obj)
    if out is None:
        if fmt_ == "table" and text is None:
            _render_table_live(run, compare, agendas, agenda_obj)
        else:
            typer.echo(text, nl=False)
        return
    if text is None:
        text = _table_text(lambda c: _render_table_live(run, compare, agendas, agenda_obj, c))
    atomic_write_text(out, text)
    typer.echo(f"wrote {out} ({len(run.documents)} document(s), {len(run.skipped)} skipped)", err=True)


def _render(run, fmt: str, compare: bool, agendas, agenda_obj) -> Optional[str]:
    """The report as text, or None for the live terminal table."""
    if compare:
        from rigorlab.disclosure.audit import compare as C

        return {"csv": C.compare_csv, "json": C.compare_json, "md": C.compare_markdown,
                "html": C.compare_html}.get(fmt, lambda r: None)(run)
    if fmt == "json":
        from rigorlab.disclosure.audit.agenda import agenda_json
        from rigorlab.disclosure.audit.render import render_json

        return render_json(run, agenda_json(agendas) if agendas is not None else None)
    if fmt == "md":
        from rigorlab.disclosure.audit.agenda import agenda_markdown
        from rigorlab.disclosure.audit.render import render_markdown

        return render_markdown(run, agenda_markdown(agendas, agenda_obj) if agendas is not None else None)
    if fmt == "html":
        from rigorlab.disclosure.audit.agenda import agenda_html
        from rigorlab.disclosure.audit.html_report import render_html

        return render_html(run, agenda_html(agendas, agenda_obj) if agendas is not None else None)
    return None


def _render_table_live(run, compare: bool, agendas, agenda_obj, console=None) -> None:
    from rich.console import Console

    console = console or Console()
    if compare:
        from rigorlab.disclosure.audit.compare import compare_table

        compare_table(run, console)
        return
    from rigorlab.disclosure.audit.render import render_table

    render_table(run, console)
    if agendas is not None:
        from rich.markdown import Markdown

        from rigorlab.disclosure.audit.agenda import agenda_markdown

        console.print(Markdown(agenda_markdown(agendas, agenda_obj, per_audience=5)))


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)
