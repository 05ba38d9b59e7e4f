"""LoRA adapters on the policy (peft), and the reference as the same weights with the adapters off.

peft leaves the base weights untouched and `disable_adapter()` skips every
adapter, so a LoRA run's reference policy is the base model itself: no second
copy of the weights, and log-probs exactly the base model's
(tests/test_lora.py). The trainer calls the model peft injected the adapters
into (`PeftModel.get_base_model()`: the adapters are active there), keeps the
`PeftModel` for the switch and for saving, and hands `AdapterFree` to
everything that scores or samples the reference.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from pathlib import Path
from typing import Any, Iterator

import torch

from rigorlab.config import LoraConfig, PolicyConfig
from rigorlab.errors import UserError
from rigorlab.policy.model import enable_checkpointing
from rigorlab.policy.quiet import quiet


def policy_and_reference(model: torch.nn.Module, cfg: PolicyConfig, seed: int) -> tuple[torch.nn.Module, Any, Any]:
    """(policy, reference, PeftModel or None) from the loaded `model`, as `cfg` asks.

    Full fine-tuning trains `model` against a frozen copy (a copy, not a second load: a GGUF takes
    seconds to dequantise); LoRA trains adapters injected into `model` against its own base weights.
    Gradient checkpointing is switched on for the policy only.
    """
    ref = copy.deepcopy(model).eval().requires_grad_(False) if cfg.lora is None else None
    if cfg.gradient_checkpointing:
        enable_checkpointing(model)
    if cfg.lora is None:
        return model, ref, None
    peft = add_lora(model, cfg.lora, seed)
    return peft.get_base_model(), AdapterFree(peft), peft


def add_lora(model: torch.nn.Module, cfg: LoraConfig, seed: int) -> Any:
    """`model` with LoRA adapters injected (a peft PeftModel); only the adapters require grad.

    The adapters' initial A matrices are drawn from `seed` without touching the global RNG.
    """
    from peft import LoraConfig as PeftLoraConfig, get_peft_model

    spec = PeftLoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout,
                          target_modules=list(cfg.target_modules), bias="none", task_type="CAUSAL_LM")
    with torch.random.fork_rng(devices=[]), warnings.catch_warnings():
        torch.manual_seed(seed)
        # peft asks transformers 5 for `is_gradient_checkpointing`, a name it deprecates: not the user's business
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        try:
            with quiet():
                return get_peft_model(model, spec)
        except ValueError as exc:   # e.g. "Target modules {'qkv'} not found in the base model"
            raise UserError(f"policy.lora.target_modules {list(cfg.target_modules)}: "
                            f"{str(exc).splitlines()[0]}") from None


class AdapterFree:
    """The base model under a PeftModel, called with every adapter disabled.

    Offers what the samplers and scorers use of a causal LM (call, `config`,
    `parameters`, `eval`/`train`); it owns no weights, so `requires_grad_` and
    optimisers never see it. The `cache` argument of the forward is passed on
    under whichever name this transformers version takes.
    """

    def __init__(self, peft_model: Any) -> None:
        self.peft = peft_model
        self.base = peft_model.get_base_model()
        self.config = self.base.config
        params = inspect.signature(type(self.base).forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"

    def forward(self, *args: Any, cache: Any = None, **kwargs: Any) -> Any:
        if cache is not None:
            kwargs[self._cache_kw] = cache
        with self.peft.disable_adapter():
            return self.base(*args, **kwargs)

    __call__ = forward

    def parameters(self) -> Iterator[torch.nn.Parameter]:
        return self.base.parameters()

    def eval(self) -> "AdapterFree":
        self.base.eval()
        return self

    def train(self, mode: bool = True) -> "AdapterFree":
        self.base.train(mode)
        return self


def trainable_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_lora_model(peft_model: Any, tokenizer: Any, out: Path, base_source: str) -> Path:
    """model/ with the adapters merged into a copy of the weights (a plain transformers model), and
    model/adapter/ with the adapters alone (peft's format; `base_source` names the base they need).

    The policy itself stays unmerged: merging in place and back would round the base weights, and
    the reference (the base weights) is still evaluated after the save.
    """
    merged = copy.deepcopy(peft_model).merge_and_unload()
    with quiet():
        merged.save_pretrained(out)
        tokenizer.save_pretrained(out)
        spec = peft_model.peft_config["default"]
        old, spec.base_model_name_or_path = spec.base_model_name_or_path, base_source
        try:
            peft_model.save_pretrained(out / "adapter", save_embedding_layers=False)   # the vocabulary never changes
        finally:
            spec.base_model_name_or_path = old
    return out
