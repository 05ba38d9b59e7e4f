"""The comparison written three ways: JSON (all numbers), Markdown, self-contained HTML with figures.

Figures are PNGs embedded as data URIs in the page built on rigorlab/html's
base template (CSP: no scripts, no fetches), so the report opens offline.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from rigorlab.io import atomic_write_json, atomic_write_text

_COLORS = {"base": "#111111", "rl": "#d62728"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
                         "legend.fontsize": 8, "figure.dpi": 110})
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    return buf.getvalue()


def passk_figure(result: dict, names: tuple[str, str]) -> bytes:
    """pass@k of both models against k (log2 axis) with their bootstrap bands; the crossover marked."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ks = [c["k"] for c in result["pass_at_k"]]
    for key, name in (("base", names[0]), ("rl", names[1])):
        m = [c[key]["mean"] for c in result["pass_at_k"]]
        ax.plot(ks, m, marker="o", ms=3, color=_COLORS[key], label=name)
        ax.fill_between(ks, [c[key]["lo"] for c in result["pass_at_k"]], [c[key]["hi"] for c in result["pass_at_k"]],
                        color=_COLORS[key], alpha=0.15, lw=0)
    if result["crossover"]["k"] is not None:
        ax.axvline(result["crossover"]["k"], color="#8a8a8a", ls="--", lw=1, label="crossover")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("k (samples)")
    ax.set_ylabel("pass@k")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False)
    return _png(fig)


def bars_figure(result: dict, names: tuple[str, str]) -> bytes:
    """Per-problem diversity, length and repetition of both models, each with its interval."""
    plt = _plt()
    rows = [("distinct answers", result["answers"]["distinct"]),
            ("answer entropy", result["answers"]["entropy"]),
            ("MinHash paths / sample", result["paths"]["minhash_clusters_per_sample"])]
    if "embedding_clusters_per_sample" in result["paths"]:
        rows.append(("embedding paths / sample", result["paths"]["embedding_clusters_per_sample"]))
    rows += [("tokens", result["length"]["tokens"]),
             ("repeated 4-gram rate", result["repetition"]["repeated_ngram_rate"]),
             ("loop share", result["repetition"]["loop_share"])]
    fig, axes = plt.subplots(1, len(rows), figsize=(1.55 * len(rows), 2.6))
    for ax, (title, row) in zip(axes, rows):
        for i, (key, name) in enumerate((("base", names[0]), ("rl", names[1]))):
            v = row[key]
            ax.bar(i, v["mean"], color=_COLORS[key], alpha=0.75)
            ax.errorbar(i, v["mean"], yerr=[[v["mean"] - v["lo"]], [v["hi"] - v["mean"]]], color="#444", capsize=3)
        ax.set_xticks([0, 1], names, rotation=30)
        ax.set_title(title + (" *" if row["separated"] else ""), fontsize=8)
    fig.tight_layout()
    return _png(fig)


def markdown(result: dict, sentences: list[str], names: tuple[str, str], sources: tuple[str, str]) -> str:
    lvl = f"{round(100 * (1 - result['alpha']))}%"
    lines = [f"# {names[1]} against {names[0]}", "",
             f"{names[0]}: `{sources[0]}`; {names[1]}: `{sources[1]}`; {result['problems']} problems "
             f"({result['samples']['base']} and {result['samples']['rl']} samples); intervals: {lvl} percentile "
             f"bootstrap over problems ({result['n_boot']} resamples), paired for differences.", "", "## Findings", ""]
    lines += [f"- {s}" for s in sentences]
    lines += ["", "## pass@k", "", f"| k | {names[0]} | {names[1]} | {names[1]} - {names[0]} |", "|---|---|---|---|"]
    for c in result["pass_at_k"]:
        cell = lambda d: f"{d['mean']:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"  # noqa: E731
        lines.append(f"| {c['k']} | {cell(c['base'])} | {cell(c['rl'])} | {cell(c['diff'])} |")
    s = result["solved"]
    lines += ["", "## Problems solved by one model only", "",
              f"- only {names[0]}: {', '.join(s['base_only']) or 'none'}",
              f"- only {names[1]}: {', '.join(s['rl_only']) or 'none'}", ""]
    return "\n".join(lines)


def html(result: dict, sentences: list[str], names: tuple[str, str], sources: tuple[str, str]) -> str:
    from markupsafe import Markup, escape

    from rigorlab.html import render_page
    from rigorlab.html.page import data_uri

    md_rows = "".join(
        f"<tr><td>{c['k']}</td>" + "".join(
            f"<td>{c[key]['mean']:.3f} <span class=muted>[{c[key]['lo']:.3f}, {c[key]['hi']:.3f}]</span></td>"
            for key in ("base", "rl", "diff")) + "</tr>" for c in result["pass_at_k"])
    body = Markup(
        f"<h1>{escape(names[1])} against {escape(names[0])}</h1>"
        f"<p class=muted>{escape(names[0])}: <code>{escape(sources[0])}</code>; {escape(names[1])}: "
        f"<code>{escape(sources[1])}</code>; {result['problems']} problems.</p><h2>Findings</h2><ul>"
        + "".join(f"<li>{escape(s)}</li>" for s in sentences) + "</ul>"
        f"<h2>pass@k</h2><img alt='pass@k curves' src='{data_uri(passk_figure(result, names))}'>"
        f"<table><tr><th>k</th><th>{escape(names[0])}</th><th>{escape(names[1])}</th>"
        f"<th>difference</th></tr>{md_rows}</table>"
        f"<h2>Diversity, length, repetition</h2><p class=muted>* the interval of the difference excludes 0</p>"
        f"<img alt='per-problem diversity, length and repetition' src='{data_uri(bars_figure(result, names))}'>")
    return render_page(f"{names[1]} against {names[0]}", body=body)


def write_reports(out_dir: Path, result: dict, sentences: list[str], names: tuple[str, str],
                  sources: tuple[str, str]) -> dict[str, Path]:
    """compare.json, compare.md and compare.html in `out_dir`, each written atomically."""
    payload: dict[str, Any] = {"names": list(names), "sources": list(sources), "findings": sentences, **result}
    return {"json": atomic_write_json(out_dir / "compare.json", payload),
            "markdown": atomic_write_text(out_dir / "compare.md", markdown(result, sentences, names, sources)),
            "html": atomic_write_text(out_dir / "compare.html", html(result, sentences, names, sources))}
