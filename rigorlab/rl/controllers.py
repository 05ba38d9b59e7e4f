"""Coefficient controllers (docs/theory.md section 7): a coefficient's value over training.

The trainer keeps one controller per named coefficient (`beta`,
`entropy_coef`, ...). After each step it calls `update(metrics)`; the value is
logged as `coef/<name>` and saved in checkpoints so resume is exact.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from rigorlab.errors import UserError
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


def _metric(metrics: dict[str, float], name: str, who: str) -> float | None:
    """The metric a feedback controller reads; None when it is not finite this step."""
    if name not in metrics:
        known = ", ".join(sorted(k for k in metrics if k.startswith(("kl/", "entropy")))) or "none"
        raise UserError(f"controller {who!r} reads metric {name!r}, which the step did not log (logged: {known})")
    value = float(metrics[name])
    return value if math.isfinite(value) else None


class _Schedule(Controller):
    """A coefficient that moves from `initial` to `final` over `steps` updates, then stays."""

    def __init__(self, initial: float, final: float, steps: int) -> None:
        super().__init__(initial)
        if int(steps) <= 0:
            raise UserError(f"schedule steps must be a positive integer, got {steps!r}")
        self.initial, self.final, self.steps = float(initial), float(final), int(steps)

    @abstractmethod
    def _shape(self, frac: float) -> float:
        """Share of the way from initial to final at progress frac in [0, 1]."""

    def _next(self, metrics: dict[str, float]) -> float:
        frac = min(self.step / self.steps, 1.0)
        return self.initial + (self.final - self.initial) * self._shape(frac)


@CONTROLLERS.register("linear")
class Linear(_Schedule):
    """value(s) = initial + (final - initial) * min(s / steps, 1), s = updates so far."""

    def _shape(self, frac: float) -> float:
        return frac


@CONTROLLERS.register("cosine")
class Cosine(_Schedule):
    """value(s) = final + (initial - final) * (1 + cos(pi * min(s / steps, 1))) / 2."""

    def _shape(self, frac: float) -> float:
        return 0.5 * (1.0 - math.cos(math.pi * frac))


@CONTROLLERS.register("adaptive_kl")
class AdaptiveKL(Controller):
    """Ziegler et al. (2019) adaptive KL coefficient, docs/theory.md section 7.

        e    = clip(KL / target - 1, -0.2, 0.2)
        beta <- beta * (1 + e * n_steps / horizon)

    KL is read from the step's metrics row under `metric`; the default
    `kl/reverse_exact` is the exact per-token KL(pi || pi_ref) averaged over
    completion tokens (lowest variance; `kl/k1` or `kl/k3` are the sampled
    estimates). `target` is in the metric's units: nats PER TOKEN, not per
    sequence as in Ziegler et al. `n_steps / horizon` is the fraction of the
    horizon one update covers: Ziegler count samples (n_steps = batch size,
    horizon = 10000); the default n_steps = 1 counts trainer steps. A step whose
    KL is not finite leaves beta unchanged.
    """

    def __init__(self, initial: float, target: float, horizon: float = 100.0, n_steps: float = 1.0,
                 metric: str = "kl/reverse_exact") -> None:
        super().__init__(initial)
        if not self.value > 0:
            raise UserError(f"adaptive_kl multiplies its coefficient, so the initial value (e.g. grpo.beta) "
                            f"must be > 0, got {self.value}")
        if not target > 0:
            raise UserError(f"adaptive_kl target must be > 0, got {target!r}")
        if not horizon > 0 or not n_steps > 0:
            raise UserError(f"adaptive_kl horizon and n_steps must be > 0, got {horizon!r} and {n_steps!r}")
        if n_steps / horizon >= 5:
            raise UserError(f"adaptive_kl n_steps / horizon must be < 5 so beta stays positive, "
                            f"got {n_steps}/{horizon}")
        self.target, self.horizon, self.n_steps, self.metric = float(target), float(horizon), float(n_steps), metric

    def _next(self, metrics: dict[str, float]) -> float:
        kl = _metric(metrics, self.metric, "adaptive_kl")
        if kl is None:
            return self.value
        error = min(max(kl / self.target - 1.0, -0.2), 0.2)
        return self.value * (1.0 + error * self.n_steps / self.horizon)


@CONTROLLERS.register("target_entropy")
class TargetEntropy(Controller):
    """Steer a coefficient so the policy's token entropy tracks `target` (docs/theory.md section 7).

    With H the step's `metric` (default `entropy`: mean exact token entropy of
    the sampling policy, nats) and err = target - H (> 0 when entropy is too low):

        space linear: c <- clip(c + s * lr * err,        min_value, max_value)
        space log:    c <- clip(c * exp(s * lr * err),   min_value, max_value)

    s = +1 for `when_low: raise` (the entropy coefficient: more bonus when
    entropy falls under the target) and s = -1 for `when_low: lower` (beta
    towards a peaked reference: less pull to the peak when entropy is low).
    The linear rule is dual ascent on the constraint H >= target, as in SAC's
    automatic temperature (Haarnoja et al. 2018); the log rule is the same in
    log c (scale-free, but it cannot leave 0, so it needs initial > 0). With
    beta towards a reference MORE entropic than the policy (the usual case
    after collapse), use `when_low: raise` on beta instead.
    """

    def __init__(self, initial: float, target: float, lr: float = 0.01, when_low: str = "raise",
                 space: str = "linear", min_value: float = 0.0, max_value: float = math.inf,
                 metric: str = "entropy") -> None:
        super().__init__(initial)
        if when_low not in ("raise", "lower"):
            raise UserError(f"target_entropy when_low must be 'raise' or 'lower', got {when_low!r}")
        if space not in ("linear", "log"):
            raise UserError(f"target_entropy space must be 'linear' or 'log', got {space!r}")
        if not lr > 0:
            raise UserError(f"target_entropy lr must be > 0, got {lr!r}")
        if not min_value <= self.value <= max_value:
            raise UserError(f"target_entropy: initial value {self.value} is outside [{min_value}, {max_value}]")
        if space == "log" and not self.value > 0:
            raise UserError("target_entropy with space 'log' needs an initial coefficient > 0")
        self.target, self.lr, self.metric = float(target), float(lr), metric
        self.sign = 1.0 if when_low == "raise" else -1.0
        self.space, self.min_value, self.max_value = space, float(min_value), float(max_value)

    def _next(self, metrics: dict[str, float]) -> float:
        h = _metric(metrics, self.metric, "target_entropy")
        if h is None:
            return self.value
        move = self.sign * self.lr * (self.target - h)
        value = self.value + move if self.space == "linear" else self.value * math.exp(move)
        return min(max(value, self.min_value), self.max_value)
