"""What a detector returns: a verdict, and for a breach the span of the response that proves it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    """One detector's reading of one response.

    `evidence` is always a substring of the response (`response[start:end]`)
    when `breached` is true, so a reader can check every breach by eye.
    `progress` in [0, 1] is partial progress towards a breach (1 for a
    breach); the adaptive search uses it as a reward.
    """

    breached: bool
    detector: str
    evidence: str = ""
    start: int = -1
    end: int = -1
    detail: str = ""
    progress: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def miss(detector: str, progress: float = 0.0, detail: str = "") -> Verdict:
    """A verdict without a breach."""
    return Verdict(False, detector, progress=max(0.0, min(1.0, progress)), detail=detail)


def hit(detector: str, response: str, start: int, end: int, detail: str) -> Verdict:
    """A breach proven by `response[start:end]`."""
    return Verdict(True, detector, response[start:end], start, end, detail, 1.0)
