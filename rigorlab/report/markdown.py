"""A study's tables as Markdown (report.md beside report.html), to paste into a paper, issue or docs page.

The same numbers as the HTML report, read from stats.json and length.json: per
group, each arm's mean and 95% interval (bold where the paired difference to
the baseline excludes 0 or the intervals do not overlap), the paired
differences, the sentences for separated comparisons, and for tasks that label
their steps the length tables and the four answers per arm.
"""

from __future__ import annotations

from typing import Optional, Sequence

from rigorlab.study.intervals import num
from rigorlab.study.length import LABELS
from rigorlab.study.results import StudyResults


def _iv(iv: Optional[dict], bold: bool = False, signed: bool = False) -> str:
    if iv is None or iv.get("mean") is None:
        return "-"
    text = f'{num(iv["mean"], signed)} [{num(iv["lo"], signed)}, {num(iv["hi"], signed)}]'
    return f"**{text}**" if bold else text


def _separated(entry: Optional[dict]) -> bool:
    return bool(entry) and (entry.get("excludes_zero") or entry.get("overlap") is False)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    cells = [list(header)] + [list(r) for r in rows]
    out = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
    out.insert(1, "|" + "---|" * len(header))
    return out


def _group_tables(res: StudyResults, stats: dict, group: str) -> list[str]:
    names = [a["name"] for a in res.arms if a["group"] == group]
    label = {a["name"]: a["label"] for a in res.arms if a["group"] == group}
    base = next((n for n in names if res.baseline_of.get(n) is None), None)
    keys = [k for k in res.record["metrics"] if k in stats["metrics"]
            and any(n in stats["metrics"][k]["arms"] for n in names)]
    if not keys:
        return ["No finished run in this group."]
    ref_name = f"reference{',' + group if group else ''}"
    header = ["arm"] + [stats["metrics"][k]["label"] for k in keys]
    rows = []
    if any((stats["metrics"][k].get("reference") or {}).get(ref_name) for k in keys):
        rows.append(["reference (pi_ref)"] + [_iv((stats["metrics"][k].get("reference") or {}).get(ref_name))
                                              for k in keys])
    for n in names:
        s = [stats["metrics"][k] for k in keys]
        rows.append([label[n] + (" (baseline)" if n == base else "")]
                    + [_iv(m["arms"].get(n), _separated(m["vs_baseline"].get(n))) for m in s])
    n_seeds = len(res.record["seeds"])
    out = [f"Mean [95% interval] over {n_seeds} seeds and the evaluation prompts; **bold**: the paired "
           f"difference to the baseline excludes 0 or the intervals do not overlap.", ""]
    out += _table(header, rows)
    diffs = [[label[n]] + [_iv((stats["metrics"][k]["vs_baseline"].get(n) or {}).get("diff"),
                                _separated(stats["metrics"][k]["vs_baseline"].get(n)), signed=True)
                           for k in keys] for n in names if n != base]
    if diffs:
        out += ["", f"Paired difference to the baseline ({label.get(base, '-')}), arm - baseline:", ""]
        out += _table(header, diffs)
    sentences = [e["statement"] for k in keys for n in names if n != base
                 for e in [stats["metrics"][k]["vs_baseline"].get(n)] if _separated(e)]
    if sentences:
        out += ["", "Separated from the baseline:", ""] + [f"- {s}" for s in sentences]
    return out


def _length_tables(analysis: dict) -> list[str]:
    arms = list(analysis["arms"])
    keys = list(LABELS)
    header = ["arm"] + [LABELS[k] for k in keys]

    def growth(g: Optional[dict]) -> str:
        if g is None:
            return "-"
        return _iv(g, bold=g["lo"] > 0 or g["hi"] < 0, signed=True)

    first = analysis["arms"][arms[0]]["quantities"]
    out = ["### Longer chains: reasoning or artifact?", "", "The four questions, per arm:", ""]
    for n in arms:
        a = analysis["arms"][n]["answers"]
        out += [f"- **{n}**: did length grow? {a['length']} Where? {a['where']} By which steps? {a['how']} "
                f"Did accuracy follow? {a['accuracy']}"]
    out += ["", "Reference and trained levels, mean [95% interval] over seeds:", ""]
    rows = [["reference (pi_ref)"] + [_iv(first[k].get("reference")) for k in keys]]
    rows += [[n] + [_iv(analysis["arms"][n]["quantities"][k].get("trained")) for k in keys] for n in arms]
    out += _table(header, rows)
    out += ["", "Growth, trained - reference paired by seed (**bold**: the interval excludes 0):", ""]
    out += _table(header, [[n] + [growth(analysis["arms"][n]["quantities"][k].get("growth")) for k in keys]
                           for n in arms])
    diffs = [(n, e["vs_baseline"]) for n, e in analysis["arms"].items() if "vs_baseline" in e]
    if diffs:
        out += ["", "Difference to the baseline, trained arm - trained baseline, paired by seed:", ""]
        out += _table(header, [[n] + [growth(v["quantities"][k]["diff"]) for k in keys] for n, v in diffs])
    return out


def study_markdown(res: StudyResults, stats: dict, length: Optional[dict] = None) -> str:
    """report.md: the study's tables and separated findings, as Markdown."""
    rec = res.record
    labels = list(dict.fromkeys(a["label"] for a in res.arms))
    out = [f"# Study {rec['name']}", "", rec.get("description") or "", "",
           f"{len(labels)} arms x {len(rec['seeds'])} seeds; baseline: {rec['baseline']}; "
           f"{len(res.runs)} of {len(res.all_runs)} runs finished.", ""]
    for group in dict.fromkeys(a["group"] for a in res.arms):
        out += [f"## Task group {group}" if group else "## Results", ""]
        out += _group_tables(res, stats, group) + [""]
    if length and length.get("arms"):
        out += _length_tables(length) + [""]
    return "\n".join(out)
