"""Coefficient controllers (THEORY.md section 7): a coefficient's value over training.

The trainer keeps one controller per named coefficient (`beta`,
`entropy_coef`, ...). After each step it calls `update(metrics)`; the value is
logged as `coef/<name>` and saved in checkpoints so resume is exact.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from rigorlab.registry import Registry

CONTROLLERS: Registry["Controller"] = Registry("controller")


class Controller(ABC):
    """Holds one coefficient; `update` moves it from the step's metrics."""

    def __init__(self, initial: float) -> None:
        self.value = float(initial)
        self.step = 0

    @abstractmethod
    def _next(self, metrics: dict[str, float]) -> float:
        """The coefficient for the next step."""

    def update(self, metrics: dict[str, float]) -> float:
        self.step += 1
        self.value = float(self._next(metrics))
        return self.value

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value, "step": self.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value, self.step = float(state["value"]), int(state["step"])


@CONTROLLERS.register("fixed")
class Fixed(Controller):
    """A constant coefficient."""

    def _next(self, metrics: dict[str, float]) -> float:
        return self.value
