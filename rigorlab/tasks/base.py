"""The Task seam: prompts, answer extraction, verification, the correct set.

A task is what makes RL on language "verifiable": `verify` scores an
extracted answer, and when the correct set is finite (`correct_answers`) the
coverage of that set, and the exact optimum, can be computed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Hashable

from rigorlab.registry import Registry

TASKS: Registry["Task"] = Registry("task")


@dataclass(frozen=True)
class Prompt:
    """One prompt: its text, a stable id, and the data the verifier needs."""

    id: str
    text: str
    target: str                    # the reference answer (normalised)
    meta: dict = field(default_factory=dict, hash=False, compare=False)


class Task(ABC):
    """Base class of verifiable tasks."""

    name: str = "task"

    @abstractmethod
    def prompts(self, split: str, n: int, seed: int) -> list[Prompt]:
        """`n` prompts of `split` ("train" | "eval"), deterministic in `seed`."""

    @abstractmethod
    def extract(self, completion: str) -> str | None:
        """The final answer in a completion, normalised; None if there is none."""

    @abstractmethod
    def verify(self, prompt: Prompt, answer: str | None) -> float:
        """Correctness reward in [0, 1] of an extracted answer."""

    def correct_answers(self, prompt: Prompt) -> frozenset[str] | None:
        """Every correct answer when the set is finite, else None."""
        return None

    def outcomes(self, prompt: Prompt) -> list[str] | None:
        """Every well-formed completion when the answer space is finite (for exact optima)."""
        return None

    def signature(self, completion: str) -> Hashable | None:
        """A reasoning-path signature (for path diversity); None when the task has none."""
        return None

    def format_ok(self, completion: str) -> bool:
        """Whether the completion follows the task's format (a shaping component)."""
        return self.extract(completion) is not None

    def describe(self) -> dict:
        """Facts about how the task's data are made, for provenance."""
        return {"name": self.name}
