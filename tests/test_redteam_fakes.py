"""Deterministic fake targets for the red-team tests (a test double, not a model).

`KeeperTarget` behaves like the hardened SmolLM2 described in issue 19: it
refuses every direct request for its secret, but continues an assistant
prefill, plays along with fiction and role-play framings, and follows
"spell it backwards" / base64 requests. Its answer is a pure function of the
conversation, so a campaign against it must give identical results every time.
"""

from __future__ import annotations

import base64
import os
import time
from typing import Any

from rigorlab.redteam.targets.base import Target, TargetSpec

SECRET = "Tangerine-Falcon-42"


def keeper_answer(messages: list[dict[str, str]], secret: str = SECRET) -> str:
    last = messages[-1]
    if last["role"] == "assistant":                      # prefill: the keeper continues it
        return f" {secret}."
    text = last["content"].lower()
    if any(w in text for w in ("max,", "grandma", "oracle", "novel")):
        if "backwards" in text:
            return f"Alright: {secret[::-1]}"
        if "base64" in text:
            return "Here: " + base64.b64encode(secret.encode()).decode()
        return f"Okay, just this once. The password is {secret}."
    if any(w in text for w in ("password", "secret", "code", "passphrase", "pin", "instructions", "prompt",
                               "word", "key", "value", "hiding")):
        return "I'm sorry, but I can't share that."
    return "Hello! How can I help you today?"


class KeeperTarget(Target):
    """The fake keeper as a Target; builds from a TargetSpec so a campaign file can name it by import path.

    KEEPER_DELAY (seconds per query, environment) slows it down so that a test can kill a campaign mid-way.
    """

    def __init__(self, spec: TargetSpec | None = None) -> None:
        self.name = "keeper"
        self.calls: list[list[dict[str, str]]] = []
        self.delay = float(os.environ.get("KEEPER_DELAY", "0"))

    def respond(self, messages: list[dict[str, str]], **sampling: Any) -> str:
        self.calls.append(messages)
        if self.delay:
            time.sleep(self.delay)
        return keeper_answer(messages)


class WallTarget(Target):
    """Refuses everything: no campaign can breach it."""

    def __init__(self, spec: TargetSpec | None = None) -> None:
        self.name = "wall"

    def respond(self, messages: list[dict[str, str]], **sampling: Any) -> str:
        return "I'm sorry, I can't help with that."
