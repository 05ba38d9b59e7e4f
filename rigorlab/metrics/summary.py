"""One table of collapse diagnostics for a set of samples (what `rigorlab diversity` prints).

Set-level metrics (diversity, answers, pass@k) are computed within each
prompt's samples and averaged over prompts, with a 95% bootstrap interval
over prompts. Per-sample metrics (chain-of-thought repetition) are averaged
over samples with a cluster bootstrap by prompt. Without prompts the whole
file is one group: set-level metrics then have no interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Hashable, Sequence

import numpy as np

from rigorlab.metrics import answers as ans
from rigorlab.metrics import paths, repetition, stats, text
from rigorlab.metrics.errors import MetricInputError
from rigorlab.metrics.passk import pass_at_k_per_prompt


@dataclass
class Row:
    section: str
    metric: str
    value: float | None
    lo: float | None = None
    hi: float | None = None
    note: str = ""
    direction: str = ""   # "higher = more diverse" etc., for the reader


@dataclass
class Samples:
    """Plain inputs: one entry per sample; optional lists may be None."""

    texts: list[str]
    prompts: list[Hashable] | None = None
    answers: list[Any] | None = None
    correct: list[bool] | None = None            # per-sample correctness
    correct_sets: list[frozenset] | None = None  # per-sample copy of its prompt's correct answers
    groups: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.texts)
        for name in ("prompts", "answers", "correct", "correct_sets"):
            v = getattr(self, name)
            if v is not None and len(v) != n:
                raise MetricInputError(f"{name} has {len(v)} entries for {n} texts")
        if self.prompts is None:
            self.groups = [np.arange(n)]
        else:
            index: dict = {}
            ids = np.array([index.setdefault(p, len(index)) for p in self.prompts])
            order = np.argsort(ids, kind="stable")
            bounds = np.flatnonzero(np.diff(ids[order])) + 1
            self.groups = np.split(order, bounds)


def summarize(s: Samples, ks: Sequence[int] = (1, 8, 64), n_boot: int = 2000, seed: int = 0,
              max_pairs: int = 100_000, embeddings: np.ndarray | None = None) -> list[Row]:
    """Every applicable metric as a Row (value, 95% CI, note)."""
    rows: list[Row] = []
    by_prompt = s.prompts is not None
    where = "within prompt" if by_prompt else "whole set"
    rows.append(Row("size", "samples", float(len(s.texts))))
    rows.append(Row("size", "prompts", float(len(s.groups)) if by_prompt else None, note="" if by_prompt else "no prompt field"))

    def over_groups(section: str, name: str, fn: Callable[[np.ndarray], float | None], direction: str,
                    min_size: int = 1, note: str = "") -> None:
        vals = np.array([_safe(fn, g) if len(g) >= min_size else np.nan for g in s.groups], dtype=float)
        ok = np.isfinite(vals)
        skipped = len(vals) - int(ok.sum())
        extra = f"undefined for {skipped} prompt(s), left out" if skipped and by_prompt else ""
        if not ok.any():
            rows.append(Row(section, name, None, note=f"needs >= {min_size} samples per group", direction=direction))
            return
        if ok.sum() >= 2:
            mean, lo, hi = stats.bootstrap_ci(vals[ok], n_boot=n_boot, seed=seed)
        else:
            mean, lo, hi = float(vals[ok][0]), None, None
        rows.append(Row(section, name, mean, lo, hi, "; ".join(x for x in (note, extra) if x), direction))

    def over_samples(section: str, name: str, values: np.ndarray, direction: str) -> None:
        mean, lo, hi = stats.bootstrap_ci(values, clusters=s.prompts, n_boot=n_boot, seed=seed)
        if not by_prompt:
            note = "bootstrap over samples"
        else:
            note = "cluster bootstrap by prompt"
        rows.append(Row(section, name, mean, lo, hi, note, direction))

    texts = s.texts
    pick = lambda g: [texts[i] for i in g]  # noqa: E731

    # chains of thought: one value per sample
    prof = [repetition.repetition_profile(t) for t in texts]
    cot = "chain of thought"
    over_samples(cot, "length (words)", np.array([p["length"] for p in prof], float), "")
    over_samples(cot, "repeated 4-gram rate", np.array([p["repeated_ngram_rate"] for p in prof]), "lower = less repetitive")
    over_samples(cot, "share in repeated spans", np.array([p["repeated_span_share"] for p in prof]), "lower = less repetitive")
    over_samples(cot, "share in loops", np.array([p["loop_share"] for p in prof]), "lower = less degenerate")
    over_samples(cot, "ends in a loop", np.array([p["ends_in_loop"] for p in prof], float), "lower = less degenerate")

    # lexical diversity of each group
    lex = f"lexical diversity ({where})"
    more = "higher = more diverse"
    over_groups(lex, "distinct-1", lambda g: text.distinct_n(pick(g), 1), more)
    over_groups(lex, "distinct-2", lambda g: text.distinct_n(pick(g), 2), more)
    over_groups(lex, "n-gram diversity score (n<=4)", lambda g: text.ngram_diversity_score(pick(g)), more)
    over_groups(lex, "compression ratio (gzip)", lambda g: text.compression_ratio(pick(g)), "lower = more diverse")
    over_groups(lex, "self-repetition (n=4)", lambda g: text.self_repetition_score(pick(g)), "lower = more diverse")
    over_groups(lex, "self-BLEU-4", lambda g: text.self_bleu(pick(g)), "lower = more diverse", min_size=2)
    sampled: list[float] = []

    def rouge(g: np.ndarray) -> float:
        est = text.homogenization_rougel(pick(g), sample_pairs=max_pairs, seed=seed)
        if not est.exact:
            sampled.append(est.half_width)
        return est.value

    over_groups(lex, "homogenisation (ROUGE-L)", rouge, "lower = more diverse", min_size=2)
    if sampled:
        rows[-1].note = f"sampled {max_pairs} pairs in {len(sampled)} group(s): +-{max(sampled):.4f} (Hoeffding, 95%)"
    over_groups(lex, "n-gram Vendi score", lambda g: text.ngram_vendi_score(pick(g), seed=seed).value, more)

    # reasoning paths: near-duplicate clusters
    rp = f"reasoning paths ({where})"
    labels = {}

    def clusters(g: np.ndarray) -> np.ndarray:
        key = int(g[0])
        if key not in labels:
            labels[key] = paths.near_duplicate_clusters(pick(g), threshold=0.7, seed=seed)
        return labels[key]

    over_groups(rp, "distinct paths (Jaccard < 0.7)", lambda g: float(clusters(g).max() + 1), more)
    over_groups(rp, "path entropy (nats)", lambda g: ans.answer_entropy(clusters(g).tolist()), more)

    if embeddings is not None:
        from rigorlab.metrics import embedding

        emb = f"embeddings ({where})"
        over_groups(emb, "mean pairwise cosine distance",
                    lambda g: embedding.mean_pairwise_cosine_distance(embeddings[g]), more, min_size=2)
        over_groups(emb, "embedding Vendi score", lambda g: embedding.embedding_vendi_score(embeddings[g]), more)

    if s.answers is not None:
        a = s.answers
        sec = f"answers ({where})"
        over_groups(sec, "distinct answers", lambda g: float(ans.distinct_answers([a[i] for i in g])), more)
        over_groups(sec, "answer entropy (nats)", lambda g: ans.answer_entropy([a[i] for i in g]), more)
        over_groups(sec, "no answer extracted", lambda g: ans.no_answer_rate([a[i] for i in g]), "lower = better")
        if s.correct_sets is not None:
            over_groups(sec, "coverage of correct answers",
                        lambda g: ans.coverage([a[i] for i in g], s.correct_sets[g[0]]), more)

    if s.correct is not None:
        c = np.asarray(s.correct, dtype=bool)
        n_list = [len(g) for g in s.groups]
        c_list = [int(c[g].sum()) for g in s.groups]
        for k in ks:
            if k > min(n_list):
                rows.append(Row("pass@k", f"pass@{k}", None, direction="higher = better",
                                note=f"needs >= {k} samples per prompt (smallest group has {min(n_list)})"))
                continue
            vals = pass_at_k_per_prompt(n_list, c_list, k)
            if len(vals) >= 2:
                mean, lo, hi = stats.bootstrap_ci(vals, n_boot=n_boot, seed=seed)
                rows.append(Row("pass@k", f"pass@{k}", mean, lo, hi, "unbiased (Chen et al. 2021)", "higher = better"))
            else:
                rows.append(Row("pass@k", f"pass@{k}", float(vals[0]), note="unbiased (Chen et al. 2021)",
                                direction="higher = better"))
    return rows


def _safe(fn: Callable[[np.ndarray], float | None], g: np.ndarray) -> float:
    """The metric of one group, or NaN where it is undefined (e.g. too few tokens)."""
    try:
        v = fn(g)
    except MetricInputError:
        return float("nan")
    return float("nan") if v is None else float(v)


def rows_to_json(rows: list[Row]) -> list[dict]:
    """Rows as plain dicts (NaN-free: missing values are None)."""
    out = []
    for r in rows:
        d = asdict(r)
        for key in ("value", "lo", "hi"):
            if d[key] is not None and not math.isfinite(d[key]):
                d[key] = None
        out.append(d)
    return out
