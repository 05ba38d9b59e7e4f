"""`rigorlab sample`: n completions per problem from any local model, verified and scored.

Rows are laid out problem-major (problem p's samples 0..n-1, then p+1's) and
cut into fixed batches; batch j is sampled with its own generator seeded from
(seed, j). A batch's result therefore depends only on the settings and j, so
the same command gives the same file on the CPU, and a rerun after a kill
redoes the missing batches bit for bit (records.complete_prefix).

The hf back end is rigorlab's own batched decoder with a KV cache
(policy/sampling.py: left-padded prefill, one cached forward per token, the
lean Llama forward where it supports the model). The vllm back end needs
vLLM and a GPU and is imported only when asked for.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from rigorlab.errors import UserError
from rigorlab.evaluate.problems import Problem
from rigorlab.evaluate.records import append_chunk, check_or_write_meta, complete_prefix
from rigorlab.evaluate.verify import Verdict


@dataclass(frozen=True)
class SampleSettings:
    """Everything that decides the samples (recorded beside the file, checked on resume)."""

    model: str
    tasks: str
    n: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    max_new_tokens: int = 256
    seed: int = 0
    batch_size: int = 32
    verifier: str = "math"
    instruction: str = ""
    backend: str = "hf"

    def check(self) -> None:
        for name in ("n", "max_new_tokens", "batch_size"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if not self.temperature > 0:
            raise UserError(f"--temperature must be > 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise UserError(f"--top-p must be in (0, 1], got {self.top_p}")
        if self.backend not in ("hf", "vllm"):
            raise UserError(f"--backend must be hf or vllm, not {self.backend!r}")


def chunk_seed(seed: int, chunk: int) -> int:
    """A 63-bit seed for batch `chunk`, independent of every other batch."""
    return int.from_bytes(hashlib.sha256(f"rigorlab/sample/{seed}/{chunk}".encode()).digest()[:8], "big") >> 1


def layout(n_problems: int, n: int, batch_size: int) -> list[list[tuple[int, int]]]:
    """Batches of (problem index, sample index), problem-major."""
    rows = [(p, s) for p in range(n_problems) for s in range(n)]
    return [rows[i:i + batch_size] for i in range(0, len(rows), batch_size)]


def prompt_text(tokenizer, problem: Problem, instruction: str) -> str:
    """The model's input: the chat template's user turn where the tokenizer has one, else plain text."""
    content = f"{problem.question}\n\n{instruction}" if instruction else problem.question
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                             add_generation_prompt=True)
    return content


def encode(tokenizer, texts: Sequence[str], chat: bool):
    """Left-padded ids and mask; BOS is prepended only for plain text (a chat template writes its own)."""
    import torch

    bos = [] if chat or tokenizer.bos_token_id is None else [tokenizer.bos_token_id]
    enc = [bos + ids for ids in tokenizer(list(texts), add_special_tokens=False)["input_ids"]]
    width = max(map(len, enc))
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    ids = torch.tensor([[pad] * (width - len(e)) + e for e in enc], dtype=torch.long)
    mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in enc], dtype=torch.long)
    return ids, mask


class HFBackend:
    """Batched KV-cache sampling of a transformers model on its device."""

    def __init__(self, model, tokenizer) -> None:
        self.model, self.tokenizer = model.eval(), tokenizer
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.chat = bool(getattr(tokenizer, "chat_template", None))

    def generate(self, prompts: list[str], settings: SampleSettings, seed: int) -> list[dict]:
        import torch

        from rigorlab.policy.sampling import forward_logprobs, gather_tokens, sample

        dev = next(self.model.parameters()).device
        ids, mask = encode(self.tokenizer, prompts, self.chat)
        ids, mask = ids.to(dev), mask.to(dev)
        gen = torch.Generator(device=dev).manual_seed(seed)
        same = len(set(prompts)) == 1
        ro = sample(self.model, self.tokenizer, ids, mask, settings.max_new_tokens, settings.temperature,
                    settings.top_p, gen, group_size=len(prompts) if same and len(prompts) > 1 else None)
        cmask = ro.completion_mask
        sampling_lp = (ro.sample_logp * cmask).sum(1)
        if settings.temperature == 1.0 and settings.top_p == 1.0:
            model_lp = sampling_lp
        else:
            with torch.inference_mode():
                full = forward_logprobs(self.model, ids, mask, ro.completion_ids, cmask, 1.0)
                model_lp = (gather_tokens(full, ro.completion_ids) * cmask).sum(1)
        eos = self.tokenizer.eos_token_id
        out = []
        for i in range(len(prompts)):
            k = int(cmask[i].sum().item())
            toks = ro.completion_ids[i, :k].tolist()
            stopped = bool(k) and toks[-1] == eos
            out.append(dict(completion=self.tokenizer.decode(toks, skip_special_tokens=True), tokens=k,
                            finish_reason="stop" if stopped else "length",
                            logprob=float(model_lp[i]), sampling_logprob=float(sampling_lp[i])))
        return out


class VLLMBackend:
    """vLLM on a GPU: the same layout and seeds, one request per row (imported only when used).

    Not exercised by the tests (no GPU here); `sampling_logprob` is not recorded (null).
    """

    def __init__(self, model_path: str) -> None:
        try:
            import torch
            from vllm import LLM
        except ImportError:
            raise UserError("--backend vllm needs vLLM (pip install vllm) and a GPU; it is not installed here, "
                            "use --backend hf") from None
        if not torch.cuda.is_available():
            raise UserError("--backend vllm needs a CUDA GPU and none is visible; use --backend hf")
        self.llm = LLM(model=model_path, seed=0)
        self.tokenizer = self.llm.get_tokenizer()
        self.chat = bool(getattr(self.tokenizer, "chat_template", None))

    def generate(self, prompts: list[str], settings: SampleSettings, seed: int) -> list[dict]:
        from vllm import SamplingParams

        params = [SamplingParams(temperature=settings.temperature, top_p=settings.top_p, seed=seed + i,
                                 max_tokens=settings.max_new_tokens, logprobs=0) for i in range(len(prompts))]
        # token ids, not text: the chat template already wrote any BOS, which vLLM would add again
        ids = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        outs = self.llm.generate([{"prompt_token_ids": x} for x in ids], params, use_tqdm=False)
        rows = []
        for o in outs:
            c = o.outputs[0]
            # vLLM reports log-probs of the raw model output (its default logprobs mode): the model's own
            rows.append(dict(completion=c.text, tokens=len(c.token_ids),
                             finish_reason="stop" if c.finish_reason == "stop" else "length",
                             logprob=float(c.cumulative_logprob), sampling_logprob=None))
        return rows


def run_sampling(backend, problems: list[Problem], settings: SampleSettings, out: Path,
                 verifier: Callable[[str, str], Verdict],
                 progress: Callable[[int, int, float], None] | None = None) -> list[dict]:
    """Sample, verify and append every missing batch of `out`; returns all records, in layout order."""
    settings.check()
    meta = asdict(settings) | {"problems": hashlib.sha256(
        "\n".join(f"{p.id}\t{p.answer}" for p in problems).encode()).hexdigest()[:16]}
    check_or_write_meta(out, meta)
    batches = layout(len(problems), settings.n, settings.batch_size)
    rows, done = complete_prefix(out, {j: len(b) for j, b in enumerate(batches)})
    texts = [prompt_text(backend.tokenizer, p, settings.instruction) for p in problems]
    total = sum(map(len, batches))
    finished = len(rows)
    t0 = time.perf_counter()
    fresh = 0
    for j, batch in enumerate(batches):
        if j in done:
            continue
        outs = backend.generate([texts[p] for p, _ in batch], settings, chunk_seed(settings.seed, j))
        chunk_rows = []
        for (p, s), o in zip(batch, outs):
            v = verifier(o["completion"], problems[p].answer)
            chunk_rows.append({"prompt_id": problems[p].id, "sample": s, "completion": o["completion"],
                               "answer": v.answer, "correct": v.correct, "reference": problems[p].answer,
                               "tokens": o["tokens"], "finish_reason": o["finish_reason"],
                               "logprob": o["logprob"], "sampling_logprob": o["sampling_logprob"], "chunk": j})
        append_chunk(out, chunk_rows)
        rows.extend(chunk_rows)
        finished += len(chunk_rows)
        fresh += len(chunk_rows)
        if progress:
            progress(finished, total, fresh / max(time.perf_counter() - t0, 1e-9))
    order = {(p.id, s): i for i, (p, s) in enumerate((problems[p], s) for b in batches for p, s in b)}
    return sorted(rows, key=lambda r: order[(r["prompt_id"], r["sample"])])


def summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Accuracy, mean tokens and the share cut at the length limit, for the command's last line."""
    n = len(rows)
    return {"samples": n, "accuracy": sum(r["correct"] for r in rows) / n,
            "mean_tokens": sum(r["tokens"] for r in rows) / n,
            "cut_at_length": sum(r["finish_reason"] == "length" for r in rows) / n}
