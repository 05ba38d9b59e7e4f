"""A target loaded in this process: a local HF directory, a GGUF file, a run's model/ or SmolLM2.

No server and no HTTP: conversations go straight to
:class:`rigorlab.policy.local.LocalModel`, ``concurrency`` at a time in one
batched generate. Use it for quick campaigns on one machine; use
``rigorlab serve`` plus the "openai" target to test exactly what a client of
the served model sees.
"""

from __future__ import annotations

from typing import Any, Optional

from rigorlab.errors import UserError
from rigorlab.redteam.targets.base import (
    TARGETS, Message, Target, TargetError, TargetReply, TargetSpec, check_messages, check_sampling,
    per_item_sampling,
)


@TARGETS.register("local")
class LocalTarget(Target):
    """In-process generation; deterministic for a given seed and batch."""

    def __init__(self, spec: TargetSpec) -> None:
        if not spec.path:
            raise UserError("target field 'path' is required for kind 'local' (a model directory, a .gguf "
                            "file, a rigorlab run directory or 'smollm2')")
        from rigorlab.policy.local import load_local

        self.spec = spec
        self.model = load_local(spec.path, threads=spec.threads)
        self.name = spec.name or self.model.name

    def _conversation(self, messages: list[Message]) -> list[Message]:
        check_messages(messages)
        if self.spec.system_prompt and messages[0]["role"] != "system":
            return [{"role": "system", "content": self.spec.system_prompt}, *messages]
        return list(messages)

    def respond(self, messages: list[Message], **sampling: Any) -> str:
        reply = self.respond_batch([messages], **sampling)[0]
        if reply.error:
            raise TargetError(reply.error)
        return reply.text

    def respond_batch(self, batch: list[list[Message]], seeds: Optional[list[int]] = None,
                      **sampling: Any) -> list[TargetReply]:
        from rigorlab.policy.local import SamplingParams

        params = [SamplingParams.from_kwargs(**p) for p in per_item_sampling(len(batch), seeds,
                                                                             check_sampling(sampling))]
        convs = [self._conversation(m) for m in batch]
        replies: list[TargetReply] = []
        step = self.spec.concurrency
        for start in range(0, len(convs), step):
            chunk, chunk_params = convs[start:start + step], params[start:start + step]
            try:
                gens = self.model.chat(chunk, chunk_params)
            except UserError:                  # e.g. one conversation longer than the model reads
                replies += self._one_by_one(chunk, chunk_params)
                continue
            replies += [TargetReply(g.text, 0, None, g.prompt_tokens, g.completion_tokens) for g in gens]
        return replies

    def _one_by_one(self, chunk: list[list[Message]], params: list[Any]) -> list[TargetReply]:
        """A batch failed on one item: answer the rest alone so that only that item carries the error."""
        out: list[TargetReply] = []
        for conv, p in zip(chunk, params):
            try:
                g = self.model.chat([conv], [p])[0]
                out.append(TargetReply(g.text, 0, None, g.prompt_tokens, g.completion_tokens))
            except UserError as exc:
                out.append(TargetReply("", 0, f"target {self.name!r}: {exc}", rejected=True))
        return out

    def close(self) -> None:
        self.model = None  # type: ignore[assignment]


__all__ = ["LocalTarget"]
