"""Count-based exploration over outcomes (Song, Kempe & Munos 2025; docs/theory.md section 6).

Final answers of a verifiable task live in a small set, so they can be counted:

    historical: r + c_h * min(1, 1 / sqrt(N(x, a)))
    batch:      r - c_b * (number of OTHER completions of the group with answer a) / G

N(x, a) is the number of times answer a was produced for prompt x in the
training steps BEFORE this one (so a never-seen answer has N = 0 and gets the
full c_h; the min(1, .) is what makes that finite). Every group of a step sees
the same counts, whatever the order of the groups, and the step's answers are
added when the next step begins. The counts are the shaper's state: they go
into checkpoints, so a resumed run shapes exactly as the uninterrupted one.

Reasoning paths are counted the same way through a key (`over`):
- answer:    the task's extracted final answer;
- signature: the task's path signature, or where the task gives none, a MinHash
             sketch of the completion (near-duplicate chains often share a key);
- sketch:    always the MinHash sketch of the completion text (word n-grams,
             rigorlab.metrics.paths' signatures).
A completion without a key (no answer found, empty text) gets no bonus, no
penalty and is not counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from rigorlab.errors import UserError
from rigorlab.metrics.paths import minhash_signatures
from rigorlab.rl.shapers import REWARD_SHAPERS, RewardShaper, ScoredGroup

OVER = ("answer", "signature", "sketch")


def sketch_keys(texts: Sequence[str], rows: int = 2, n: int = 3, seed: int = 0) -> list[str | None]:
    """One MinHash band of `rows` hashes per text, as a hex key (None for an empty text).

    The signatures are rigorlab.metrics.paths' (word n-gram shingles, blake2b and
    splitmix64, so keys are stable across processes as resume requires). Two
    texts whose shingle sets have Jaccard similarity J get the same key with
    probability J ** rows (Broder 1997): identical chains always share a key,
    near-duplicates often, unrelated ones almost never.
    """
    sig = minhash_signatures(list(texts), n=n, num_perm=rows, seed=seed)
    return [None if not t.split() else "-".join(f"{int(v):016x}" for v in row) for t, row in zip(texts, sig)]


def minhash_sketch(text: str, rows: int = 2, n: int = 3, seed: int = 0) -> str | None:
    """The sketch key of one text (see `sketch_keys`)."""
    return sketch_keys([text], rows=rows, n=n, seed=seed)[0]


def historical_bonus(counts: Sequence[int], c: float) -> np.ndarray:
    """c * min(1, 1 / sqrt(N)) per sample; N = 0 gives c."""
    n = np.asarray(counts, dtype=float)
    return c * np.minimum(1.0, 1.0 / np.sqrt(np.maximum(n, 1e-300)))


def batch_penalty(keys: Sequence[Hashable | None], c: float, num_generations: int | None = None) -> np.ndarray:
    """c * (number of OTHER samples of the group with the same key) / G; 0 for a None key."""
    G = len(keys) if num_generations is None else num_generations
    freq = Counter(k for k in keys if k is not None)
    same = np.array([freq[k] - 1 if k is not None else 0 for k in keys], dtype=float)
    return c * same / max(G, 1)


def _key(value: Hashable | None) -> str | None:
    """A stable string key for counting and for checkpoints."""
    if value is None:
        return None
    return value if isinstance(value, str) else repr(value)


@REWARD_SHAPERS.register("count_bonus")
class CountBonus(RewardShaper):
    """Historical UCB-style bonus and within-group repetition penalty over answers or paths.

    historical: c_h of the historical bonus (0 = off).
    batch: c_b of the batch penalty (0 = off).
    over: answer | signature | sketch (what is counted, see the module docstring).
    apply_to: all | correct -- shape every completion, or only those the verifier
        scored > 0 (needs the group's `correct`).
    sketch_rows, sketch_ngram: the MinHash band (hashes per key, words per shingle) for free text.
    """

    name = "count_bonus"

    def __init__(self, historical: float = 0.5, batch: float = 0.0, over: str = "answer",
                 apply_to: str = "all", sketch_rows: int = 2, sketch_ngram: int = 3) -> None:
        if over not in OVER:
            raise UserError(f"count_bonus over must be one of {', '.join(OVER)}, got {over!r}")
        if apply_to not in ("all", "correct"):
            raise UserError(f"count_bonus apply_to must be 'all' or 'correct', got {apply_to!r}")
        for label, v in (("historical", historical), ("batch", batch)):
            if not (math.isfinite(v) and v >= 0):
                raise UserError(f"count_bonus {label} must be a finite number >= 0, got {v!r}")
        if int(sketch_rows) < 1 or int(sketch_ngram) < 1:
            raise UserError("count_bonus sketch_rows and sketch_ngram must be >= 1")
        self.historical, self.batch = float(historical), float(batch)
        self.over, self.apply_to = over, apply_to
        self.sketch_rows, self.sketch_ngram = int(sketch_rows), int(sketch_ngram)
        self.prefix = f"count_bonus/{over}"
        self.counts: dict[str, dict[str, int]] = {}     # prompt -> key -> N before this step
        self._pending: dict[str, Counter] = {}          # this step's keys, added at the next step
        self._pending_step: int | None = None

    # ------------------------------------------------------------------ keys
    def keys(self, group: ScoredGroup) -> list[str | None]:
        """The counted key of each completion of the group."""
        if self.over == "answer":
            return [_key(a) for a in group.answers]
        sigs = group.signatures if self.over == "signature" and group.signatures is not None else None
        out = [_key(sig) for sig in sigs] if sigs is not None else [None] * len(group.completions)
        todo = [i for i, k in enumerate(out) if k is None]
        if todo:
            sketches = sketch_keys([group.completions[i] for i in todo], rows=self.sketch_rows, n=self.sketch_ngram)
            for i, key in zip(todo, sketches):
                out[i] = key
        return out

    # ----------------------------------------------------------------- state
    def _commit(self) -> None:
        for prompt, c in self._pending.items():
            table = self.counts.setdefault(prompt, {})
            for k, n in c.items():
                table[k] = table.get(k, 0) + n
        self._pending = {}

    def count(self, prompt: str, key: str | None) -> int:
        """N(prompt, key): times seen in the steps before the current one."""
        return 0 if key is None else self.counts.get(prompt, {}).get(key, 0)

    def state_dict(self) -> dict[str, Any]:
        """Counts including the last shaped step (a checkpoint falls between steps)."""
        merged = {p: dict(t) for p, t in self.counts.items()}
        for prompt, c in self._pending.items():
            table = merged.setdefault(prompt, {})
            for k, n in c.items():
                table[k] = table.get(k, 0) + n
        return {"counts": merged}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.counts = {str(p): {str(k): int(n) for k, n in t.items()} for p, t in state["counts"].items()}
        self._pending, self._pending_step = {}, None

    # ----------------------------------------------------------------- shape
    def shape(self, group: ScoredGroup, step: int) -> tuple[np.ndarray, dict[str, float]]:
        if step != self._pending_step:
            self._commit()
            self._pending_step = step
        rewards = np.asarray(group.rewards, dtype=float)
        keys = self.keys(group)
        prompt = str(group.prompt)
        counts = [self.count(prompt, k) for k in keys]
        keyed = np.array([k is not None for k in keys])
        bonus = np.where(keyed, historical_bonus(counts, self.historical), 0.0)
        penalty = batch_penalty(keys, self.batch)
        if self.apply_to == "correct":
            if group.correct is None:
                raise UserError("count_bonus apply_to 'correct' needs the verifier's scores (group.correct)")
            eligible = np.asarray(group.correct, dtype=float) > 0
            bonus, penalty = bonus * eligible, penalty * eligible
        pending = self._pending.setdefault(prompt, Counter())
        pending.update(k for k in keys if k is not None)
        n_keyed = max(int(keyed.sum()), 1)
        metrics = {
            f"{self.prefix}/bonus_mean": float(bonus.mean()),
            f"{self.prefix}/penalty_mean": float(penalty.mean()),
            f"{self.prefix}/novel_frac": float(sum(1 for k, n in zip(keys, counts) if k is not None and n == 0)
                                               / n_keyed),
            f"{self.prefix}/distinct": float(len({k for k in keys if k is not None})),
        }
        return rewards + bonus - penalty, metrics
