"""Problems to sample a checkpoint on: a user's JSONL, or the built-in arithmetic set.

Nothing can be fetched from a hub here, so the package ships a verifiable set
of its own: multi-step arithmetic word problems generated from a fixed seed
(problem i depends only on i, so `--limit 16` is the first 16 of the same set
everywhere). Each answer is an integer, checked with the numeric or the
math-verify verifier.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from rigorlab.errors import UserError
from rigorlab.metrics.errors import MetricInputError
from rigorlab.metrics.loaders import jsonl_records

BUILTIN = {"arithmetic": 200}     # name -> number of problems in the set

INSTRUCTION = "Solve the problem step by step, then give the final answer as \\boxed{NUMBER}."

_NAMES = ("Ada", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lena")
_ITEMS = ("apples", "marbles", "stickers", "pencils", "shells", "coins", "cards", "books")


@dataclass(frozen=True)
class Problem:
    """One verifiable problem: a stable id, the question, the reference answer."""

    id: str
    question: str
    answer: str


def _arithmetic(i: int) -> Problem:
    """Problem i of the built-in set: 2-4 steps of +, -, x, / on small integers, answer >= 0."""
    rng = random.Random(f"rigorlab/arithmetic/{i}")
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    total = rng.randint(5, 30)
    text = [f"{name} has {total} {item}."]
    for _ in range(rng.randint(2, 4)):
        op = rng.choice(("buy", "give", "times", "share"))
        if op == "buy":
            bags, each = rng.randint(2, 5), rng.randint(2, 9)
            total += bags * each
            text.append(f"Then {name} buys {bags} bags with {each} {item} in each bag.")
        elif op == "give" and total > 1:
            k = rng.randint(1, total - 1)
            total -= k
            text.append(f"{name} gives {k} {item} to a friend.")
        elif op == "times" and total <= 60:
            f = rng.randint(2, 3)
            total *= f
            text.append(f"A week later {name} has {'twice' if f == 2 else 'three times'} as many {item}.")
        else:
            d = next((d for d in (2, 3, 4, 5) if total % d == 0 and total > d), None)
            if d is None:
                total += 1
                text.append(f"{name} finds 1 more.")
                continue
            total //= d
            text.append(f"{name} shares the {item} equally among {d} boxes and keeps one box.")
    text.append(f"How many {item} does {name} have now?")
    return Problem(id=f"arithmetic-{i:03d}", question=" ".join(text), answer=str(total))


def builtin_problems(name: str) -> list[Problem]:
    """The built-in set `name` (see BUILTIN)."""
    if name not in BUILTIN:
        raise UserError(f"--tasks {name!r} is neither a file nor a built-in set ({', '.join(BUILTIN)})")
    return [_arithmetic(i) for i in range(BUILTIN[name])]


def load_problems(spec: str, limit: int | None = None, problem_field: str = "problem",
                  answer_field: str = "answer") -> list[Problem]:
    """Problems from a JSONL file (fields `problem`, `answer`, optional `id`) or a built-in set name."""
    path = Path(spec)
    if path.is_file():
        problems = _from_jsonl(path, problem_field, answer_field)
    elif spec in BUILTIN:
        problems = builtin_problems(spec)
    else:
        raise UserError(f"--tasks {spec!r} is neither a file nor a built-in set ({', '.join(BUILTIN)})")
    if limit is not None:
        if limit < 1:
            raise UserError(f"--limit must be at least 1, got {limit}")
        problems = problems[:limit]
    return problems


def _from_jsonl(path: Path, pf: str, af: str) -> list[Problem]:
    try:
        records = jsonl_records(path)
    except MetricInputError as exc:
        raise UserError(str(exc)) from None
    problems, seen = [], set()
    for i, rec in enumerate(records, 1):
        if pf not in rec or af not in rec:
            raise UserError(f"{path}, record {i}: needs the fields {pf!r} and {af!r}")
        pid = str(rec.get("id") or hashlib.sha1(str(rec[pf]).encode()).hexdigest()[:12])
        if pid in seen:
            raise UserError(f"{path}, record {i}: problem id {pid!r} occurs twice")
        seen.add(pid)
        problems.append(Problem(id=pid, question=str(rec[pf]), answer=str(rec[af]).strip()))
    if not problems:
        raise UserError(f"task file {path} has no problems")
    return problems
