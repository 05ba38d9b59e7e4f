"""Reward components with weights: correctness, format, length.

Each component is logged on its own (`reward/<name>`), so a study can switch
one off and see what it did. The total is the weighted sum; shapers
(count bonus, MARA) act on that total afterwards.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from rigorlab.tasks.base import Prompt, Task


def reward_components(task: Task, prompts: Sequence[Prompt], completions: Sequence[str],
                      answers: Sequence[str | None], lengths: Sequence[int],
                      max_completion_length: int) -> dict[str, np.ndarray]:
    """Unweighted components per completion: correctness in [0, 1], format in {0, 1},
    length = -(tokens / max_completion_length) in [-1, 0]."""
    return {
        "correctness": np.array([task.verify(p, a) for p, a in zip(prompts, answers)], dtype=float),
        "format": np.array([float(task.format_ok(c)) for c in completions], dtype=float),
        "length": -np.asarray(lengths, dtype=float) / float(max_completion_length),
    }


def total_reward(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of the components; a zero weight switches a component off."""
    total = np.zeros_like(next(iter(components.values())))
    for name, values in components.items():
        w = weights.get(name, 0.0)
        if w:
            total = total + w * values
    return total
