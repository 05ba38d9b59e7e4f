"""What a named number means: its label, direction and range, registered beside the code that computes it.

As lm-evaluation-harness registers `higher_is_better` with each metric, a
function here is decorated with the names of the quantities it computes:

    @register_metric("coverage", "coverage of correct set", True, (0.0, 1.0),
                     "share of a prompt's correct answers that were sampled at least once")
    def coverage(answers, correct_set): ...

so that `metric_info("coverage")` (used by studies, reports and tables) and
the function agree by construction. A name may hold `{k}` (`pass@{k}`) to
cover a family. Quantities computed inline (the trainer's log columns) are
registered with `describe_metric` next to where they are written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)
Bounds = tuple[float | None, float | None]


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    higher_is_better: bool | None      # None: neither (a description, not a score)
    bounds: Bounds                     # the range of a value (intervals are clipped to it)
    description: str
    computed_by: str = ""              # module.function that computes it ("" when inline)


_FIXED: dict[str, MetricInfo] = {}
_FAMILIES: list[tuple[re.Pattern, MetricInfo]] = []


def describe_metric(name: str, label: str, higher_is_better: bool | None, bounds: Bounds, description: str,
                    computed_by: str = "") -> MetricInfo:
    """Register one named quantity (or a `{k}` family); a second, different registration is a bug."""
    info = MetricInfo(name, label, higher_is_better, bounds, description, computed_by)
    if "{k}" in name:
        pattern = re.compile("^" + re.escape(name).replace(re.escape("{k}"), "([1-9][0-9]*)") + "$")
        if not any(p.pattern == pattern.pattern for p, _ in _FAMILIES):
            _FAMILIES.append((pattern, info))
        return info
    old = _FIXED.get(name)
    if old is not None and old != info:
        raise ValueError(f"metric {name!r} is registered twice with different meanings")
    _FIXED[name] = info
    return info


def register_metric(name: str, label: str, higher_is_better: bool | None, bounds: Bounds,
                    description: str) -> Callable[[F], F]:
    """Decorator: the function computes the quantity `name` (stack it for several names)."""
    def deco(fn: F) -> F:
        describe_metric(name, label, higher_is_better, bounds, description, f"{fn.__module__}.{fn.__qualname__}")
        return fn
    return deco


def metric_info(name: str) -> MetricInfo:
    """The registered meaning of `name` (a `{k}` family filled in); KeyError if unknown."""
    if name in _FIXED:
        return _FIXED[name]
    for pattern, info in _FAMILIES:
        m = pattern.match(name)
        if m:
            k = m.group(1)
            return MetricInfo(name, info.label.replace("{k}", k), info.higher_is_better, info.bounds,
                              info.description.replace("{k}", k), info.computed_by)
    raise KeyError(name)


def registered_names() -> list[str]:
    """Every registered name (families as their `{k}` template)."""
    return list(_FIXED) + [info.name for _, info in _FAMILIES]
