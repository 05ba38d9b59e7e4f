"""Supervised pretraining of the embedded reference policy, cached by config hash.

Deterministic: the corpus, the initial weights and the batch order all come
from `pretrain.seed`. The result is a Hugging Face directory (model,
tokenizer, and `corpus.json` describing how the data were made) that any
later run reuses.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch

from rigorlab.config import PolicyConfig, TaskConfig, config_hash
from rigorlab.io import atomic_write_json
from rigorlab.policy.corpus import build_corpus
from rigorlab.policy.model import build_tiny_model, count_parameters
from rigorlab.policy.quiet import quiet
from rigorlab.policy.tokenizer import build_char_tokenizer
from rigorlab.tasks import build_task

CORPUS_VERSION = 1


def cache_root() -> Path:
    return Path(os.environ.get("RIGORLAB_CACHE", Path.home() / ".cache" / "rigorlab"))


def pretrain_key(task: TaskConfig, policy: PolicyConfig) -> str:
    return config_hash({"task": task.model_dump(mode="json"), "tiny": policy.tiny.model_dump(mode="json"),
                        "pretrain": policy.pretrain.model_dump(mode="json"), "v": CORPUS_VERSION})


def encode_examples(tokenizer, pairs: list[tuple[str, str]]) -> tuple[torch.Tensor, torch.Tensor]:
    """[BOS] prompt completion [EOS], right-padded; loss mask on completion + EOS tokens."""
    seqs, masks = [], []
    for prompt, completion in pairs:
        p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        c = tokenizer(completion, add_special_tokens=False)["input_ids"]
        seqs.append([tokenizer.bos_token_id] + p + c + [tokenizer.eos_token_id])
        masks.append([0] * (1 + len(p)) + [1] * (len(c) + 1))
    return pad_right(seqs, masks, tokenizer.pad_token_id)


def pad_right(seqs: list[list[int]], masks: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rows and their loss masks as right-padded (N, width) tensors."""
    width = max(map(len, seqs))
    ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
    loss_mask = torch.zeros((len(seqs), width))
    for i, (s, m) in enumerate(zip(seqs, masks)):
        ids[i, : len(s)] = torch.tensor(s)
        loss_mask[i, : len(m)] = torch.tensor(m, dtype=torch.float)
    return ids, loss_mask


def completion_nll(model, ids: torch.Tensor, loss_mask: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token NLL over the masked (completion + EOS) positions of a right-padded batch."""
    logits = model(input_ids=ids, attention_mask=attention_mask).logits[:, :-1]          # (B, L-1, V)
    nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1),
                                            reduction="none").view_as(loss_mask[:, 1:])
    return (nll * loss_mask[:, 1:]).sum() / loss_mask[:, 1:].sum()


def pretrain(task_cfg: TaskConfig, policy_cfg: PolicyConfig, out_dir: Path | None = None,
             progress: Callable[[int, int, float], None] | None = None, force: bool = False) -> Path:
    """Pretrain (or fetch from cache) the tiny reference for a task; returns its directory."""
    key = pretrain_key(task_cfg, policy_cfg)
    target = Path(out_dir) if out_dir else cache_root() / "pretrained" / f"{task_cfg.name}-{key}"
    if (target / "corpus.json").is_file() and not force:
        return target
    pc = policy_cfg.pretrain
    task = build_task(task_cfg.name, **task_cfg.params)
    tokenizer = build_char_tokenizer()
    corpus = build_corpus(task, pc.examples, pc.zipf, pc.error_rate, pc.seed)
    ids, loss_mask = encode_examples(tokenizer, corpus)
    if ids.shape[1] > policy_cfg.tiny.max_position_embeddings:
        from rigorlab.errors import UserError
        raise UserError(f"corpus sequences ({ids.shape[1]} tokens) exceed policy.tiny.max_position_embeddings")
    model = build_tiny_model(policy_cfg.tiny, tokenizer, pc.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=pc.learning_rate, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=pc.learning_rate, total_steps=pc.steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(pc.seed)
    attn = (ids != tokenizer.pad_token_id).long()
    model.train()
    t0, loss_val = time.perf_counter(), float("nan")
    for step in range(pc.steps):
        idx = torch.randint(0, ids.shape[0], (pc.batch_size,), generator=gen)
        x, m, a = ids[idx], loss_mask[idx], attn[idx]
        loss = completion_nll(model, x, m, a)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_val = loss.item()
        if progress:
            progress(step + 1, pc.steps, loss_val)
    model.eval()
    # write to a temporary sibling, then rename: a killed pretraining leaves no half cache entry
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    with quiet():
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    atomic_write_json(tmp / "corpus.json", {
        "generator": f"rigorlab.policy.corpus.build_corpus (version {CORPUS_VERSION})",
        "task": task.describe(), "params": pc.model_dump(mode="json"), "seed": pc.seed,
        "examples": len(corpus), "final_loss": loss_val, "parameters": count_parameters(model),
        "seconds": round(time.perf_counter() - t0, 2), "key": key,
        "sample": [{"prompt": p, "completion": c} for p, c in corpus[:5]],
    })
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target
