"""Targets a red-teaming campaign talks to; see :mod:`rigorlab.redteam.targets.base`."""

from rigorlab.redteam.targets.base import (
    SAMPLING_KEYS, TARGETS, Message, Target, TargetError, TargetReply, TargetSpec, build_target,
)

__all__ = [
    "Message", "SAMPLING_KEYS", "Target", "TargetError", "TargetReply", "TargetSpec", "TARGETS",
    "build_target",
]
