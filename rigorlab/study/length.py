"""Did chains grow, and how: the four questions of the length study, per arm, with intervals.

For a task that labels its steps (rigorlab.metrics.chain_steps), every run
evaluates the reference and the trained policy on the same prompts with the
same seed, so "did length grow" is the paired difference trained - reference,
one value per run (the run's samples pooled over prompts), and its 95%
interval is mean +- t_{0.975, S-1} se over the S seeds (rigorlab.study.intervals).
Per arm the module answers:

1. did length grow (all answers);
2. in correct or in incorrect answers (the length of each, separately);
3. by useful or by redundant steps (tokens per answer of each role);
4. did accuracy follow.

Arms are also compared with the study's baseline (arm - baseline, paired by
seed): Liu et al. 2025 expect incorrect answers to grow longer under grpo's
per-sequence normalisation than under dr_grpo's constant one.
"""

from __future__ import annotations

from typing import Any

from rigorlab.study.intervals import Interval, interval, num, paired
from rigorlab.study.results import RunResult, StudyResults

# (key in an evaluation's `steps` summary, label, unit)
QUANTITIES = (
    ("mean_length", "length, all answers", "tokens"),
    ("length_correct", "length of correct answers", "tokens"),
    ("length_incorrect", "length of incorrect answers", "tokens"),
    ("useful_tokens", "useful tokens per answer", "tokens"),
    ("redundant_tokens", "redundant tokens per answer", "tokens"),
    ("error_tokens", "erroneous tokens per answer", "tokens"),
    ("redundant_share", "share of redundant steps", ""),
    ("loop_rate", "loop rate", ""),
    ("check_rate", "check rate", ""),
    ("no_answer_rate", "no final answer", ""),
    ("accuracy", "accuracy", ""),
)
LABELS = {k: lab for k, lab, _ in QUANTITIES}
UNITS = {k: u for k, _, u in QUANTITIES}


def has_steps(res: StudyResults) -> bool:
    """Whether the study's runs hold step-labelled evaluations."""
    return any("steps" in r.eval.get("trained", {}) for r in res.runs)


def run_value(run: RunResult, source: str, key: str) -> float | None:
    """One run's pooled value of a quantity ('trained' or 'reference' evaluation)."""
    steps = run.eval.get(source, {}).get("steps")
    if not steps:
        return None
    if key == "mean_length":
        c = steps["counts"]
        return (c["tokens_correct"] + c["tokens_incorrect"]) / c["n"] if c["n"] else None
    v = steps.get(key)
    return None if v is None else float(v)


def _cells(runs: list[RunResult], source: str, key: str) -> dict:
    out = {}
    for r in runs:
        v = run_value(r, source, key)
        if v is not None:
            out[(r.seed, None)] = v
    return out


def verdict(d: Interval | None, unit: str = "") -> dict[str, Any]:
    """A paired difference read as grew / shrank / no detectable change, with its interval
    (one seed has no interval: its direction is 'unknown')."""
    if d is None:
        return {"direction": "unknown", "text": "no paired runs"}
    unit = f" {unit}" if unit else ""
    if d.n_seeds < 2:
        return {"direction": "unknown", "text": f"{num(d.mean, True)}{unit} (one seed: no interval)"}
    span = f"{num(d.mean, True)}{unit} [{num(d.lo, True)}, {num(d.hi, True)}]"
    if d.lo > 0:
        return {"direction": "up", "text": f"grew by {span}"}
    if d.hi < 0:       # said with positive numbers: "shrank by 5.9 [4.0, 7.8]"
        return {"direction": "down",
                "text": f"shrank by {num(-d.mean)}{unit} [{num(-d.hi)}, {num(-d.lo)}]"}
    return {"direction": "none", "text": f"no detectable change, {span}"}


def _moves(g: dict[str, dict], parts: tuple[tuple[str, str], ...]) -> str:
    """'grew in A; shrank in B and C; no detectable change in D' over the named parts."""
    words = {"up": "grew in", "down": "shrank in", "none": "no detectable change in", "unknown": "undetermined in"}
    out = []
    for direction in ("up", "down", "none", "unknown"):
        names = [name for key, name in parts if g[key]["direction"] == direction]
        if names:
            out.append(f"{words[direction]} {' and '.join(names)}")
    return "; ".join(out)


def _answers(growth: dict[str, dict]) -> dict[str, str]:
    """The four questions in words, from the growth verdicts of one arm."""
    g = {k: v["verdict"] for k, v in growth.items()}
    total = g["mean_length"]
    grew = total["direction"] == "up"
    where = _moves(g, (("length_correct", "correct answers"), ("length_incorrect", "incorrect answers")))
    how = _moves(g, (("useful_tokens", "useful steps"), ("redundant_tokens", "redundant steps"),
                     ("error_tokens", "erroneous steps")))
    acc = g["accuracy"]
    follow = {"up": "Yes, accuracy rose with it", "down": "No, accuracy fell",
              "none": "No, accuracy did not move detectably", "unknown": "Undetermined"}[acc["direction"]]
    answer = {"up": "Yes", "down": "No, it shrank", "none": "No detectable change", "unknown": "Undetermined"}
    return {
        "length": f"{answer[total['direction']]}: length {total['text']} (trained - reference).",
        "where": f"Length {where}. Correct: {g['length_correct']['text']}; incorrect: "
                 f"{g['length_incorrect']['text']}.",
        "how": f"Tokens per answer {how}. Useful: {g['useful_tokens']['text']}; redundant: "
               f"{g['redundant_tokens']['text']}; erroneous: {g['error_tokens']['text']}.",
        "accuracy": (f"{follow}: accuracy {acc['text']}." if grew
                     else f"Length did not grow; accuracy {acc['text']}."),
    }


def length_analysis(res: StudyResults, n_boot: int = 2000) -> dict | None:
    """Per arm: each quantity's interval (trained and reference), its growth and the four answers;
    and each arm's difference to its baseline. None when the runs hold no step labels."""
    if not has_steps(res):
        return None
    out: dict[str, Any] = {"study": res.record["name"], "baseline": res.record["baseline"],
                           "labels": LABELS, "units": UNITS, "arms": {}}
    trained_cells: dict[str, dict[str, dict]] = {}
    for arm in res.arms:
        runs = res.arm_runs(arm["name"])
        if not runs:
            continue
        entry: dict[str, Any] = {"seeds": sorted(r.seed for r in runs), "quantities": {}}
        trained_cells[arm["name"]] = {}
        for key, _, unit in QUANTITIES:
            tr, ref = _cells(runs, "trained", key), _cells(runs, "reference", key)
            trained_cells[arm["name"]][key] = tr
            d = paired(tr, ref, n_boot) if tr and ref else None
            entry["quantities"][key] = {
                "trained": interval(tr, n_boot).as_dict() if tr else None,
                "reference": interval(ref, n_boot).as_dict() if ref else None,
                "growth": d.as_dict() if d is not None else None,
                "verdict": verdict(d, unit),
            }
        entry["answers"] = _answers(entry["quantities"])
        out["arms"][arm["name"]] = entry
    for arm in res.arms:
        base = res.baseline_of.get(arm["name"])
        if base is None or arm["name"] not in trained_cells or base not in trained_cells:
            continue
        diffs = {}
        for key, _, unit in QUANTITIES:
            d = paired(trained_cells[arm["name"]][key], trained_cells[base][key], n_boot)
            diffs[key] = {"diff": d.as_dict() if d is not None else None, "verdict": verdict(d, unit)}
        out["arms"][arm["name"]]["vs_baseline"] = {"baseline": base, "quantities": diffs}
    return out


def pooled_buckets(runs: list[RunResult], source: str) -> dict[str, list[int]]:
    """bucket -> [completions, correct] over the runs' evaluations."""
    out: dict[str, list[int]] = {}
    for r in runs:
        counts = (r.eval.get(source, {}).get("steps") or {}).get("counts") or {}
        for b, (n, c) in counts.get("buckets", {}).items():
            cell = out.setdefault(b, [0, 0])
            cell[0] += n
            cell[1] += c
    return out
