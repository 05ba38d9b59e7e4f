"""`steps`: sums worked step by step, where a chain can grow in useful and in useless ways.

Prompt `3+5+2:`; the shortest correct completion is `3+5=8,8+2=10;10`. A
chain may also hold

- checks `?10-2=8`: undo the last addition; when the difference is not the
  partial sum it came from, the slip is found and the step is redone
  (`8+2=11,?11-2=9,8+2=10`). Checking is what makes a longer chain more often right;
- repeats (a step written again), restatements (`3+5+2`, the problem again)
  and loops (a block of steps written again back to back, or one step three
  times or more): length that changes nothing.

`label_steps` names the role of every step, so a chain's length decomposes
into useful tokens (advance, check), redundant tokens (repeat, restate, loop),
erroneous tokens (a wrong or off-track step) and the answer. The tiny
reference learns these habits at rates set by the task's parameters
(rigorlab.policy.steps_corpus); RL may then lengthen chains by checking more
or by repeating more, and the metrics (rigorlab.metrics.chain_steps) tell
which (docs/findings.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rigorlab.tasks.base import TASKS, Prompt, Task
from rigorlab.tasks.chain import sum_prompt, sum_prompts

_ADD = re.compile(r"^(\d+)\+(\d+)=(\d+)$")
_CHECK = re.compile(r"^\?(\d+)-(\d+)=(-?\d+)$")

USEFUL = ("advance", "check")
REDUNDANT = ("repeat", "restate", "loop")
ERROR = ("error",)
ROLES = {**{k: "useful" for k in USEFUL}, **{k: "redundant" for k in REDUNDANT}, "error": "error",
         "answer": "answer"}


@dataclass(frozen=True)
class StepLabel:
    """One step of a chain: its text, what it does, and its tokens (characters, separator included)."""

    text: str
    kind: str        # advance | check | repeat | restate | loop | error | answer
    tokens: int

    @property
    def role(self) -> str:
        """useful | redundant | error | answer."""
        return ROLES[self.kind]


def split_chain(completion: str) -> tuple[list[str], str | None]:
    """The step texts and the final answer text (None when the chain never reached ';')."""
    body, sep, final = completion.rpartition(";")
    if not sep:
        body, final = completion, None
    steps = body.split(",") if body else []
    return steps, final


def loop_positions(texts: list[str]) -> set[int]:
    """Indices of steps that continue a loop: a copy of the block of k >= 2 steps just before it,
    or the third and later copies of one step written back to back."""
    marked: set[int] = set()
    n = len(texts)
    for k in range(2, n // 2 + 1):
        for i in range(0, n - 2 * k + 1):
            if texts[i:i + k] == texts[i + k:i + 2 * k]:
                marked.update(range(i + k, i + 2 * k))
    for i in range(n - 2):
        if texts[i] == texts[i + 1] == texts[i + 2]:
            marked.update((i + 1, i + 2))
    return marked


def label_steps(numbers: list[int], completion: str) -> list[StepLabel]:
    """Label each step of a completion for the sum of `numbers` (left to right).

    advance: the next addition of the claimed partial sum and the next number,
    or a redo of the last addition with a different, correct result (a fix);
    check: `?c-b=d` with c - b = d, where `a+b=c` is an earlier addition;
    repeat: the exact text of an earlier step; restate: the problem again;
    loop: see `loop_positions`; error: anything else (a wrong sum, an
    off-track or malformed step). The answer is the text after ';'.
    """
    texts, final = split_chain(completion)
    loops = loop_positions(texts)
    restatement = "+".join(map(str, numbers))
    acc, pos = numbers[0], 1
    last: tuple[int, int, int] | None = None
    adds: set[tuple[int, int]] = set()          # (c, b) of every addition so far, for checks
    seen: set[str] = set()
    out = []
    for i, text in enumerate(texts):
        tokens = len(text) + (1 if i < len(texts) - 1 or final is not None else 0)
        kind = "error"
        m_add, m_check = _ADD.match(text), _CHECK.match(text)
        if i in loops:
            kind = "loop"
        elif text in seen:
            kind = "repeat"
        elif text == restatement:
            kind = "restate"
        elif m_add:
            a, b, c = map(int, m_add.groups())
            if pos < len(numbers) and a == acc and b == numbers[pos]:
                kind = "advance" if a + b == c else "error"
                acc, pos, last = c, pos + 1, (a, b, c)
                adds.add((c, b))
            elif last is not None and (a, b) == last[:2] and c != last[2]:
                kind = "advance" if a + b == c else "error"
                acc, last = c, (a, b, c)
                adds.add((c, b))
        elif m_check:
            c, b, d = map(int, m_check.groups())
            if (c, b) in adds and c - b == d:
                kind = "check"
        seen.add(text)
        out.append(StepLabel(text, kind, tokens))
    if final is not None:
        out.append(StepLabel(final, "answer", len(final)))
    return out


@TASKS.register("steps")
class StepsTask(Task):
    """Left-to-right sums with optional checks; the reference also repeats, restates and loops."""

    name = "steps"

    def __init__(self, min_terms: int = 3, max_terms: int = 3, max_value: int = 9, check_rate: float = 0.3,
                 repeat_rate: float = 0.15, restate_rate: float = 0.1, loop_rate: float = 0.1) -> None:
        if not 2 <= min_terms <= max_terms:
            raise ValueError("steps needs 2 <= min_terms <= max_terms")
        if max_value < 1:
            raise ValueError("steps needs max_value >= 1")
        for key, rate in (("check_rate", check_rate), ("repeat_rate", repeat_rate),
                          ("restate_rate", restate_rate), ("loop_rate", loop_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"steps needs 0 <= {key} <= 1, got {rate}")
        self.min_terms, self.max_terms, self.max_value = min_terms, max_terms, max_value
        self.check_rate, self.repeat_rate = check_rate, repeat_rate
        self.restate_rate, self.loop_rate = restate_rate, loop_rate

    def make_prompt(self, numbers: list[int]) -> Prompt:
        return sum_prompt(numbers)

    def prompts(self, split: str, n: int, seed: int) -> list[Prompt]:
        return sum_prompts(f"steps/{split}/{seed}", n, self.min_terms, self.max_terms, self.max_value)

    def extract(self, completion: str) -> str | None:
        _, final = split_chain(completion)
        final = (final or "").strip()
        return final if final.isdigit() else None

    def verify(self, prompt: Prompt, answer: str | None) -> float:
        return float(answer is not None and int(answer) == int(prompt.target))

    def correct_answers(self, prompt: Prompt) -> frozenset[str]:
        return frozenset({prompt.target})

    def label_steps(self, prompt: Prompt, completion: str) -> list[StepLabel]:
        """Each step's role (see the module function `label_steps`)."""
        return label_steps(prompt.meta["numbers"], completion)

    def signature(self, completion: str) -> str | None:
        """The shape of the chain (`add|check|add`; `other` for a restatement or a malformed step),
        so path diversity counts habits of checking; None without a final answer."""
        texts, final = split_chain(completion)
        if final is None or not texts:
            return None
        return "|".join("add" if _ADD.match(t) else "check" if _CHECK.match(t) else "other" for t in texts)

    def format_ok(self, completion: str) -> bool:
        texts, final = split_chain(completion)
        return final is not None and self.extract(completion) is not None and all(
            _ADD.match(t) or _CHECK.match(t) or re.fullmatch(r"\d+(\+\d+)+", t) for t in texts)

    def describe(self) -> dict:
        return {"name": self.name, "min_terms": self.min_terms, "max_terms": self.max_terms,
                "max_value": self.max_value, "check_rate": self.check_rate, "repeat_rate": self.repeat_rate,
                "restate_rate": self.restate_rate, "loop_rate": self.loop_rate,
                "format": "prompt 'a+b+c:', completion 'a+b=x,?x-b=a,x+c=y;y' (checks '?', repeats, "
                          "restatements and loops optional)",
                "step_kinds": {"useful": list(USEFUL), "redundant": list(REDUNDANT), "error": list(ERROR)}}
