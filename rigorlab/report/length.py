"""The report's length section: did chains grow, where, by which steps, and did accuracy follow.

Rendered only for studies whose task labels its steps (rigorlab.study.length
computes the numbers); the figures show the step-level training curves,
each arm's growth with its interval, and accuracy by length bucket.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rigorlab.metrics.chain_steps import bucket_labels
from rigorlab.report import figures
from rigorlab.report.html import esc, figure, table
from rigorlab.study.intervals import num
from rigorlab.study.length import LABELS, pooled_buckets
from rigorlab.study.metrics import curve
from rigorlab.study.results import StudyResults

STEP_CURVES = (("completions/mean_length", "length (tokens)"), ("steps/length_correct", "length of correct"),
               ("steps/length_incorrect", "length of incorrect"), ("steps/redundant_share", "share of redundant steps"),
               ("accuracy", "accuracy (batch)"))
GROWTH_KEYS = ("length_correct", "length_incorrect", "useful_tokens", "redundant_tokens", "accuracy")


def growth_figure(analysis: dict, arms: Sequence[str], colors: dict, keys: Sequence[str] = GROWTH_KEYS) -> bytes:
    """Forest plot of trained - reference per arm and quantity, with 95% intervals over seeds."""
    plt = figures._plt()
    fig, axes = plt.subplots(1, len(keys), figsize=(3.1 * len(keys), 0.34 * len(arms) + 1.3), squeeze=False,
                             sharey=True)
    y = np.arange(len(arms))[::-1]
    for ax, key in zip(axes[0], keys):
        for yi, arm in zip(y, arms):
            g = analysis["arms"].get(arm, {}).get("quantities", {}).get(key, {}).get("growth")
            if g is None:
                continue
            c = colors.get(arm, "#1f77b4")
            ax.plot([g["lo"], g["hi"]], [yi, yi], color=c, lw=1.6)
            ax.plot(g["mean"], yi, "o", color=c, ms=4)
        ax.axvline(0, color=figures.REFERENCE_COLOR, lw=0.8, ls="--")
        ax.set_title(f"{LABELS[key]}: trained - ref", fontsize=8.5)
        ax.grid(alpha=0.2, axis="x")
        ax.set_yticks(y)
        ax.set_yticklabels(arms, fontsize=8)
    fig.tight_layout()
    return figures.png(fig)


def bucket_figure(buckets: dict[str, dict[str, list[int]]], reference: dict[str, list[int]], colors: dict) -> bytes:
    """Accuracy by length bucket (left) and the share of answers in each bucket (right), pooled over seeds."""
    plt = figures._plt()
    labels = bucket_labels()
    x = np.arange(len(labels))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(9.5, 3.3))
    series = list(buckets.items()) + [("reference (pi_ref)", reference)]
    for name, cells in series:
        n = np.array([cells.get(b, [0, 0])[0] for b in labels], dtype=float)
        c = np.array([cells.get(b, [0, 0])[1] for b in labels], dtype=float)
        acc = np.where(n > 0, c / np.maximum(n, 1), np.nan)
        ref = name == "reference (pi_ref)"
        style = dict(color=figures.REFERENCE_COLOR if ref else colors.get(name, "#1f77b4"), ls="--" if ref else "-",
                     marker="o", ms=3, lw=1.3, label=name)
        ax.plot(x, acc, **style)
        ax2.plot(x, n / max(n.sum(), 1), **style)
    for a, title in ((ax, "accuracy by length"), (ax2, "share of answers by length")):
        a.set_xticks(x)
        a.set_xticklabels(labels)
        a.set_xlabel("completion length (tokens)")
        a.set_title(title)
        a.grid(alpha=0.25)
    ax2.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False, fontsize=7)
    return figures.png(fig)


def _growth_cell(q: dict) -> str:
    g = q.get("growth")
    if g is None:
        return "-"
    text = f'{num(g["mean"], True)}&nbsp;<span class="ci">[{num(g["lo"], True)}, {num(g["hi"], True)}]</span>'
    if g.get("n_seeds", 2) < 2:
        return f'<span class="ovl">{num(g["mean"], True)} <span class="ci">(one seed)</span></span>'
    return f"<b>{text}</b>" if (g["lo"] > 0 or g["hi"] < 0) else f'<span class="ovl">{text}</span>'


def _level_cell(q: dict, which: str) -> str:
    iv = q.get(which)
    if iv is None:
        return "-"
    return f'{num(iv["mean"])}&nbsp;<span class="ci">[{num(iv["lo"])}, {num(iv["hi"])}]</span>'


def length_section(res: StudyResults, analysis: dict | None) -> str:
    """The HTML section (empty when the study's task does not label steps)."""
    if not analysis or not analysis["arms"]:
        return ""
    names = [a["name"] for a in res.arms if a["name"] in analysis["arms"]]
    base = next((n for n in names if res.baseline_of.get(n) is None), None)
    colors = figures.arm_colors(names, base)
    n_seeds = max(len(e["seeds"]) for e in analysis["arms"].values())
    parts = ['<h2 id="length">Longer chains: reasoning or artifact?</h2>',
             f'<p class="note">Each run evaluates the reference and the trained policy on the same prompts with the '
             f"same seed; a value is the run's samples pooled over its prompts, growth is trained - reference paired "
             f"by seed, and intervals are mean &plusmn; t<sub>0.975,S-1</sub> se over the seeds (up to {n_seeds}). "
             "Bold: the interval excludes 0. Useful steps advance or check the sum; redundant steps repeat, restate "
             "or loop (rigorlab.tasks.steps).</p>"]
    items = []
    for n in names:
        a = analysis["arms"][n]["answers"]
        items.append(f"<li><b>{esc(n)}</b>{' (baseline)' if n == base else ''}<ul>"
                     f"<li>Did length grow? {esc(a['length'])}</li><li>Where? {esc(a['where'])}</li>"
                     f"<li>By which steps? {esc(a['how'])}</li><li>Did accuracy follow? {esc(a['accuracy'])}</li>"
                     "</ul></li>")
    parts.append("<h3>The four questions, per arm</h3><ul class=\"findings\">" + "".join(items) + "</ul>")
    keys = list(LABELS)
    parts.append("<h3>Growth over the reference (trained - reference), 95% intervals</h3>")
    parts.append(table(["arm"] + [esc(LABELS[k]) for k in keys],
                       [[esc(n)] + [_growth_cell(analysis["arms"][n]["quantities"][k]) for k in keys] for n in names]))
    rows = [["reference (pi_ref)"] + [_level_cell(analysis["arms"][names[0]]["quantities"][k], "reference")
                                      for k in keys]]
    rows += [[esc(n)] + [_level_cell(analysis["arms"][n]["quantities"][k], "trained") for k in keys] for n in names]
    parts.append("<h3>Levels after training, 95% intervals</h3>")
    parts.append(table(["arm"] + [esc(LABELS[k]) for k in keys], rows, row_class=["ref"]))
    diffs = [(n, analysis["arms"][n]["vs_baseline"]) for n in names if "vs_baseline" in analysis["arms"][n]]
    if diffs:
        parts.append(f"<h3>Difference to the baseline ({esc(base or '')}), paired by seed</h3>")
        parts.append(table(["arm"] + [esc(LABELS[k]) for k in keys],
                           [[esc(n)] + [_growth_cell({"growth": v["quantities"][k]["diff"]}) for k in keys]
                            for n, v in diffs]))
    parts.append(figure(growth_figure(analysis, names, colors), "growth per arm",
                        "trained - reference per arm, mean and 95% interval over seeds; the dashed line is no change.",
                        "fig-length-growth"))
    curves: dict = {}
    for key, _ in STEP_CURVES:
        for n in names:
            seeds = [curve(r.rows, key) for r in res.arm_runs(n)]
            if any(len(s) for s, _ in seeds):
                curves.setdefault(key, {})[n] = seeds
    if curves:
        parts.append(figure(figures.training_curves(curves, STEP_CURVES, colors, base, 9), "length over training",
                            "Training batches: mean over seeds (moving average over 9 steps) with the seeds' min-max "
                            "band. Length is in sampled tokens, EOS included.", "fig-length-curves"))
    buckets = {n: pooled_buckets(res.arm_runs(n), "trained") for n in names}
    reference = pooled_buckets(res.arm_runs(base or names[0]), "reference")
    parts.append(figure(bucket_figure(buckets, reference, colors), "accuracy by length bucket",
                        "Evaluation samples pooled over seeds and prompts; dashed: the reference policy.",
                        "fig-length-buckets"))
    return "".join(parts)
