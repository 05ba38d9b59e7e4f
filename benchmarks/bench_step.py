"""GRPO step throughput: rigorlab beside TRL's GRPOTrainer on the same tiny model.

Same weights (a freshly initialised ~340k-parameter Llama saved to a temporary
directory, so completions run the full 16 tokens), beta 0.04 with k3 in the
loss, 16 new tokens, one thread, two shapes: 8 prompts x 8 completions
(overhead-bound) and 32 x 8 (compute-bound).

Prints completions/s for both, the ratio, the share of rigorlab's step spent
outside model forward/backward, and rigorlab's achieved FLOP rate as a
fraction of this machine's single-thread fp32 matmul rate.

    python benchmarks/bench_step.py                 # rigorlab only (TRL column '-')
    /path/to/venv-with-trl/bin/python benchmarks/bench_step.py   # both, side by side
    ... bench_step.py --rounds 3      # median round and range over 3 alternating rounds

TRL is never a dependency of rigorlab; install it in a separate environment
(`python -m venv --system-site-packages V && V/bin/pip install trl`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import torch  # noqa: E402

torch.set_num_threads(1)

from rigorlab.config import TinyModelConfig, load_config  # noqa: E402
from rigorlab.policy.model import build_tiny_model, count_parameters  # noqa: E402
from rigorlab.policy.tokenizer import build_char_tokenizer  # noqa: E402

SHAPES = [(8, 8), (32, 8)]
NEW_TOKENS = 16


def make_model(dir_: Path) -> int:
    tok = build_char_tokenizer()
    model = build_tiny_model(TinyModelConfig(), tok, seed=0)
    model.save_pretrained(dir_)
    tok.save_pretrained(dir_)
    return count_parameters(model)


def fastest(fn, reps: int) -> float:
    """The fastest of `reps` timed calls of fn(), in seconds (the least disturbed by other work)."""
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_rate(n: int = 512, reps: int = 30) -> float:
    """Single-thread fp32 matmul FLOP/s on square n x n matrices (best of reps)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2 * n**3 / fastest(lambda: a @ b, reps)


class ForwardTimer:
    """Accumulates wall time inside model forward passes (policy and reference),
    whether they run through `model.forward` or rigorlab's lean Llama path."""

    def __init__(self, *pairs):
        """pairs: (model, its FastLlama or None), as the trainer owns them."""
        self.total = 0.0
        for m, fast in pairs:
            if fast is None:
                m.register_forward_pre_hook(self._pre)
                m.register_forward_hook(self._post)
            else:
                for name in ("forward", "forward_grouped", "prefill", "decode"):
                    setattr(fast, name, self._wrap(getattr(fast, name)))

    def _wrap(self, fn):
        def timed(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t
        return timed

    def _pre(self, *_):
        self._t = time.perf_counter()

    def _post(self, *_):
        self.total += time.perf_counter() - self._t


@contextlib.contextmanager
def warm_trainer(model_dir: Path, prompts: int, gens: int, steps: int, warmup: int):
    """rigorlab's GRPOTrainer in the benchmarked setting (beta 0.04, k3 in the loss, NEW_TOKENS new
    tokens, one thread), set up in a temporary run directory with `warmup` steps taken and room
    for `steps` more."""
    from rigorlab.rl.trainer import GRPOTrainer

    cfg = load_config(None, [f"policy.model={model_dir}", "grpo.beta=0.04", "grpo.kl.estimator=k3",
                             f"grpo.max_completion_length={NEW_TOKENS}", f"grpo.prompts_per_step={prompts}",
                             f"grpo.num_generations={gens}", f"grpo.steps={steps + warmup}", "threads=1"])
    with tempfile.TemporaryDirectory() as tmp:
        tr = GRPOTrainer(cfg, Path(tmp) / "run")
        tr.setup()
        for _ in range(warmup):
            tr.train_step()
        yield tr


def bench_rigorlab(model_dir: Path, prompts: int, gens: int, steps: int, warmup: int) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    with warm_trainer(model_dir, prompts, gens, steps + 1, warmup) as tr:
        with FlopCounterMode(display=False) as counter:
            tr.train_step()
        flops = counter.get_total_flops()
        timer = ForwardTimer((tr.policy, tr.fast), (tr.ref, tr.ref_fast))
        rows, t0, c0 = [], time.perf_counter(), time.process_time()
        for _ in range(steps):
            rows.append(tr.train_step())
        wall = (time.perf_counter() - t0) / steps
        cpu = (time.process_time() - c0) / steps
    model_time = (timer.total + sum(r["time/backward"] for r in rows)) / steps
    tokens = sum(r["completions/mean_length"] for r in rows) / steps
    return {"completions_per_s": prompts * gens / wall, "step_s": wall, "outside_model_share": 1 - model_time / wall,
            "completions_per_cpu_s": prompts * gens / cpu, "cpu_s": cpu,
            "flops_per_step": flops, "flop_rate": flops / wall, "flop_rate_cpu": flops / cpu, "mean_tokens": tokens,
            "generation_s": sum(r["time/generation"] for r in rows) / steps}


def bench_trl(model_dir: Path, prompts: int, gens: int, steps: int, warmup: int) -> dict | None:
    try:
        from datasets import Dataset
        from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
        from trl import GRPOConfig, GRPOTrainer
    except ImportError:
        return None
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    total = steps + warmup
    data = Dataset.from_dict({"prompt": [f"S={3 + i % 13}:" for i in range(prompts * total)]})

    def reward(prompts, completions, **kw):
        out = []
        for p, c in zip(prompts, completions):
            n = int(p[2:-1])
            c = c.strip()
            ok = len(c) == 3 and c[1] == "+" and c[0].isdigit() and c[2].isdigit() and int(c[0]) + int(c[2]) == n
            out.append(float(ok))
        return out

    class Clock(TrainerCallback):
        def __init__(self):
            self.ends = []

        def on_step_end(self, args, state, control, **kw):
            self.ends.append((time.perf_counter(), time.process_time()))

    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        args = GRPOConfig(output_dir=tmp, per_device_train_batch_size=prompts * gens, num_generations=gens,
                          max_completion_length=NEW_TOKENS, beta=0.04, loss_type="grpo", learning_rate=5e-4,
                          max_steps=total, logging_steps=10_000, save_strategy="no", report_to="none",
                          use_cpu=True, bf16=False, temperature=1.0, dataloader_num_workers=0, seed=0,
                          disable_tqdm=True)
        trainer = GRPOTrainer(model=model, processing_class=tok, reward_funcs=reward, args=args,
                              train_dataset=data, callbacks=[clock])
        with contextlib.redirect_stdout(io.StringIO()):      # TRL prints its final log dict
            trainer.train()
    if len(clock.ends) < warmup + 2:
        return None
    n = len(clock.ends) - warmup
    per_step = (clock.ends[-1][0] - clock.ends[warmup - 1][0]) / n
    per_cpu = (clock.ends[-1][1] - clock.ends[warmup - 1][1]) / n
    return {"completions_per_s": prompts * gens / per_step, "step_s": per_step,
            "completions_per_cpu_s": prompts * gens / per_cpu, "cpu_s": per_cpu}


def _row(shape: str, target: float, r: dict, t: dict | None, peak: float) -> str:
    ours = f"{r['completions_per_cpu_s']:.0f} ({r['completions_per_s']:.0f})"
    trl_cps = f"{t['completions_per_cpu_s']:.0f} ({t['completions_per_s']:.0f})" if t else "-"
    ratio = f"{r['completions_per_cpu_s'] / t['completions_per_cpu_s']:.2f}x" if t else "-"
    return (f"{shape:>8} {ours:>19} {trl_cps:>15} {ratio:>7} {f'>={target}x':>7} "
            f"{r['outside_model_share']:>14.1%} {r['flop_rate_cpu'] / peak:>17.1%} "
            f"{r['generation_s'] / r['step_s']:>10.1%}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each shape this many times, rigorlab and TRL alternating, and print the "
                         "median round and the range (the machine's noise, in one command)")
    args = ap.parse_args()
    if min(args.steps, args.rounds) < 1 or args.warmup < 0:
        ap.error("--steps and --rounds must be at least 1 and --warmup at least 0")
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "tiny"
        params = make_model(model_dir)
        peak = matmul_rate()
        print(f"model: Llama, {params:,} parameters; {NEW_TOKENS} new tokens; 1 thread; "
              f"single-thread fp32 matmul rate {peak / 1e9:.1f} GFLOP/s (512x512; the FLOP rate column "
              "divides by the best of this and a re-measurement after each shape)")
        print("c/s = completions per second of process CPU time (one thread, so CPU time = compute time;"
              " robust when other jobs share the machine); wall-clock c/s in brackets")
        head = f"{'shape':>8} {'rigorlab c/s':>19} {'TRL c/s':>15} {'ratio':>7} {'target':>7} " \
               f"{'outside model':>14} {'FLOP rate/matmul':>17} {'gen share':>10}"
        print(head)
        for (p, g), target in zip(SHAPES, (3.0, 1.5)):
            rounds = [(bench_rigorlab(model_dir, p, g, args.steps, args.warmup),
                       bench_trl(model_dir, p, g, args.steps, args.warmup)) for _ in range(args.rounds)]
            if not all(t for _, t in rounds):                  # TRL absent (or it failed in a round)
                rounds = [(r, None) for r, _ in rounds]
            key = (lambda rt: rt[0]["completions_per_cpu_s"] / rt[1]["completions_per_cpu_s"]) if rounds[0][1] \
                else (lambda rt: rt[0]["completions_per_cpu_s"])
            rounds.sort(key=key)
            r, t = rounds[len(rounds) // 2]
            peak = max(peak, matmul_rate())          # the machine's best, re-measured beside each shape
            print(_row(f"{p}x{g}", target, r, t, peak), flush=True)
            if args.rounds > 1:
                flop = sorted(x["flop_rate_cpu"] / peak for x, _ in rounds)
                lo, hi = key(rounds[0]), key(rounds[-1])
                spread = f"ratio {lo:.2f}-{hi:.2f}x" if rounds[0][1] else f"rigorlab {lo:.0f}-{hi:.0f} c/s"
                print(f"{'':>8} median of {args.rounds} rounds; range: {spread}, "
                      f"FLOP rate/matmul {flop[0]:.1%}-{flop[-1]:.1%}", flush=True)
        if "trl" not in sys.modules:
            print("(TRL not importable in this environment: run this script with a Python that has trl installed)")


if __name__ == "__main__":
    main()
