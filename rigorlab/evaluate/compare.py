"""`rigorlab compare`: did RL widen a model's reasoning, or narrow it? (docs/evaluate.md)

Two sample files of the same problems, base and RL-trained, are compared on
the questions of Yue et al. 2025 ("Does reinforcement learning really
incentivize reasoning capacity beyond the base model?"):

- pass@k curves (unbiased estimator, metrics/passk.py) with percentile
  bootstrap intervals over problems, and their paired difference (the same
  resampled problems for both models, metrics/stats.py);
- the crossover k: the first k at which the base model's pass@k exceeds the
  RL model's, and the first at which the difference's interval lies wholly
  on the base model's side;
- problems solved by one model at the largest k and never by the other;
- per-problem answer diversity (distinct answers, entropy) and coverage
  (problems solved at least once);
- reasoning-path diversity: MinHash near-duplicate clusters of the chains,
  and sentence-embedding clusters where an encoder is available;
- chain length against correctness, and repetition inside chains.

Every per-problem quantity is compared with a paired bootstrap over problems.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Sequence

import numpy as np

from rigorlab.errors import UserError
from rigorlab.metrics.answers import answer_entropy, distinct_answers
from rigorlab.metrics.passk import pass_at_k_per_prompt
from rigorlab.metrics.paths import near_duplicate_clusters
from rigorlab.metrics.repetition import repetition_profile
from rigorlab.metrics.stats import bootstrap_ci, paired_difference


def by_problem(rows: Sequence[dict]) -> dict[str, list[dict]]:
    """Records grouped by prompt id, in first-appearance order."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[str(r["prompt_id"])].append(r)
    return dict(groups)


def default_ks(n_min: int) -> list[int]:
    """1, 2, 4, ... up to the smallest per-problem sample count."""
    ks, k = [], 1
    while k <= n_min:
        ks.append(k)
        k *= 2
    return ks


def interval(values: np.ndarray, n_boot: int, alpha: float, seed: int) -> dict[str, float]:
    mean, lo, hi = bootstrap_ci(values, n_boot=n_boot, alpha=alpha, seed=seed)
    return {"mean": mean, "lo": lo, "hi": hi}


def paired(base: np.ndarray, rl: np.ndarray, n_boot: int, alpha: float, seed: int) -> dict[str, Any]:
    """Both means with intervals and the paired difference rl - base over problems."""
    d = paired_difference(rl, base, n_boot=n_boot, alpha=alpha, seed=seed)
    return {"base": interval(base, n_boot, alpha, seed), "rl": interval(rl, n_boot, alpha, seed),
            "diff": {"mean": d["diff"], "lo": d["lo"], "hi": d["hi"], "p_value": d["p_value"]},
            "separated": bool(d["lo"] > 0 or d["hi"] < 0)}


def passk_curves(base: dict, rl: dict, pids: list[str], ks: list[int], n_boot: int, alpha: float,
                 seed: int) -> list[dict]:
    """One row per k: both curves and the difference, with bootstrap intervals over problems."""
    nb, cb = [len(base[p]) for p in pids], [sum(r["correct"] for r in base[p]) for p in pids]
    nr, cr = [len(rl[p]) for p in pids], [sum(r["correct"] for r in rl[p]) for p in pids]
    rows = []
    for k in ks:
        row = paired(pass_at_k_per_prompt(nb, cb, k), pass_at_k_per_prompt(nr, cr, k), n_boot, alpha, seed)
        rows.append({"k": k, **row})
    return rows


def crossover(curves: list[dict]) -> dict[str, int | None]:
    """First k with base above RL after RL led at the smallest k (a tie, e.g. both at 1, is no
    crossover), the first k where the difference's interval lies below 0, and, when base led at
    the smallest k, the first k where RL overtakes it."""
    point = separated = None
    if curves and curves[0]["diff"]["mean"] > 0:
        point = next((c["k"] for c in curves if c["diff"]["mean"] < 0), None)
        separated = next((c["k"] for c in curves if c["diff"]["hi"] < 0), None)
    rl_first = next((c["k"] for c in curves if c["diff"]["mean"] > 0), None) if curves and \
        curves[0]["diff"]["mean"] <= 0 else None
    return {"k": point, "k_separated": separated, "rl_overtakes_k": rl_first}


def solved_by_one(base: dict, rl: dict, pids: list[str]) -> dict[str, list[str]]:
    """Problems solved at least once (pass@n > 0) by one model and never by the other."""
    sb = {p for p in pids if any(r["correct"] for r in base[p])}
    sr = {p for p in pids if any(r["correct"] for r in rl[p])}
    return {"base_only": [p for p in pids if p in sb and p not in sr],
            "rl_only": [p for p in pids if p in sr and p not in sb],
            "both": [p for p in pids if p in sb and p in sr],
            "neither": [p for p in pids if p not in sb and p not in sr]}


def _per_problem(groups: dict, pids: list[str], fn: Callable[[list[dict]], float | None]) -> np.ndarray:
    return np.array([fn(groups[p]) for p in pids], dtype=float)


def _minhash_paths(rows: list[dict]) -> float:
    texts = [r["completion"] or " " for r in rows]
    return (int(near_duplicate_clusters(texts).max()) + 1) / len(texts)


def _embedding_paths(emb: np.ndarray, threshold: float) -> float:
    from sklearn.cluster import AgglomerativeClustering

    if emb.shape[0] < 2:
        return 1.0
    labels = AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, metric="cosine",
                                     linkage="average").fit_predict(emb)
    return (int(labels.max()) + 1) / emb.shape[0]


def _length_gap(rows: list[dict]) -> float:
    """Mean tokens of correct minus incorrect samples (NaN when a problem has only one kind)."""
    good = [r["tokens"] for r in rows if r["correct"]]
    bad = [r["tokens"] for r in rows if not r["correct"]]
    return float(np.mean(good) - np.mean(bad)) if good and bad else float("nan")


def _profiles(groups: dict, pids: list[str]) -> dict[str, list[dict]]:
    return {p: [repetition_profile(r["completion"]) for r in groups[p]] for p in pids}


def compare(base_rows: Sequence[dict], rl_rows: Sequence[dict], ks: Sequence[int] | None = None,
            n_boot: int = 2000, alpha: float = 0.05, seed: int = 0, embed: Callable | None = None,
            path_threshold: float = 0.15) -> dict[str, Any]:
    """Every comparison of the module doc, as plain data (the report and findings read this)."""
    base, rl = by_problem(base_rows), by_problem(rl_rows)
    pids = [p for p in base if p in rl]
    if not pids:
        raise UserError("the two sample files share no prompt_id: they are not samples of the same problems")
    n_min = min(min(len(base[p]) for p in pids), min(len(rl[p]) for p in pids))
    ks = sorted(set(ks)) if ks else default_ks(n_min)
    if ks[0] < 1 or ks[-1] > n_min:
        raise UserError(f"--k values must lie in [1, {n_min}] (the fewest samples of a problem in either file)")
    curves = passk_curves(base, rl, pids, ks, n_boot, alpha, seed)
    pair = lambda fn: paired(_per_problem(base, pids, fn), _per_problem(rl, pids, fn), n_boot, alpha, seed)  # noqa: E731
    tokens = lambda rows: float(np.mean([r.get("tokens", len(r["completion"].split())) for r in rows]))  # noqa: E731
    result: dict[str, Any] = {
        "problems": len(pids), "samples": {"base": sum(len(base[p]) for p in pids),
                                           "rl": sum(len(rl[p]) for p in pids)},
        "only_in_one_file": len(set(base) ^ set(rl)), "ks": ks, "alpha": alpha, "n_boot": n_boot,
        "pass_at_k": curves, "crossover": crossover(curves), "solved": solved_by_one(base, rl, pids),
        "answers": {
            "distinct": pair(lambda rows: distinct_answers([r.get("answer") for r in rows])),
            "entropy": pair(lambda rows: answer_entropy([r.get("answer") for r in rows])),
            "coverage": pair(lambda rows: float(any(r["correct"] for r in rows))),
            "no_answer": pair(lambda rows: float(np.mean([r.get("answer") is None for r in rows]))),
        },
        "paths": {"minhash_clusters_per_sample": pair(_minhash_paths)},
        "length": {"tokens": pair(tokens),
                   "cut_at_length": pair(lambda rows: float(np.mean([r.get("finish_reason") == "length"
                                                                     for r in rows])))},
    }
    gaps_b, gaps_r = _per_problem(base, pids, _length_gap), _per_problem(rl, pids, _length_gap)
    both = ~np.isnan(gaps_b) & ~np.isnan(gaps_r)
    result["length"]["correct_minus_incorrect"] = (
        paired(gaps_b[both], gaps_r[both], n_boot, alpha, seed) | {"problems": int(both.sum())}
        if both.sum() >= 2 else None)
    prof_b, prof_r = _profiles(base, pids), _profiles(rl, pids)
    result["repetition"] = {
        key: paired(np.array([np.mean([q[key] for q in prof_b[p]]) for p in pids]),
                    np.array([np.mean([q[key] for q in prof_r[p]]) for p in pids]), n_boot, alpha, seed)
        for key in ("repeated_ngram_rate", "loop_share", "ends_in_loop")}
    if embed is not None:
        eb = {p: embed([r["completion"] or " " for r in base[p]]) for p in pids}
        er = {p: embed([r["completion"] or " " for r in rl[p]]) for p in pids}
        result["paths"]["embedding_clusters_per_sample"] = paired(
            np.array([_embedding_paths(eb[p], path_threshold) for p in pids]),
            np.array([_embedding_paths(er[p], path_threshold) for p in pids]), n_boot, alpha, seed)
        result["paths"]["embedding_threshold"] = path_threshold
    result["per_problem"] = [
        {"prompt_id": p, "base_correct": sum(r["correct"] for r in base[p]), "base_n": len(base[p]),
         "rl_correct": sum(r["correct"] for r in rl[p]), "rl_n": len(rl[p])} for p in pids]
    return result
