"""Build a study's self-contained HTML report (and stats.json) from its run directories and index.

The report shows what was measured: per-arm curves over training, pass@k of
every arm against the reference, answer distributions beside pi_ref and pi*,
a table of 95% intervals, paired differences to the baseline with a plain
sentence for each, and links to every run's datasheet and model card.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np

from rigorlab.io import atomic_write_json, atomic_write_text
from rigorlab.report import figures
from rigorlab.report.length import length_section
from rigorlab.report.markdown import study_markdown
from rigorlab.report.html import (diff_cell, esc, figure, fmt, interval_cell, link, page, table)
from rigorlab.store.index import RunIndex
from rigorlab.study.length import length_analysis
from rigorlab.study.results import StudyResults, load_results, pooled_pass_at_k, write_stats

CURVES = (("reward/mean", "reward (mean over the batch)"), ("entropy", "token entropy (nats)"),
          ("answers/distinct", "distinct answers per group of G"))
SMOOTH = 9


def build_report(study_dir: str | Path, index: RunIndex | None = None, output: str | Path | None = None,
                 n_boot: int = 2000) -> Path:
    """Write study_dir/report.html (or `output`), report.md beside it and study_dir/stats.json.

    Returns the HTML report's path.
    """
    res = load_results(study_dir, index)
    stats = write_stats(res, n_boot)
    length = length_analysis(res, n_boot)          # None unless the task labels its steps
    if length is not None:
        atomic_write_json(res.study_dir / "length.json", length)
    out = Path(output) if output else res.study_dir / "report.html"
    atomic_write_text(out, render(res, stats, out.parent, length))
    atomic_write_text(out.with_suffix(".md"), study_markdown(res, stats, length))
    return out


def _groups(res: StudyResults) -> list[str]:
    return list(dict.fromkeys(a["group"] for a in res.arms))


def render(res: StudyResults, stats: dict, here: Path, length: dict | None = None) -> str:
    rec = res.record
    n_done = len(res.runs)
    n_all = len(res.all_runs)
    tasks = sorted({a["task"] for a in res.arms})
    labels = list(dict.fromkeys(a["label"] for a in res.arms))
    head = [
        f"<header><h1>Study <code>{esc(rec['name'])}</code></h1>",
        f"<p>{esc(rec.get('description') or '')}</p>",
        f'<p class="meta">{len(labels)} arms &times; {len(rec["seeds"])} seeds on {esc(", ".join(tasks))} '
        f"&middot; baseline: <b>{esc(rec['baseline'])}</b> ({esc(rec['baseline_reason'])}) &middot; "
        f"{n_done} of {n_all} runs finished &middot; built {dt.datetime.now().strftime('%Y-%m-%d %H:%M')} "
        f"by rigorlab from {esc(str(res.study_dir))}</p></header>",
    ]
    nav = ["<nav>"]
    body: list[str] = []
    if n_done < n_all:
        missing = [r for r in res.all_runs if r.status != "done"]
        body.append(f'<p class="status-failed">{n_all - n_done} run(s) have not finished '
                    f"({esc(', '.join(sorted({r.status for r in missing})))}); the figures and intervals use "
                    "the finished runs only. Run the study again to finish them.</p>")
    colors = figures.arm_colors([a["name"] for a in res.arms], None)
    for group in _groups(res):
        gid = group.replace("=", "-").replace(",", "-") or "all"
        title = f"Task group {group}" if group else "Results"
        nav.append(f'<a href="#g-{esc(gid)}">{esc(group or "results")}</a>')
        body.append(f'<h2 id="g-{esc(gid)}">{esc(title)}</h2>')
        body.append(_group_section(res, stats, group, gid, colors))
    if length:
        nav.append('<a href="#length">length</a>')
        body.append(length_section(res, length))
    nav += ['<a href="#runs">runs &amp; documents</a>', '<a href="#arms">arm definitions</a>',
            '<a href="#method">method</a></nav>']
    body.append(_runs_section(res, here))
    body.append(_arms_section(res))
    body.append(_method_section(res, stats))
    return page(f"rigorlab study {rec['name']}", "".join(head + ["".join(nav)] + body))


# ------------------------------------------------------------------ findings
def _findings(gstats: dict, arms: list[str], gid: str) -> str:
    separated: dict[str, list[str]] = {}
    overlapping = []
    for key, s in gstats.items():
        for arm, entry in s["vs_baseline"].items():
            if entry["excludes_zero"] or not entry["overlap"]:
                separated.setdefault(s["label"], []).append(entry["statement"])
            else:
                overlapping.append(entry["statement"])
    parts = [f'<h3 id="findings-{esc(gid)}">What these seeds separate, and what they do not</h3>']
    if separated:
        parts.append("<p>Compared with the baseline, these differences have 95% intervals that exclude zero "
                     "(paired by seed and prompt) or do not overlap:</p>")
        for label, items in separated.items():
            parts.append(f"<h4>{esc(label)}</h4>")
            parts.append('<ul class="findings">' + "".join(f"<li>{esc(s)}</li>" for s in items) + "</ul>")
    else:
        parts.append("<p>No arm differs from the baseline on any tabled metric with a 95% interval that "
                     "excludes zero.</p>")
    if overlapping:
        parts.append(f"<p>For the other {len(overlapping)} arm and metric pairs the 95% intervals overlap and "
                     "the paired difference includes zero: these seeds do not separate those arms from the "
                     "baseline on those metrics.</p>")
        parts.append("<details><summary>the other comparisons, one sentence each</summary><ul>"
                     + "".join(f"<li>{esc(s)}</li>" for s in overlapping) + "</ul></details>")
    return "".join(parts)


# ------------------------------------------------------------------- groups
def _group_stats(stats: dict, names: list[str], label_of: dict[str, str], ref_name: str) -> dict:
    """The study's statistics restricted to one group, keyed by arm label, metrics without values dropped."""
    out = {}
    for key, s in stats["metrics"].items():
        arms = {label_of[n]: iv for n, iv in s["arms"].items() if n in names}
        if not arms:
            continue
        ref = (s.get("reference") or {}).get(ref_name)
        out[key] = {**s, "arms": arms, "reference": {"reference": ref} if ref else {},
                    "vs_baseline": {label_of[n]: e for n, e in s["vs_baseline"].items() if n in names}}
    return out


def _group_section(res: StudyResults, stats: dict, group: str, gid: str, colors: dict) -> str:
    names = [a["name"] for a in res.arms if a["group"] == group]
    label_of = {a["name"]: a["label"] for a in res.arms if a["group"] == group}
    arms = [label_of[n] for n in names]
    base_name = next((n for n in names if res.baseline_of.get(n) is None), None)
    baseline = label_of.get(base_name)
    colors = {**{label_of[n]: colors[n] for n in names if n in colors}, **figures.arm_colors(arms, baseline)}
    gstats = _group_stats(stats, names, label_of, f"reference{',' + group if group else ''}")
    keys = [k for k in res.record["metrics"] if k in gstats]
    parts = ["<h3>Arms with 95% intervals</h3>", _interval_table(gstats, arms, keys, baseline)]
    parts.append("<h3>Paired difference to the baseline (arm - baseline)</h3>")
    parts.append(_diff_table(gstats, arms, keys, baseline))
    parts.append(_findings(gstats, arms, gid))
    if keys:
        parts.append(figure(figures.intervals(gstats, arms, colors, baseline, keys),
                            "per-arm means and 95% intervals", "Each arm's mean and 95% interval per metric; "
                            "the grey band is the reference policy's interval, the dotted line the baseline's mean.",
                            f"fig-intervals-{gid}"))
    curves = {k: {label_of[n]: v for n, v in per.items()} for k, per in _curves(res, names).items()}
    if any(curves.values()):
        parts.append("<h3>Over training</h3>")
        parts.append(figure(figures.training_curves(curves, CURVES, colors, baseline, SMOOTH),
                            "training curves per arm",
                            f"Mean over seeds (moving average over {SMOOTH} steps) with the seeds' min-max band. "
                            "Token entropy is the exact per-token entropy of the sampling policy; distinct answers "
                            "are counted within each prompt's group of G completions.", f"fig-curves-{gid}"))
    passk = {label_of[n]: pooled_pass_at_k(res.arm_runs(n)) for n in names if res.arm_runs(n)}
    if passk:
        ref_runs = res.arm_runs(base_name) if base_name else []
        reference = pooled_pass_at_k(ref_runs, "reference") if ref_runs else None
        parts.append("<h3>pass@k against the reference</h3>")
        parts.append(figure(figures.pass_at_k(passk, reference, colors, baseline), "pass@k curves",
                            "Unbiased pass@k from each run's evaluation samples, averaged over prompts and seeds; "
                            "dashed: the reference policy pi_ref. Right: the failures left at k on a log scale, "
                            "where curves that all approach 1 still separate.", f"fig-passk-{gid}"))
    dist = _distribution_figure(res, names, label_of, group, colors)
    if dist:
        parts.append("<h3>Answer distributions beside pi_ref and pi*</h3>")
        parts.append(dist)
    return "".join(parts)


def _interval_table(gstats: dict, arms: list[str], keys: list[str], baseline: str | None) -> str:
    header = ["arm"] + [esc(gstats[k]["label"]) for k in keys]
    rows, classes = [], []
    if any(gstats[k]["reference"] for k in keys):
        rows.append(["reference policy (pi_ref)"] + [interval_cell(gstats[k]["reference"].get("reference"))
                                                     for k in keys])
        classes.append("ref")
    for a in arms:
        name = esc(a) + (" <small>(baseline)</small>" if a == baseline else "")
        rows.append([name] + [interval_cell(gstats[k]["arms"].get(a)) for k in keys])
        classes.append("base" if a == baseline else "")
    return table(header, rows, row_class=classes)


def _diff_table(gstats: dict, arms: list[str], keys: list[str], baseline: str | None) -> str:
    header = ["arm"] + [esc(gstats[k]["label"]) for k in keys]
    rows = []
    for a in arms:
        if a == baseline:
            continue
        rows.append([esc(a)] + [diff_cell(gstats[k]["vs_baseline"].get(a), gstats[k]["higher_is_better"])
                                for k in keys])
    note = ('<p class="note">Grey: the interval includes 0 (not separated). Green / red: the interval excludes 0 '
            "and the arm is better / worse where the metric has a direction; bold: excludes 0, no direction.</p>")
    return table(header, rows) + note if rows else "<p class=\"note\">No other arm in this group.</p>"


def _curves(res: StudyResults, arms: list[str]) -> dict:
    from rigorlab.study.metrics import curve

    out: dict = {}
    for key, _ in CURVES:
        for a in arms:
            seeds = [curve(r.rows, key) for r in res.arm_runs(a)]
            if any(len(s) for s, _ in seeds):
                out.setdefault(key, {})[a] = seeds
    return out


def _distribution_figure(res: StudyResults, names: list[str], label_of: dict[str, str], group: str,
                         colors: dict) -> str:
    from rigorlab.theory.bridge import BETA_FLOOR

    prompts = res.optima.get(group) or {}
    if not prompts:
        return ""
    # the prompt with the most correct answers shows the most about how mass is shared among them
    pid = max(prompts, key=lambda p: (int((prompts[p]["rewards"] > 0).sum()), p))
    info = prompts[pid]
    outcomes, pi_ref, rewards = info["outcomes"], info["pi_ref"], info["rewards"]
    index = {o: i for i, o in enumerate(outcomes)}
    panels = {}
    for a in names:
        counts, outside, total, targets, betas, mara = np.zeros(len(outcomes)), 0, 0, [], [], False
        for r in res.arm_runs(a):
            row = next((p for p in r.eval["trained"]["per_prompt"] if p["prompt"] == pid), None)
            optimum = r.eval["trained"].get("optimum") or {}
            entry = (optimum.get("prompts") or {}).get(pid)
            if row is None or entry is None:
                continue
            for ans, n in row["answers"].items():
                i = index.get(ans)
                if i is None:
                    outside += n
                else:
                    counts[i] += n
            total += row["n"]
            targets.append(np.asarray(entry["pi_star"]["reverse"], dtype=float))
            betas.append(float(optimum["beta"]))
            mara = mara or optimum.get("mara_tau") is not None
        if total == 0:
            continue
        beta = float(np.mean(betas))
        caption = ("pi* (beta -> 0: pi_ref on correct answers)" if beta <= BETA_FLOOR
                   else f"pi* (reverse KL, beta={beta:.3g}{', MARA rewards' if mara else ''})")
        panels[label_of[a]] = (counts / total, outside / total, np.mean(targets, axis=0), caption)
    if not panels:
        return ""
    png = figures.answer_distributions(pid, outcomes, pi_ref, rewards > 0, panels, colors)
    n_seeds = len(res.record["seeds"])
    return figure(png, f"answer distributions on {pid}",
                  f"Prompt <code>{esc(pid)}</code>, the one with the most correct answers. Grey: pi_ref, the "
                  "reference model's exact probability of each complete answer, renormalised over the well-formed "
                  f"answers (it puts {info['discarded_mass']:.2%} elsewhere). Hatched: pi* = argmax E[r] - beta "
                  "KL(pi||pi_ref) at each seed's final beta, averaged over seeds, as the runs wrote it "
                  "(docs/theory.md section 3). Coloured: the arm's evaluation "
                  f"samples pooled over its {n_seeds} seeds; 'other' = no well-formed answer.",
                  f"fig-dist-{group or 'all'}")


# --------------------------------------------------------------- run tables
def _runs_section(res: StudyResults, here: Path) -> str:
    by_id = {r.record.run_id: r for r in res.runs}
    order = {a["name"]: i for i, a in enumerate(res.arms)}
    rows = []
    for rec in sorted(res.all_runs, key=lambda r: (order.get(r.arm, len(order)), r.seed)):
        run = by_id.get(rec.run_id)
        rel = lambda p: os.path.relpath(p, here)   # noqa: E731
        docs = []
        for kind, label in (("datasheet", "datasheet"), ("model_card", "model card"), ("dataset_card", "dataset card")):
            if kind in rec.documents and rec.documents[kind].is_file():
                docs.append(link(rel(rec.documents[kind]), label))
        files = [link(rel(rec.path / f), f) for f in ("config.yaml", "metrics.jsonl", "eval.json", "summary.json")
                 if (rec.path / f).is_file()]
        if rec.status == "failed" and (rec.path / "error.log").is_file():
            files.append(link(rel(rec.path / "error.log"), "error.log"))
        acc = fmt(run.summary["trained"].get("accuracy")) if run else "-"
        rows.append([esc(rec.arm), str(rec.seed), f'<span class="status-{esc(rec.status)}">{esc(rec.status)}</span>'
                     + (f' <small>{esc(rec.error)}</small>' if rec.error else ""),
                     f"<code>{esc(rec.config_hash)}</code>", str(rec.steps or "-"),
                     fmt(rec.seconds, 1) if rec.seconds is not None else "-", acc,
                     " &middot; ".join(docs) or "-", " &middot; ".join(files)])
    return ('<h2 id="runs">Runs and their documents</h2><p class="note">Each run directory holds its config, '
            "training log, evaluation, model and the disclosure documents generated from what the run did.</p>"
            + table(["arm", "seed", "status", "config hash", "steps", "seconds", "accuracy", "documents", "files"],
                    rows, left=3))


def _arms_section(res: StudyResults) -> str:
    import json

    rows = []
    for a in res.arms:
        sets = "<br>".join(f"<code>{esc(k)} = {esc(json.dumps(v))}</code>" for k, v in a["overrides"].items())
        rows.append([esc(a["name"]), sets or "<i>base config</i>", esc(a.get("description") or "")])
    return ('<h2 id="arms">Arm definitions</h2><p class="note">Every arm is the base config with these fields set; '
            "the full config of each run is its config.yaml.</p>"
            + table(["arm", "sets", "what it tests"], rows, left=3))


def _method_section(res: StudyResults, stats: dict) -> str:
    n_seeds = len(res.record["seeds"])
    direction = {True: " (higher is better)", False: " (lower is better)", None: ""}
    defs = "".join(f"<li><b>{esc(s['label'])}</b>: {esc(s['description'])}{direction[s['higher_is_better']]}"
                   f"; one value per {'run' if s['level'] == 'seed' else 'seed and prompt'}.</li>"
                   for s in stats["metrics"].values())
    return f"""<h2 id="method">Method</h2>
<ul>{defs}</ul>
<p>Intervals: the mean over seeds and evaluation prompts, with mean &plusmn; t<sub>0.975, df</sub> &times; se, where se
is the standard error from a two-way bootstrap that resamples seeds and prompts independently (Owen 2007) and df
follows Welch&ndash;Satterthwaite from the seed and prompt variance components (S&nbsp;-&nbsp;1 for one value per run).
Paired differences subtract the baseline cell by cell (same seed, same prompt). In simulated studies this interval
covers the true mean 92&ndash;95% of the time with 3 and 10 seeds, where a percentile bootstrap clustered by seed
covers 60% (tests/test_study_stats.py). With {n_seeds} seed{'s' if n_seeds != 1 else ''}, small differences are not
resolvable: an overlap says the seeds do not separate two arms, not that the arms are equal.</p>
<p>Evaluation samples each prompt {esc(res.runs[0].eval['trained'].get('samples_per_prompt', '?') if res.runs else '?')}
times from the trained policy and from the reference, at temperature 1. pi* is the closed-form optimum over the
task's finite answer set (docs/theory.md section 3); TV counts samples outside that set as distance. Numbers are as
measured; no arm, seed or metric was dropped from this report.</p>"""
