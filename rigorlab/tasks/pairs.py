"""`pairs`: name two digits that sum to N. Every correct answer is enumerable.

Prompt `S=9:`; completion `4+5`. The answer is the ordered pair, so N = 9 has
ten correct answers (0+9 ... 9+0): coverage of the correct set is exact, and
so is the optimum of a regularised objective over the 100 well-formed pairs.
"""

from __future__ import annotations

import random
import re

from rigorlab.tasks.base import TASKS, Prompt, Task

_PAIR = re.compile(r"^\s*(\d)\+(\d)\s*$")


@TASKS.register("pairs")
class PairsTask(Task):
    name = "pairs"

    def __init__(self, min_target: int = 3, max_target: int = 15) -> None:
        if not 0 <= min_target <= max_target <= 18:
            raise ValueError("pairs targets must satisfy 0 <= min_target <= max_target <= 18")
        self.min_target, self.max_target = min_target, max_target

    def targets(self) -> list[int]:
        return list(range(self.min_target, self.max_target + 1))

    def make_prompt(self, n: int) -> Prompt:
        return Prompt(id=f"S={n}", text=f"S={n}:", target=str(n), meta={"n": n})

    def prompts(self, split: str, n: int, seed: int) -> list[Prompt]:
        # The task has few distinct prompts; both splits sample targets, with
        # different streams so a split's order does not depend on the other's.
        rng = random.Random(f"pairs/{split}/{seed}")
        return [self.make_prompt(rng.choice(self.targets())) for _ in range(n)]

    def extract(self, completion: str) -> str | None:
        m = _PAIR.match(completion)
        return f"{m.group(1)}+{m.group(2)}" if m else None

    def verify(self, prompt: Prompt, answer: str | None) -> float:
        if answer is None:
            return 0.0
        a, b = answer.split("+")
        return float(int(a) + int(b) == prompt.meta["n"])

    def correct_answers(self, prompt: Prompt) -> frozenset[str]:
        n = prompt.meta["n"]
        return frozenset(f"{a}+{n - a}" for a in range(10) if 0 <= n - a <= 9)

    def outcomes(self, prompt: Prompt) -> list[str]:
        return [f"{a}+{b}" for a in range(10) for b in range(10)]

    def describe(self) -> dict:
        return {"name": self.name, "min_target": self.min_target, "max_target": self.max_target,
                "format": "prompt 'S=N:', completion 'a+b' with digits a, b"}
