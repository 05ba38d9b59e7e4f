"""Build the embedded tiny causal LM, or load any local causal LM.

The tiny model is a Llama-architecture `transformers` model built from a
config (no download), so every tool that reads a HF directory reads it, and
a user's model (`policy.model: PATH`) replaces it unchanged. A GGUF file is
dequantised to float32 by transformers and then made an ordinary model, so
that training it and `save_pretrained` work as for a Hugging Face directory.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

from rigorlab.budget import resolve_model_path
from rigorlab.config import TinyModelConfig
from rigorlab.errors import UserError
from rigorlab.policy.quiet import quiet


def build_tiny_model(arch: TinyModelConfig, tokenizer: PreTrainedTokenizerBase, seed: int) -> LlamaForCausalLM:
    """A freshly initialised Llama-style model sized by `arch`, deterministic in `seed`."""
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=arch.hidden_size,
        intermediate_size=arch.intermediate_size,
        num_hidden_layers=arch.num_hidden_layers,
        num_attention_heads=arch.num_attention_heads,
        num_key_value_heads=arch.num_attention_heads,
        max_position_embeddings=arch.max_position_embeddings,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        attn_implementation="sdpa",
    )
    torch.manual_seed(seed)
    with quiet():
        return LlamaForCausalLM(config)


def load_pretrained(ref: str | os.PathLike) -> tuple[torch.nn.Module, PreTrainedTokenizerBase]:
    """Load a causal LM (float32) and its tokenizer, never from a hub.

    `ref`: a Hugging Face directory, a .gguf file, a rigorlab run directory or
    'smollm2' (rigorlab.budget.resolve_model_path). The tokenizer pads on the left.
    """
    directory, gguf = resolve_model_path(ref)
    kw: dict = {"local_files_only": True, **({"gguf_file": gguf} if gguf else {})}
    # the GGUF converter draws a plain tqdm bar on stderr (not transformers' switchable one): the
    # bar is swallowed, while errors still arrive as exceptions
    hush = contextlib.redirect_stderr(io.StringIO()) if gguf else contextlib.nullcontext()
    try:
        with quiet(), hush:
            tokenizer = AutoTokenizer.from_pretrained(directory, **kw)
            model = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, **kw)
    except ImportError as exc:
        raise UserError(f"cannot load {gguf or directory}: {str(exc).splitlines()[0]} "
                        "(GGUF files need `pip install gguf`)") from None
    except (OSError, ValueError, KeyError, struct.error) as exc:   # struct.error: a truncated/foreign GGUF
        raise UserError(f"cannot load the model {directory / (gguf or '')}: "
                        f"{(str(exc).splitlines() or [type(exc).__name__])[0]}") from None
    if gguf:
        dequantised(model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer


def dequantised(model: torch.nn.Module) -> torch.nn.Module:
    """A GGUF-loaded model as a plain float32 one: transformers keeps the GGUF quantizer attached
    (its weights are already dequantised), and refuses `save_pretrained` while it is there."""
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model, "quantization_method"):
        model.quantization_method = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return model


def enable_checkpointing(model: torch.nn.Module) -> None:
    """Recompute each block in the backward pass (policy.gradient_checkpointing): same gradients,
    activations of one block at a time. Non-reentrant, so frozen inputs (LoRA) need no workaround;
    training forwards build no KV cache (sampling asks for one explicitly)."""
    if not getattr(model, "supports_gradient_checkpointing", False):
        raise UserError(f"policy.gradient_checkpointing: {type(model).__name__} does not support it")
    kwargs = {"use_reentrant": False}
    if hasattr(model, "activation_checkpointing_enable"):     # the name since transformers 5.x
        model.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
    else:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
    model.config.use_cache = False


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
