"""`rigorlab redteam`: a static suite and an adaptive campaign against the same target, side by side.

Three forms:
  rigorlab redteam CAMPAIGN.yaml --out DIR [--resume]
  rigorlab redteam --target URL --model NAME --secret TEXT [--static FILE] [--budget N] [--seeds K] --out DIR
  rigorlab redteam --run RUN_DIR [CAMPAIGN.yaml] [--out DIR]
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from rigorlab.errors import UserError


def register(app: typer.Typer) -> None:
    app.command("redteam")(redteam)


def redteam(
    campaign: Optional[Path] = typer.Argument(None, help="Campaign file (YAML); see --help-campaign."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output directory: log.jsonl, results.json, report.html."),
    resume: bool = typer.Option(False, "--resume", help="Continue the campaign logged in --out (nothing is asked twice)."),
    target: Optional[str] = typer.Option(None, "--target", help="Quick form: base URL of an OpenAI-compatible "
                                         "endpoint, e.g. http://127.0.0.1:8000/v1."),
    model: Optional[str] = typer.Option(None, "--model", help="Quick form: model name sent to the endpoint."),
    secret: Optional[str] = typer.Option(None, "--secret", help="Quick form: the secret the target must not reveal."),
    static: Optional[Path] = typer.Option(None, "--static", help="Quick form: static prompts (YAML, JSONL, or one "
                                          "per line); default: the shipped suite."),
    system_prompt: Optional[Path] = typer.Option(None, "--system-prompt", help="Quick form: a file sent as the "
                                                 "system message ('{secret}' is filled in); omit when the server "
                                                 "holds its own."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Quick form: NAME of the environment "
                                              "variable holding the API key (never written anywhere)."),
    budget: int = typer.Option(200, "--budget", min=1, help="Quick form: queries per seed for the adaptive search."),
    seeds: int = typer.Option(3, "--seeds", min=1, help="Quick form: campaign seeds (0..K-1)."),
    concurrency: Optional[int] = typer.Option(None, "--concurrency", min=1, help="Requests in flight at once."),
    run: Optional[Path] = typer.Option(None, "--run", help="A rigorlab run directory: run the campaign on its "
                                       "reference and trained policy and record the results for its model card."),
    help_campaign: bool = typer.Option(False, "--help-campaign", help="Print every campaign-file field and exit."),
) -> None:
    """Attack a chat model with a static suite and an adaptive campaign; report both ASRs with exact intervals."""
    from rigorlab.redteam.campaign import describe_fields

    if help_campaign:
        typer.echo("\n".join(describe_fields()))
        return
    quick = [n for n, v in (("--target", target), ("--model", model), ("--secret", secret), ("--static", static),
                            ("--system-prompt", system_prompt), ("--api-key-env", api_key_env)) if v is not None]
    if run is not None:
        if quick:
            raise UserError(f"--run takes a campaign file, not the quick-form option {quick[0]}")
        _run_dir(run, campaign, out, resume, concurrency)
        return
    if campaign is not None and quick:
        raise UserError(f"give either a campaign file or the quick-form options, not both ({quick[0]})")
    if out is None:
        raise UserError("--out DIR is required (where the log, results.json and report.html go)")
    if campaign is not None:
        from rigorlab.redteam.campaign import load_campaign

        camp = load_campaign(campaign)
        if concurrency is not None:
            camp = camp.model_copy(update={"concurrency": concurrency})
    else:
        camp = _quick(target, model, secret, static, system_prompt, api_key_env, budget, seeds, concurrency)
    _run(camp, out, resume)


def _quick(target: Optional[str], model: Optional[str], secret: Optional[str], static: Optional[Path],
           system_prompt: Optional[Path], api_key_env: Optional[str], budget: int, seeds: int,
           concurrency: Optional[int]):
    from rigorlab.redteam.campaign import campaign_from_dict

    for flag, value in (("--target", target), ("--model", model), ("--secret", secret)):
        if not value:
            raise UserError(f"give a campaign file, or {flag} with the quick form "
                            "(--target URL --model NAME --secret TEXT --out DIR)")
    goal: dict = {"kind": "secret", "secret": secret}
    if static is not None:
        if not static.is_file():
            what = "is a directory, not a file of prompts" if static.is_dir() else "does not exist"
            raise UserError(f"--static {static} {what}")
        goal["static"] = str(static.resolve())
    if system_prompt is not None:
        if not system_prompt.is_file():
            what = "is a directory, not a text file" if system_prompt.is_dir() else "does not exist"
            raise UserError(f"--system-prompt {system_prompt} {what}")
        goal["system_prompt"] = system_prompt.read_text(encoding="utf-8")
    data = {"name": f"secret leak: {model}", "target": {"kind": "openai", "url": target, "model": model,
                                                        "api_key_env": api_key_env},
            "goals": [goal], "budget": {"queries": budget}, "seeds": list(range(seeds)), "concurrency": concurrency}
    return campaign_from_dict(data, "command line")


def _run(camp, out: Path, resume: bool, target=None, label: Optional[str] = None) -> dict:
    from rigorlab.progress import phase_progress
    from rigorlab.redteam.execute import run_campaign

    with phase_progress() as progress:
        results = run_campaign(camp, out, resume=resume, target=target, label=label, progress=progress)
    _print_summary(results, out)
    return results


def _print_summary(results: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    def cell(r: dict) -> str:
        return "n/a" if r["asr"] is None else f"{r['asr']:.2f} [{r['low']:.2f}, {r['high']:.2f}] ({r['k']}/{r['n']})"

    table = Table(title=f"{results['campaign']} on {results['target']}")
    for col in ("goal", "static ASR (prompts)", "dynamic ASR (seeds)", "median queries to breach"):
        table.add_column(col)
    for g in results["goals"]:
        med = g["dynamic"]["queries_to_first_breach"]["median"]
        table.add_row(g["goal"], cell(g["static"]), cell(g["dynamic"]), "none" if med is None else f"{med:g}")
    Console().print(table)
    typer.echo(f"wrote {out}/results.json, {out}/report.html and the log {out}/log.jsonl")


def _run_dir(run: Path, campaign: Optional[Path], out: Optional[Path], resume: bool,
             concurrency: Optional[int]) -> None:
    from rigorlab.redteam.runs import redteam_run

    redteam_run(run, campaign, out, resume, concurrency, _run)
