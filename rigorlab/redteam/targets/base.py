"""The one interface every red-teaming target implements, and how a spec builds one.

A target is anything that answers a chat: an OpenAI-compatible endpoint, a
model loaded in this process, or a user's own class. The campaign code only
ever sees this interface, so a new kind of target needs no change there.

Contract
--------
- A message is a plain dict ``{"role": "system"|"user"|"assistant", "content": str}``;
  a conversation is a list of them.
- ``respond(messages, **sampling) -> str`` answers one conversation and raises
  :class:`TargetError` (one sentence naming the target) when it cannot.
- ``respond_batch(batch, seeds=None, **sampling) -> list[TargetReply]`` answers
  many conversations, in order (``seeds``, one per conversation, overrides
  ``seed``, so that each query's answer depends on its own seed only); it never raises for one failed item: that item's
  reply has ``error`` set (a sentence naming the target) and empty ``text``,
  and every answer already received is returned. ``retries`` counts the
  retried attempts spent on that item (429, 5xx, dropped connections,
  timeouts); ``prompt_tokens`` / ``completion_tokens`` are filled where the
  target knows them (for token budgets), else None. ``rejected`` is True when
  the error is the target's final word on that query (HTTP 400/413/422, a
  conversation longer than the model reads): retrying cannot help.
- Sampling keys (all optional): ``temperature``, ``top_p``, ``max_tokens``,
  ``seed``, ``stop`` (a string or list of strings). Unknown keys are a
  :class:`~rigorlab.errors.UserError`.
- ``close()`` releases connections or memory; targets are context managers.

Kinds are registered in :data:`TARGETS` ("openai", "local"); a spec's ``kind``
may also be an import path ``package.module:Class`` whose class takes the
:class:`TargetSpec` as its only argument.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal, Optional, TypedDict, Union

from pydantic import BaseModel, ConfigDict, Field

from rigorlab.errors import UserError
from rigorlab.registry import Registry


class Message(TypedDict):
    """One chat turn."""

    role: str
    content: str


SAMPLING_KEYS = ("temperature", "top_p", "max_tokens", "seed", "stop")


class TargetError(RuntimeError):
    """A target failed persistently (after its retries); the message names the target."""


@dataclass
class TargetReply:
    """One conversation's outcome: the text, the retries spent, and an error sentence or None."""

    text: str
    retries: int = 0
    error: Optional[str] = None
    prompt_tokens: Optional[int] = None       # as the target reports them (for token budgets)
    completion_tokens: Optional[int] = None
    rejected: bool = False                    # the target refused this query for good (e.g. too long)

    @property
    def ok(self) -> bool:
        return self.error is None


def check_sampling(sampling: dict[str, Any]) -> dict[str, Any]:
    """Reject unknown sampling keys (a typo would otherwise be silently ignored)."""
    unknown = sorted(set(sampling) - set(SAMPLING_KEYS))
    if unknown:
        raise UserError(
            f"unknown sampling parameter(s) {', '.join(unknown)}; known: {', '.join(SAMPLING_KEYS)}"
        )
    return {k: v for k, v in sampling.items() if v is not None}


def per_item_sampling(n: int, seeds: Optional[list[int]], sampling: dict[str, Any]) -> list[dict[str, Any]]:
    """One sampling dict per conversation: `seeds[i]` (if given) replaces `seed`."""
    if seeds is None:
        return [sampling] * n
    if len(seeds) != n:
        raise ValueError(f"{len(seeds)} seeds for {n} conversations")
    return [{**sampling, "seed": int(s)} for s in seeds]


def check_messages(messages: list[Message]) -> None:
    """A conversation must be a non-empty list of {role, content} with known roles."""
    if not messages:
        raise UserError("a conversation must hold at least one message")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m or "content" not in m:
            raise UserError(f"message {i} must be a mapping with 'role' and 'content'")
        if m["role"] not in ("system", "user", "assistant"):
            raise UserError(f"message {i} has unknown role {m['role']!r} (system, user or assistant)")


class Target(ABC):
    """A chat model under test."""

    name: str = "target"

    @abstractmethod
    def respond(self, messages: list[Message], **sampling: Any) -> str:
        """Answer one conversation; raise TargetError naming the target on persistent failure."""

    def respond_batch(self, batch: list[list[Message]], seeds: Optional[list[int]] = None,
                      **sampling: Any) -> list[TargetReply]:
        """Answer many conversations; one failure never loses the others.

        The default answers them one by one; targets that can batch or run
        requests concurrently override it.
        """
        replies: list[TargetReply] = []
        for messages, params in zip(batch, per_item_sampling(len(batch), seeds, check_sampling(sampling))):
            try:
                replies.append(TargetReply(self.respond(messages, **params)))
            except TargetError as exc:
                replies.append(TargetReply("", 0, str(exc)))
        return replies

    def close(self) -> None:
        """Release connections or memory (default: nothing to release)."""

    def __enter__(self) -> "Target":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class TargetSpec(BaseModel):
    """How to build a target (a campaign file's ``target:`` section)."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field("openai", description="'openai', 'local', or an import path 'pkg.module:Class'")
    name: Optional[str] = Field(None, description="a label for logs and reports (default: model or path)")
    url: Optional[str] = Field(
        None, description="openai: the base URL, e.g. http://127.0.0.1:8000/v1 (the /chat/completions "
        "path is appended)")
    model: Optional[str] = Field(None, description="openai: the model name sent with each request")
    api_key_env: Optional[str] = Field(
        None, description="openai: the NAME of the environment variable holding the API key "
        "(the key itself is never written to a file or log)")
    path: Optional[str] = Field(
        None, description="local: a Hugging Face directory, a .gguf file, a rigorlab run directory, "
        "or 'smollm2' for the bundled SmolLM2-135M-Instruct GGUF")
    system_prompt: Optional[str] = Field(
        None, description="a system message put before every conversation that has none")
    concurrency: int = Field(4, ge=1, le=256, description="openai: requests in flight at once; "
                             "local: conversations per generate batch")
    timeout_s: float = Field(60.0, gt=0, description="openai: per-request timeout in seconds")
    max_retries: int = Field(5, ge=0, le=50, description="openai: retries per request on 429, 5xx, "
                             "dropped connections and timeouts")
    threads: Optional[int] = Field(1, ge=1, description="local: torch threads (one per process is fastest "
                                   "on a shared CPU)")


TARGETS: Registry[Target] = Registry("target kind")


def _load_builtin_kinds() -> None:
    # The built-in kinds register themselves on import; imported lazily so that
    # building an HTTP target never imports torch.
    importlib.import_module("rigorlab.redteam.targets.openai")
    importlib.import_module("rigorlab.redteam.targets.local")


def build_target(spec: Union[TargetSpec, dict[str, Any]]) -> Target:
    """Build a target from a spec (or its dict form); bad specs raise UserError naming the field."""
    if not isinstance(spec, TargetSpec):
        from pydantic import ValidationError

        try:
            spec = TargetSpec.model_validate(spec)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "target"
            raise UserError(f"target field {field!r}: {err['msg']}") from None
    if ":" not in spec.kind and spec.kind not in TARGETS.names():
        _load_builtin_kinds()
    cls = TARGETS.get(spec.kind)
    if not (isinstance(cls, type) and issubclass(cls, Target)):
        raise UserError(f"target kind {spec.kind!r} is not a rigorlab.redteam.targets.base.Target subclass")
    return cls(spec)  # type: ignore[call-arg]


__all__ = [
    "Message", "SAMPLING_KEYS", "Target", "TargetError", "TargetReply", "TargetSpec", "TARGETS",
    "build_target", "check_messages", "check_sampling", "per_item_sampling",
]
