"""An attack: what the operators write and the goal turns into a conversation."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Attack:
    """User turns sent live, optional fabricated context, and an optional assistant prefill.

    `turns` are sent one at a time: each earlier turn is answered by the
    target before the next is sent (multi-turn escalation), so an attack with
    k turns costs k queries. `context` holds fabricated (role, content) pairs
    placed before them without querying (few-shot / many-shot dialogues).
    `prefill` is the start of the assistant's answer the target must continue.
    `chain` lists the operators applied, outermost last.
    """

    turns: tuple[str, ...]
    context: tuple[tuple[str, str], ...] = ()
    prefill: str = ""
    chain: tuple[str, ...] = ()
    origin: str = ""

    @classmethod
    def direct(cls, request: str) -> "Attack":
        """The unmodified request: one user turn."""
        return cls(turns=(request,), origin=request)

    @property
    def payload(self) -> str:
        """The last live turn, the one that carries the request."""
        return self.turns[-1]

    def with_payload(self, text: str, op: str, **changes: Any) -> "Attack":
        """A copy whose last turn is `text` and whose chain records `op`."""
        return replace(self, turns=self.turns[:-1] + (text,), chain=self.chain + (op,), **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["context"] = [list(p) for p in self.context]
        d["turns"], d["chain"] = list(self.turns), list(self.chain)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Attack":
        return cls(turns=tuple(d["turns"]), context=tuple(tuple(p) for p in d.get("context", ())),
                   prefill=d.get("prefill", ""), chain=tuple(d.get("chain", ())), origin=d.get("origin", ""))


def conversation(system: str | None, attack: Attack, wrap: Any, replies: list[str], upto: int,
                 preamble: tuple[tuple[str, str], ...] = ()) -> list[dict[str, str]]:
    """Messages for live turn `upto` (0-based): system, the deployer's preamble turns, the attack's
    fabricated context, then the earlier live turns with their replies.

    `wrap` turns the payload turn (the last one) into the user message the goal
    sends (identity except for injection goals). The prefill follows the last turn only.
    """
    msgs: list[dict[str, str]] = []
    if system:
        msgs.append({"role": "system", "content": system})
    msgs.extend({"role": r, "content": c} for r, c in preamble)
    msgs.extend({"role": r, "content": c} for r, c in attack.context)
    last = len(attack.turns) - 1
    for i in range(upto + 1):
        text = attack.turns[i]
        msgs.append({"role": "user", "content": wrap(text) if i == last else text})
        if i < upto:
            msgs.append({"role": "assistant", "content": replies[i]})
    if upto == last and attack.prefill:
        msgs.append({"role": "assistant", "content": attack.prefill})
    return msgs


