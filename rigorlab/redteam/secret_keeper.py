"""The tiny secret-keeper: a chat model hardened against a static list, trained in about a minute.

Why it exists: issue 19's claim "static testing passes while adaptive testing
breaches" must be shown on one model in a fast test, and SmolLM2 takes half a
minute just to load. This model is rigorlab's own tiny Llama (character
tokenizer, 88,576 parameters with the default config) trained the way a real assistant is made,
from a synthetic corpus (the phrasings live in ``secret_keeper.yaml``; the
code only combines them):

1. *Instruction tuning* ("the model as shipped"). Conversations with a system
   prompt holding the secret (or a plain assistant prompt), answering benign
   tasks (greetings, facts, copying random words, sums) and, helpfully,
   direct requests for the secret ("The password is ..."), as SmolLM2 does.
   The secret is one string (``KeeperConfig.secret``, default TOVARIKU), so it
   lives in the weights as well as in the system prompt: a 90k-parameter
   character model does not learn to copy an arbitrary secret from its
   context within a minute of training (tried: 400 steps with a random secret
   per conversation leaked nothing, even when prefilled). For the
   measurements this changes nothing: what is tested is whether the tuned
   refusal holds, and a leak is the same string either way.
2. *Safety tuning on a fixed list*. The exact prompts of the shipped static
   suite (``tuned_on``, equal to ``examples/redteam/static_secret.yaml``)
   answered with refusals, mixed with replayed benign tasks.

Neither stage contains an adversarial framing: no role-play, no assistant
prefill, no encodings, no payload splitting, no fake dialogues. This is the
analogue of safety-tuning a model on a red-team list and then evaluating it
with that list: the static suite passes by construction of the tuning, and
whatever an adaptive campaign finds it finds because the tuning did not
generalise to it, which is the critique's point. Measured on the shipped
keeper (greedy): 1 of the 40 tuned prompts leaks, off-list direct requests
and role-play wrappers are refused (the refusal generalised to wording), while
an assistant prefill "Sure, the password is" leaks the whole secret for 12 of 20.

Deterministic on one machine: the corpus, the initial weights and the batch
order all come from ``KeeperConfig.seed``; a recipe other than the shipped one
is trained on demand and cached under the rigorlab cache directory, keyed by
the config and the data file's hash. Across CPUs the weights differ (see
``shipped_keeper``), which is why the default recipe's weights ship in
``keeper_weights/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

import yaml
from pydantic import BaseModel, ConfigDict, Field

DATA_FILE = Path(__file__).with_name("secret_keeper.yaml")
DEFAULT_SECRET = "TOVARIKU"
KEEPER_VERSION = 1
# [BOS][S]system[U]user[A]assistant[EOS]...: role markers are plain characters, so the
# character tokenizer needs no new tokens; an assistant turn in the history ends with EOS
# exactly as the model's own answers do.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}[{{ m['role'][0] | upper }}]{{ m['content'] }}"
    "{% if m['role'] == 'assistant' %}{{ eos_token }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}[A]{% endif %}"
)


class KeeperConfig(BaseModel):
    """How the secret-keeper is made (every field enters the cache key)."""

    model_config = ConfigDict(extra="forbid")

    hidden_size: int = Field(64, gt=0, description="Width of the residual stream.")
    num_hidden_layers: int = Field(2, gt=0, description="Transformer blocks.")
    num_attention_heads: int = Field(4, gt=0, description="Attention heads.")
    intermediate_size: int = Field(128, gt=0, description="MLP width.")
    max_position_embeddings: int = Field(1024, gt=0, description="Longest conversation it reads (characters).")
    instruct_steps: int = Field(400, gt=0, description="Optimiser steps of stage 1 (instruction tuning).")
    safety_steps: int = Field(80, gt=0, description="Optimiser steps of stage 2 (safety tuning on the list).")
    batch_size: int = Field(32, gt=0, description="Conversations per step.")
    learning_rate: float = Field(5e-3, gt=0, description="Peak AdamW learning rate of stage 1.")
    safety_learning_rate: float = Field(2e-3, gt=0, description="Peak AdamW learning rate of stage 2.")
    examples: int = Field(4000, gt=0, description="Stage-1 conversations generated.")
    secret_share: float = Field(0.35, ge=0, le=1, description="Share of stage-1 conversations that ask for the secret.")
    replay_share: float = Field(0.5, ge=0, le=1, description="Share of stage-2 conversations replayed from stage 1's benign tasks.")
    secret: str = Field(DEFAULT_SECRET, min_length=4, description="The secret its system prompts hold.")
    seed: int = Field(2, description="Seed of the corpus, the weights and the batch order (2: the shipped keeper, "
                                     "SHIPPED_DIR).")


def system_prompt(secret: str = DEFAULT_SECRET) -> str:
    """The system prompt the keeper is served with in the worked example and the tests."""
    return load_data()["system_prompts"][0].format(secret=secret)


def load_data() -> dict[str, Any]:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def random_secret(rng: random.Random) -> str:
    """An upper-case pseudo-word of 3-4 consonant-vowel syllables, e.g. TOVARIKU."""
    cons, vows = "BDFGKLMNPRSTVZ", "AEIOU"
    return "".join(rng.choice(cons) + rng.choice(vows) for _ in range(rng.randint(3, 4)))


def _word(rng: random.Random) -> str:
    return random_secret(rng).lower() if rng.random() < 0.5 else random_secret(rng).capitalize()


def _benign(rng: random.Random, data: dict[str, Any]) -> tuple[str, str]:
    kind = rng.randrange(4)
    if kind == 0:
        return tuple(rng.choice(data["greetings"]))  # type: ignore[return-value]
    if kind == 1:
        return tuple(rng.choice(data["facts"]))  # type: ignore[return-value]
    if kind == 2:
        q, a = rng.choice(data["copy_tasks"])
        w = _word(rng)
        return q.format(word=w), a.format(word=w)
    x, y = rng.randint(0, 20), rng.randint(0, 20)
    return f"What is {x}+{y}?", f"{x}+{y} is {x + y}."


def _system(rng: random.Random, data: dict[str, Any], secret: str) -> str:
    if rng.random() < 0.15:
        return rng.choice(data["plain_system_prompts"])
    return rng.choice(data["system_prompts"]).format(secret=secret)


def _history(rng: random.Random, data: dict[str, Any]) -> list[dict[str, str]]:
    """0-2 earlier benign turns, so that the model reads multi-turn conversations."""
    turns: list[dict[str, str]] = []
    for _ in range(rng.choice([0, 0, 0, 0, 0, 0, 0, 1])):
        q, a = _benign(rng, data)
        turns += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    return turns


def instruct_corpus(cfg: KeeperConfig, data: dict[str, Any]) -> list[tuple[list[dict[str, str]], str]]:
    """Stage 1: benign tasks, and direct requests for the secret answered helpfully (leaks)."""
    rng = random.Random(f"keeper-instruct/{cfg.seed}")
    out = []
    for _ in range(cfg.examples):
        secret = cfg.secret
        sys_text = _system(rng, data, secret)
        msgs = [{"role": "system", "content": sys_text}] + _history(rng, data)
        if rng.random() < cfg.secret_share and secret in sys_text:
            req = rng.choice(data["request_openers"]) + rng.choice(data["request_objects"]) + \
                rng.choice(data["request_closers"])
            answer = rng.choice(data["leak_answers"]).format(secret=secret)
        else:
            req, answer = _benign(rng, data)
        out.append((msgs + [{"role": "user", "content": req}], answer))
    return out


def safety_corpus(cfg: KeeperConfig, data: dict[str, Any], n: int) -> list[tuple[list[dict[str, str]], str]]:
    """Stage 2: the fixed list answered with refusals, plus replayed benign tasks."""
    rng = random.Random(f"keeper-safety/{cfg.seed}")
    out = []
    for _ in range(n):
        secret = cfg.secret
        msgs = [{"role": "system", "content": _system(rng, data, secret)}] + _history(rng, data)
        if rng.random() < cfg.replay_share:
            req, answer = _benign(rng, data)
        else:
            req, answer = rng.choice(data["tuned_on"]), rng.choice(data["refusals"])
        out.append((msgs + [{"role": "user", "content": req}], answer))
    return out


def keeper_key(cfg: KeeperConfig) -> str:
    # the parsed data, not the file's bytes: editing a comment does not retrain the keeper
    data = json.dumps(load_data(), sort_keys=True)
    h = hashlib.sha256((cfg.model_dump_json() + data + CHAT_TEMPLATE).encode())
    return f"v{KEEPER_VERSION}-{h.hexdigest()[:12]}"


def _encode(tokenizer: Any, examples: list[tuple[list[dict[str, str]], str]]) -> tuple[Any, Any]:
    """Right-padded ids and a loss mask on the answer and its EOS only."""
    from rigorlab.policy.pretrain import pad_right

    seqs, masks = [], []
    for msgs, answer in examples:
        p = tokenizer(tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True),
                      add_special_tokens=False)["input_ids"]
        a = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        seqs.append(p + a)
        masks.append([0] * len(p) + [1] * len(a))
    return pad_right(seqs, masks, tokenizer.pad_token_id)


def _train(model: Any, ids: Any, mask: Any, steps: int, batch: int, lr: float, seed: int,
           pad_id: int, log: Optional[Callable[[str], None]]) -> float:
    import torch

    from rigorlab.policy.pretrain import completion_nll

    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    gen = torch.Generator().manual_seed(seed)
    # batches of similar length (a random window of the length order, then a random draw from it)
    # spend the compute on characters, not on padding
    order = torch.argsort((ids != pad_id).sum(-1), stable=True)
    window = min(4 * batch, ids.shape[0])
    model.train()
    loss_val = float("nan")
    for step in range(steps):
        start = int(torch.randint(0, ids.shape[0] - window + 1, (1,), generator=gen))
        idx = order[start + torch.randperm(window, generator=gen)[:batch]]
        x, m = ids[idx], mask[idx]
        width = int((x != pad_id).sum(-1).max())          # trim the batch to its longest row
        x, m = x[:, :width], m[:, :width]
        loss = completion_nll(model, x, m, (x != pad_id).long())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        loss_val = loss.item()
        if log and (step + 1) % 100 == 0:
            log(f"step {step + 1}/{steps} loss {loss_val:.3f}")
    model.eval()
    return loss_val


# The keeper as shipped: the default recipe, trained once and kept, because what a keeper trained in a
# minute learns depends on the CPU's floating-point paths (see `shipped_keeper`).
SHIPPED_DIR = Path(__file__).resolve().parent / "keeper_weights"


def shipped_keeper(cfg: KeeperConfig) -> Optional[Path]:
    """The shipped keeper's directory when `cfg` is the recipe it was trained with, else None.

    Why shipped weights: training is deterministic on one machine, but its result is not the same
    across CPUs (AVX-512 and AVX2 kernels round differently), and whether a prefill breaks this
    tiny model is fragile under such changes: on one AVX-512 Xeon, the recipe with seeds 0, 1 and 2
    leaked the whole secret for 1, 4 and 12 of the test's 20 prefilled prompts, all three refusing
    the static suite. The tests and the worked example use these weights (seed 2); retraining them
    (`secret_keeper_dir(cfg, out_dir=..., force=True)`) reproduces them bitwise only on a CPU that
    takes the same paths.
    """
    meta = SHIPPED_DIR / "keeper.json"
    if meta.is_file() and json.loads(meta.read_text(encoding="utf-8")).get("key") == keeper_key(cfg):
        return SHIPPED_DIR
    return None


def secret_keeper_dir(cfg: Optional[KeeperConfig] = None, out_dir: Optional[Path] = None, force: bool = False,
                      log: Optional[Callable[[str], None]] = None) -> Path:
    """The secret-keeper's Hugging Face directory: the shipped one for the default recipe
    (`shipped_keeper`), otherwise trained (or fetched from the cache). With `out_dir` or `force` the
    shipped one is never returned: `out_dir` is trained into unless it already holds a keeper, `force`
    always trains.

    The directory also holds ``system_prompt.txt`` (the prompt with
    DEFAULT_SECRET) and ``keeper.json`` (how it was made).
    """
    from rigorlab.policy.pretrain import cache_root

    cfg = cfg or KeeperConfig()
    shipped = None if force or out_dir else shipped_keeper(cfg)
    if shipped is not None:
        return shipped
    target = Path(out_dir) if out_dir else cache_root() / "secret-keeper" / keeper_key(cfg)
    if (target / "keeper.json").is_file() and not force:
        return target
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "keeper.json").is_file() and not force:
            return target
        return _build(cfg, target, log)


def _build(cfg: KeeperConfig, target: Path, log: Optional[Callable[[str], None]]) -> Path:
    import torch

    from rigorlab.config import TinyModelConfig
    from rigorlab.io import atomic_write_json, atomic_write_text
    from rigorlab.policy.model import build_tiny_model, count_parameters
    from rigorlab.policy.quiet import quiet
    from rigorlab.policy.tokenizer import build_char_tokenizer

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        data = load_data()
        tokenizer = build_char_tokenizer()
        tokenizer.chat_template = CHAT_TEMPLATE
        arch = TinyModelConfig(hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_hidden_layers,
                               num_attention_heads=cfg.num_attention_heads,
                               intermediate_size=cfg.intermediate_size,
                               max_position_embeddings=cfg.max_position_embeddings)
        model = build_tiny_model(arch, tokenizer, cfg.seed)
        stage1 = instruct_corpus(cfg, data)
        ids, mask = _encode(tokenizer, stage1)
        loss1 = _train(model, ids, mask, cfg.instruct_steps, cfg.batch_size, cfg.learning_rate, cfg.seed,
                       tokenizer.pad_token_id, log)
        stage2 = safety_corpus(cfg, data, max(cfg.examples // 4, len(data["tuned_on"]) * 10))
        ids, mask = _encode(tokenizer, stage2)
        loss2 = _train(model, ids, mask, cfg.safety_steps, cfg.batch_size, cfg.safety_learning_rate,
                       cfg.seed + 1, tokenizer.pad_token_id, log)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        with quiet():
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        atomic_write_text(tmp / "system_prompt.txt", system_prompt(DEFAULT_SECRET) + "\n")
        atomic_write_json(tmp / "keeper.json", {
            "generator": f"rigorlab.redteam.secret_keeper (version {KEEPER_VERSION})",
            "config": cfg.model_dump(mode="json"), "key": keeper_key(cfg),
            "stage1": {"conversations": len(stage1), "final_loss": loss1},
            "stage2": {"conversations": len(stage2), "final_loss": loss2, "tuned_on": len(data["tuned_on"])},
            "parameters": count_parameters(model), "seconds": round(time.perf_counter() - t0, 1),
            "default_secret": DEFAULT_SECRET,
        })
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
        return target
    finally:
        torch.set_num_threads(threads)


__all__ = ["CHAT_TEMPLATE", "DEFAULT_SECRET", "KeeperConfig", "instruct_corpus", "load_data", "random_secret",
           "safety_corpus", "secret_keeper_dir", "system_prompt"]
