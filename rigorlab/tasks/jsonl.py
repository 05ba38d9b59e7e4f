"""`jsonl`: a user's own prompts and answers, verified by exact match or numerically.

Each line: {"prompt": "...", "answer": "..."}; field names are configurable.
The final answer of a completion is the text after the last `answer_marker`
(default: the whole completion), stripped.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from rigorlab.errors import UserError
from rigorlab.metrics.loaders import jsonl_records
from rigorlab.tasks.base import TASKS, Prompt, Task


@TASKS.register("jsonl")
class JsonlTask(Task):
    name = "jsonl"

    def __init__(self, path: str, prompt_field: str = "prompt", answer_field: str = "answer",
                 verifier: str = "exact", answer_marker: str | None = None,
                 eval_fraction: float = 0.2, tolerance: float = 1e-6) -> None:
        if verifier not in ("exact", "numeric"):
            raise UserError(f"task.verifier must be 'exact' or 'numeric', not {verifier!r}")
        self.path, self.verifier, self.marker, self.tol = Path(path), verifier, answer_marker, tolerance
        self.rows = self._load(prompt_field, answer_field)
        cut = max(1, int(round(len(self.rows) * (1 - eval_fraction)))) if len(self.rows) > 1 else 1
        self.split_rows = {"train": self.rows[:cut], "eval": self.rows[cut:] or self.rows[:cut]}

    def _load(self, pf: str, af: str) -> list[Prompt]:
        if not self.path.is_file():
            raise UserError(f"task file {self.path} does not exist")
        rows = []
        for i, obj in enumerate(jsonl_records(self.path), 1):
            if pf not in obj or af not in obj:
                raise UserError(f"{self.path}, record {i}: needs fields {pf!r} and {af!r}")
            pid = hashlib.sha1(str(obj[pf]).encode()).hexdigest()[:12]
            rows.append(Prompt(id=pid, text=str(obj[pf]), target=self._norm(str(obj[af]))))
        if not rows:
            raise UserError(f"task file {self.path} has no examples")
        return rows

    @staticmethod
    def _norm(s: str) -> str:
        return " ".join(s.strip().split())

    def prompts(self, split: str, n: int, seed: int) -> list[Prompt]:
        pool = self.split_rows[split]
        rng = random.Random(f"jsonl/{split}/{seed}")
        return [rng.choice(pool) for _ in range(n)]

    def extract(self, completion: str) -> str | None:
        text = completion
        if self.marker:
            if self.marker not in completion:
                return None
            text = completion.rsplit(self.marker, 1)[1]
        text = self._norm(text)
        return text or None

    def verify(self, prompt: Prompt, answer: str | None) -> float:
        if answer is None:
            return 0.0
        if self.verifier == "numeric":
            try:
                return float(abs(float(answer) - float(prompt.target)) <= self.tol)
            except ValueError:
                return 0.0
        return float(answer == prompt.target)

    def describe(self) -> dict:
        data = self.path.read_bytes()
        return {"name": self.name, "path": str(self.path), "sha256": hashlib.sha256(data).hexdigest(),
                "examples": len(self.rows), "verifier": self.verifier}
