"""Bounds on the completion length that can be checked before anything runs.

A completion longer than the model's context cannot be generated, and a batch
whose activations alone exceed the machine's memory cannot be trained; both
are known from the config (and, for a local Hugging Face model, its
config.json) without loading torch. The config validator calls
`completion_budget_problem` so a run with `max_completion_length: 1000000000`
is refused with one sentence instead of a multi-terabyte allocation.
The memory figure is a lower bound (logits and the activations kept for the
backward pass of the completion tokens only), so a refusal is never wrong.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

_BYTES = 4   # float32 activations (bf16 autocast keeps the logits in float32 too)
TINY_VOCAB = 99   # rigorlab.policy.tokenizer: 4 specials + 95 printable characters


@dataclass(frozen=True)
class ModelShape:
    """The few sizes of a causal LM that bound what a batch can cost."""

    context: int | None
    vocab: int
    hidden: int
    layers: int
    intermediate: int


def hf_model_shape(model_dir: str | os.PathLike) -> ModelShape | None:
    """Sizes from a local Hugging Face model's config.json; None if there is none to read."""
    path = Path(model_dir) / "config.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    raw = raw.get("text_config", raw) if isinstance(raw, dict) else {}
    context = next((raw[k] for k in ("max_position_embeddings", "n_positions", "max_sequence_length",
                                     "seq_length") if isinstance(raw.get(k), int)), None)
    hidden = raw.get("hidden_size") or raw.get("n_embd") or 0
    return ModelShape(context=context, vocab=int(raw.get("vocab_size") or 0), hidden=int(hidden),
                      layers=int(raw.get("num_hidden_layers") or raw.get("n_layer") or 0),
                      intermediate=int(raw.get("intermediate_size") or 4 * hidden))


def activation_bytes(shape: ModelShape, sequences: int, tokens: int) -> int:
    """Lower bound on the bytes one forward+backward over `sequences` x `tokens` keeps alive."""
    per_token = shape.vocab * 2 + shape.layers * (4 * shape.hidden + 2 * shape.intermediate)
    return sequences * tokens * per_token * _BYTES


def physical_memory_bytes() -> int | None:
    """The machine's RAM, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def completion_budget_problem(field: str, tokens: int, shape: ModelShape | None, sequences: int,
                              device: str = "cpu", memory: int | None = None) -> str | None:
    """A sentence saying why `tokens` completion tokens cannot run, or None if they can.

    `field` is the config field's dotted name (named in the sentence);
    `sequences` the largest batch of completions a step or the evaluation makes.
    """
    if shape is None:
        return None
    if shape.context is not None and tokens >= shape.context:
        return (f"{field} is {tokens}, but the model's context holds {shape.context} tokens "
                f"(prompt and completion together): choose fewer than {shape.context}")
    if device != "cpu":
        return None   # accelerator memory is not known without torch; an allocation failure is reported instead
    memory = physical_memory_bytes() if memory is None else memory
    need = activation_bytes(shape, sequences, tokens)
    if memory is not None and need > memory:
        return (f"{field} is {tokens}: {sequences} completions of that length need at least "
                f"{need / 2**30:.1f} GiB of activations, more than this machine's {memory / 2**30:.1f} GiB")
    return None
