"""Build the embedded tiny causal LM, or load any local Hugging Face causal LM.

The tiny model is a Llama-architecture `transformers` model built from a
config (no download), so every tool that reads a HF directory reads it, and
a user's directory (`policy.model: PATH`) replaces it unchanged.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerBase

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


def load_pretrained(path: str | Path) -> tuple[torch.nn.Module, PreTrainedTokenizerBase]:
    """Load a causal LM and its tokenizer from a local directory (never from a hub)."""
    p = Path(path)
    if not p.is_dir():
        raise UserError(f"policy.model {str(path)!r} is neither 'tiny' nor a local model directory")
    if not (p / "config.json").is_file():
        raise UserError(f"policy.model directory {p} has no config.json (not a Hugging Face model directory)")
    try:
        with quiet():
            tokenizer = AutoTokenizer.from_pretrained(p, local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(p, local_files_only=True, dtype=torch.float32)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot load the model in {p}: {str(exc).splitlines()[0]}") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    return model, tokenizer


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
