"""Verifiable tasks: `pairs`, `chain`, `steps`, and a user's own JSONL file."""

from rigorlab.tasks import chain, jsonl, pairs, steps  # noqa: F401  (registration)
from rigorlab.tasks.base import TASKS, Prompt, Task

__all__ = ["TASKS", "Prompt", "Task", "build_task"]


def build_task(name: str, **params) -> Task:
    """Build a registered task (or `package.module:Class`) from config parameters."""
    return TASKS.build(name, **params)
