"""`chain`: a sum of 3-5 small numbers worked as a chain of partial sums.

Prompt `3+5+2+4:`; completion `3+5=8,8+2=10,10+4=14;14`. Several orders reach
the same answer: left-to-right, right-to-left, and pairing neighbours first.
The verifier checks the final answer; the signature is the sequence of
operations, so reasoning-path diversity is countable.
"""

from __future__ import annotations

import random
import re

from rigorlab.tasks.base import TASKS, Prompt, Task

_STEP = re.compile(r"^(\d+)\+(\d+)=(\d+)$")
ORDERS = ("l2r", "r2l", "pair")


def solve(numbers: list[int], order: str) -> list[tuple[int, int, int]]:
    """The steps (a, b, a+b) of one order of summation."""
    if order == "l2r":
        steps, acc = [], numbers[0]
        for x in numbers[1:]:
            steps.append((acc, x, acc + x))
            acc += x
        return steps
    if order == "r2l":
        steps, acc = [], numbers[-1]
        for x in reversed(numbers[:-1]):
            steps.append((x, acc, x + acc))
            acc += x
        return steps
    if order == "pair":
        steps, level = [], list(numbers)
        while len(level) > 1:
            nxt = []
            for i in range(0, len(level) - 1, 2):
                steps.append((level[i], level[i + 1], level[i] + level[i + 1]))
                nxt.append(level[i] + level[i + 1])
            if len(level) % 2:
                nxt.append(level[-1])
            level = nxt
        return steps
    raise ValueError(f"unknown order {order!r}")


def render(steps: list[tuple[int, int, int]]) -> str:
    return ",".join(f"{a}+{b}={c}" for a, b, c in steps) + f";{steps[-1][2]}"


def sum_prompt(numbers: list[int]) -> Prompt:
    """The prompt `a+b+c:` whose target is the sum (shared by `chain` and `steps`)."""
    text = "+".join(map(str, numbers)) + ":"
    return Prompt(id=text, text=text, target=str(sum(numbers)), meta={"numbers": list(numbers)})


def sum_prompts(rng_key: str, n: int, min_terms: int, max_terms: int, max_value: int) -> list[Prompt]:
    """`n` sums of min_terms..max_terms numbers in 1..max_value, deterministic in `rng_key`."""
    rng = random.Random(rng_key)
    out = []
    for _ in range(n):
        k = rng.randint(min_terms, max_terms)
        out.append(sum_prompt([rng.randint(1, max_value) for _ in range(k)]))
    return out


@TASKS.register("chain")
class ChainTask(Task):
    name = "chain"

    def __init__(self, min_terms: int = 3, max_terms: int = 5, max_value: int = 9) -> None:
        if not 2 <= min_terms <= max_terms:
            raise ValueError("chain needs 2 <= min_terms <= max_terms")
        self.min_terms, self.max_terms, self.max_value = min_terms, max_terms, max_value

    def make_prompt(self, numbers: list[int]) -> Prompt:
        return sum_prompt(numbers)

    def prompts(self, split: str, n: int, seed: int) -> list[Prompt]:
        return sum_prompts(f"chain/{split}/{seed}", n, self.min_terms, self.max_terms, self.max_value)

    def extract(self, completion: str) -> str | None:
        _, sep, final = completion.rpartition(";")
        final = final.strip()
        return final if sep and final.isdigit() else None

    def verify(self, prompt: Prompt, answer: str | None) -> float:
        return float(answer is not None and int(answer) == int(prompt.target))

    def correct_answers(self, prompt: Prompt) -> frozenset[str]:
        return frozenset({prompt.target})

    def steps(self, completion: str) -> list[tuple[int, int, int]] | None:
        body, sep, _ = completion.rpartition(";")
        if not sep or not body:
            return None
        steps = []
        for part in body.split(","):
            m = _STEP.match(part.strip())
            if not m:
                return None
            steps.append((int(m.group(1)), int(m.group(2)), int(m.group(3))))
        return steps

    def signature(self, completion: str) -> str | None:
        """The operations in order, e.g. `3+5|8+2|10+4`; None when malformed."""
        steps = self.steps(completion)
        return None if steps is None else "|".join(f"{a}+{b}" for a, b, _ in steps)

    def path_kind(self, prompt: Prompt, completion: str) -> str:
        """Which named order a completion follows: l2r, r2l, pair, or other."""
        sig = self.signature(completion)
        for order in ORDERS:
            if sig == "|".join(f"{a}+{b}" for a, b, _ in solve(prompt.meta["numbers"], order)):
                return order
        return "other"

    def format_ok(self, completion: str) -> bool:
        steps = self.steps(completion)
        ans = self.extract(completion)
        return bool(steps) and all(a + b == c for a, b, c in steps) and ans == str(steps[-1][2])

    def describe(self) -> dict:
        return {"name": self.name, "min_terms": self.min_terms, "max_terms": self.max_terms,
                "max_value": self.max_value, "orders": list(ORDERS),
                "format": "prompt 'a+b+c:', completion 'a+b=x,x+c=y;y'"}
