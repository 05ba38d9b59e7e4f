"""`rigorlab diversity FILE`: collapse diagnostics for any file of model samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer

from rigorlab.metrics.errors import MetricInputError


def register(app: typer.Typer) -> None:
    app.command("diversity")(diversity)


def diversity(
    file: Path = typer.Argument(..., help="Samples: .jsonl, .csv/.tsv or .parquet, one record per sample."),
    text_field: str = typer.Option("text", help="Field holding the sample's text (completion / chain of thought)."),
    prompt_field: Optional[str] = typer.Option(None, help="Field identifying the prompt; metrics are then computed "
                                               "within each prompt and averaged, with intervals over prompts."),
    answer_field: Optional[str] = typer.Option(None, help="Field holding the extracted final answer (empty = none)."),
    correct_field: Optional[str] = typer.Option(None, help="Field holding either whether the sample is correct "
                                                "(true/false, 1/0) or the list of correct answers of its prompt."),
    k: str = typer.Option("1,8,64", "--k", help="Comma-separated k values for pass@k."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    max_pairs: int = typer.Option(100_000, help="Pairwise metrics sample this many pairs when a group has more."),
    embedding_model: Optional[str] = typer.Option(None, help="Also compute embedding metrics with this local "
                                                  "sentence-transformers directory ('default': the bundled all-MiniLM-L6-v2)."),
    n_boot: int = typer.Option(2000, help="Bootstrap resamples for the intervals."),
    seed: int = typer.Option(0, help="Seed of the bootstrap and of sampled estimates."),
) -> None:
    """Diversity, coverage and repetition metrics of a set of model outputs, with 95% intervals."""
    from rigorlab.metrics import loaders
    from rigorlab.metrics.summary import Samples, rows_to_json, summarize

    ks = _parse_ks(k)
    if max_pairs < 1 or n_boot < 1:
        raise MetricInputError("--max-pairs and --n-boot must be positive")
    records = loaders.load_records(file)
    texts = loaders.text_column(records, text_field, file)
    prompts = [_key(v) for v in loaders.column(records, prompt_field, file)] if prompt_field else None
    answers = [_answer(v, answer_field, i, file) for i, v in
               enumerate(loaders.column(records, answer_field, file))] if answer_field else None
    correct, correct_sets = None, None
    if correct_field:
        correct, correct_sets = _correctness(loaders.column(records, correct_field, file), correct_field,
                                             answers, prompts, file)
    embeddings = None
    if embedding_model:
        from rigorlab.metrics.embedding import embed

        embeddings = embed(texts, None if embedding_model == "default" else embedding_model)
    samples = Samples(texts=texts, prompts=prompts, answers=answers, correct=correct, correct_sets=correct_sets)
    rows = summarize(samples, ks=ks, n_boot=n_boot, seed=seed, max_pairs=max_pairs, embeddings=embeddings)
    if as_json:
        typer.echo(json.dumps({"file": str(file), "metrics": rows_to_json(rows)}, indent=2))
    else:
        _print_table(rows, file)


def _parse_ks(spec: str) -> list[int]:
    try:
        ks = [int(x) for x in spec.split(",") if x.strip()]
    except ValueError:
        raise MetricInputError(f"--k must be comma-separated positive integers, got {spec!r}") from None
    if not ks or min(ks) < 1:
        raise MetricInputError(f"--k must be comma-separated positive integers, got {spec!r}")
    return sorted(set(ks))


def _key(value: Any) -> Any:
    """A hashable prompt key (JSON objects and lists by their canonical JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value


def _answer(value: Any, field: str, index: int, path: Path) -> str | None:
    """Answers compared as trimmed text; null or empty means no answer."""
    if value is None:
        return None
    if isinstance(value, (str, int, float, bool)):
        text = str(value).strip()
        return text or None
    raise MetricInputError(f"{path}, record {index + 1}: field {field!r} is {type(value).__name__}, not an answer")


def _correctness(values: list, field: str, answers, prompts, path: Path):
    """Per-sample correctness flags, and per-sample correct-answer sets when the field holds lists."""
    from rigorlab.metrics.loaders import as_bool

    parsed = []
    for i, v in enumerate(values):
        if isinstance(v, str) and v.lstrip().startswith("["):
            try:
                v = json.loads(v)
            except json.JSONDecodeError:
                raise MetricInputError(f"{path}, record {i + 1}: field {field!r} is not a valid JSON list") from None
        parsed.append(v)
    is_list = [isinstance(v, (list, tuple)) for v in parsed]
    if not any(is_list):
        return [as_bool(v, field, i, path) for i, v in enumerate(parsed)], None
    if not all(is_list):
        i = is_list.index(False)
        raise MetricInputError(f"{path}, record {i + 1}: field {field!r} mixes lists of correct answers with flags")
    if answers is None:
        raise MetricInputError(f"field {field!r} holds lists of correct answers; give --answer-field too")
    keys = prompts if prompts is not None else [None] * len(parsed)
    union: dict = {}
    for key, v in zip(keys, parsed):
        union.setdefault(key, set()).update(str(x).strip() for x in v)
    sets = [frozenset(union[key]) for key in keys]
    for i, s in enumerate(sets):
        if not s:
            raise MetricInputError(f"{path}, record {i + 1}: field {field!r} is an empty list of correct answers")
    return [a is not None and a in s for a, s in zip(answers, sets)], sets


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if float(v).is_integer() and abs(v) < 1e9:
        return f"{int(v)}"
    return f"{v:.4g}" if abs(v) >= 1000 else f"{v:.4f}"


def _print_table(rows, file: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Collapse diagnostics: {file}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("95% CI", justify="right")
    table.add_column("note", overflow="fold")
    section = None
    for r in rows:
        if r.section != section:
            section = r.section
            table.add_row(f"[bold]{section}[/bold]", "", "", "")
        ci = f"[{_fmt(r.lo)}, {_fmt(r.hi)}]" if r.lo is not None else ""
        note = "; ".join(x for x in (r.direction, r.note) if x)
        table.add_row("  " + r.metric, _fmt(r.value), ci, note)
    Console(width=140).print(table)
