"""Reward shapers: rewrite a group's rewards (docs/theory.md sections 4 and 6).

A shaper sees one group (a prompt's G completions with their answers,
reasoning-path signatures, reference log-probs and rewards) and returns new
rewards and metrics. Shapers that keep state (answer counts) save it in
checkpoints through `state_dict`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np

from rigorlab.registry import Registry

REWARD_SHAPERS: Registry["RewardShaper"] = Registry("reward shaper")


@dataclass
class ScoredGroup:
    """One prompt's G completions, as a shaper sees them."""

    prompt: str
    completions: Sequence[str]
    answers: Sequence[Hashable | None]      # extracted final answers (None: none found)
    rewards: np.ndarray                     # (G,) rewards so far
    correct: np.ndarray | None = None       # (G,) verifier score, before shaping
    signatures: Sequence[Hashable | None] | None = None  # reasoning-path signatures
    ref_logprob: np.ndarray | None = None   # (G,) sequence log-prob under pi_ref
    coefs: dict[str, float] = field(default_factory=dict)  # current coefficients (beta, ...)


class RewardShaper(ABC):
    """Base class: `shape(group, step) -> (new rewards (G,), metrics)`."""

    name: str = "shaper"

    @abstractmethod
    def shape(self, group: ScoredGroup, step: int) -> tuple[np.ndarray, dict[str, float]]:
        """New rewards for the group and metrics (averaged over groups by the trainer)."""

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        return None
