"""Reward components with weights (correctness, format, length): each is logged on its own and a
zero weight switches it off, so a study can ablate one (rl/rewards.py)."""

from __future__ import annotations

import numpy as np
import pytest

from rigorlab.rl.rewards import reward_components, total_reward
from rigorlab.tasks import build_task


def test_components_and_weighted_total_by_hand():
    task = build_task("pairs")
    prompts = [task.make_prompt(9)] * 4
    completions = ["4+5", "4+4", "45", "9+0"]
    answers = [task.extract(c) for c in completions]
    parts = reward_components(task, prompts, completions, answers, lengths=[4, 4, 3, 8], max_completion_length=8)
    assert parts["correctness"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert parts["format"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert parts["length"].tolist() == [-0.5, -0.5, -0.375, -1.0]
    total = total_reward(parts, {"correctness": 1.0, "format": 0.2, "length": 0.1})
    assert total == pytest.approx([1.15, 0.15, -0.0375, 1.1])
    # a zero weight removes exactly that component
    no_length = total_reward(parts, {"correctness": 1.0, "format": 0.2, "length": 0.0})
    assert no_length == pytest.approx(parts["correctness"] + 0.2 * parts["format"])
    assert np.array_equal(total_reward(parts, {"correctness": 1.0}), parts["correctness"])
