"""The one exception the metrics raise for bad input.

It is both a `UserError` (the CLI prints it as one sentence and exits 2) and a
`ValueError` (what a library caller expects from a function given bad data).
"""

from __future__ import annotations

from typing import Any, Sequence

from rigorlab.errors import UserError


class MetricInputError(UserError, ValueError):
    """Input a metric cannot be computed on: wrong type, too few items, bad parameter."""


def check_texts(texts: Sequence[Any], what: str = "texts", min_count: int = 1) -> list[str]:
    """Return `texts` as a list after checking every item is a string."""
    if isinstance(texts, str):
        raise MetricInputError(f"{what} must be a list of strings, not one string")
    try:
        items = list(texts)
    except TypeError:
        raise MetricInputError(f"{what} must be a list of strings, got {type(texts).__name__}") from None
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise MetricInputError(f"{what}[{i}] is {type(t).__name__}, not a string")
    if len(items) < min_count:
        raise MetricInputError(f"{what} needs at least {min_count} item(s), got {len(items)}")
    return items


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Return `value` as an int after checking it is an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, (int,)) and not hasattr(value, "__index__"):
        raise MetricInputError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if value < minimum:
        raise MetricInputError(f"{name} must be >= {minimum}, got {value}")
    return value
