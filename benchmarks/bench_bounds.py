"""How fast could a GRPO step of eager PyTorch operators be? A floor beside the step's real time.

`bench_step.py` sets targets relative to TRL; this script asks whether a target
is reachable at all by the operators a step runs. It records every ATen
operator of one real rigorlab step (sampling, reference forward, training
forward and backward, optimiser; below autograd, so backward kernels count
too), then replays each distinct call (same operator, shapes, strides, dtypes
and arguments, fresh inputs) alone on warm data in inference mode and keeps
its fastest time. The sum over the step's calls is a floor: it leaves out
cache misses between operators, autograd's bookkeeping and all Python code
outside the operators, so no eager execution of this operator sequence can
be faster. Printed per shape, with the budget that 3x (8 x 8) or 1.5x (32 x 8)
TRL leaves when TRL is importable:

    python benchmarks/bench_bounds.py
    /path/to/venv-with-trl/bin/python benchmarks/bench_bounds.py

Columns: the real step (median CPU ms); the floor (every operator call, each
as fast as it runs alone); the same without the cost of issuing a call (the
fastest call of all, a view of one element, subtracted from each: what the
kernels alone need); the matrix products alone; the number of calls of each
kind; TRL's step and the budget the target leaves.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench_step import SHAPES, bench_trl, fastest, make_model, warm_trainer  # also pins one thread

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_unflatten

MATMULS = {"mm", "addmm", "bmm", "baddbmm", "matmul", "linear"}


def _describe(x):
    if isinstance(x, torch.Tensor):
        return ("T", tuple(x.shape), tuple(x.stride()), x.dtype, x.storage_offset())
    if isinstance(x, torch.Generator):
        return ("G",)
    return x


class Recorder(TorchDispatchMode):
    """Counts each distinct operator call of a region: (op, described args) -> calls."""

    def __init__(self):
        super().__init__()
        self.calls: Counter = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        flat, spec = tree_flatten((args, kwargs))
        self.calls[(func, tuple(_describe(a) for a in flat), spec)] += 1
        return func(*args, **kwargs)


def _make(desc, gen: torch.Generator):
    if not (isinstance(desc, tuple) and desc and desc[0] in ("T", "G")):
        return desc
    if desc[0] == "G":
        return gen
    _, shape, stride, dtype, offset = desc
    size = offset + 1 + sum((n - 1) * s for n, s in zip(shape, stride) if n > 0)
    if dtype.is_floating_point or dtype.is_complex:
        base = torch.rand(size, dtype=dtype, generator=gen) + 0.5      # no zeros: logs, rsqrt stay finite
    else:
        base = torch.zeros(size, dtype=dtype)                          # masks off, indices valid
    return base.as_strided(shape, stride, offset)


def _replay_seconds(func, flat_desc, spec, reps: int) -> float | None:
    """Fastest of `reps` calls of func on fresh inputs of the recorded layout, or None if it
    cannot be replayed out of context (e.g. an operator that checks its inputs' values)."""
    gen = torch.Generator().manual_seed(0)
    try:
        args, kwargs = tree_unflatten([_make(d, gen) for d in flat_desc], spec)
        with torch.inference_mode():
            func(*args, **kwargs)
            return fastest(lambda: func(*args, **kwargs), reps)
    except Exception:                                                   # noqa: BLE001 - counted as unreplayable
        return None


def _null_call_seconds(reps: int = 2000) -> float:
    """The fastest a single operator call from Python can be here (a view of a 1-element tensor)."""
    x = torch.zeros(1)
    op = torch.ops.aten.alias.default
    with torch.inference_mode():
        return fastest(lambda: op(x), reps)


def bound(model_dir: Path, prompts: int, gens: int, steps: int, reps: int) -> dict:
    with warm_trainer(model_dir, prompts, gens, steps + 1, warmup=3) as tr:
        real = []
        for _ in range(steps):
            c = time.process_time()
            tr.train_step()
            real.append(time.process_time() - c)
        rec = Recorder()
        with rec:
            tr.train_step()
    out = {"real_s": statistics.median(real), "matmul_s": 0.0, "other_s": 0.0, "view_s": 0.0,
           "matmul_calls": 0, "other_calls": 0, "view_calls": 0, "unreplayed_calls": 0}
    for (func, flat_desc, spec), n in rec.calls.items():
        name = func.overloadpacket.__name__
        kind = ("matmul" if name in MATMULS
                else "view" if func.is_view or name in ("view", "_unsafe_view", "alias", "detach") else "other")
        t = _replay_seconds(func, flat_desc, spec, reps)
        if t is None:
            out["unreplayed_calls"] += n
            continue
        out[f"{kind}_s"] += n * t
        out[f"{kind}_calls"] += n
    out["floor_s"] = out["matmul_s"] + out["other_s"] + out["view_s"]
    out["calls"] = out["matmul_calls"] + out["other_calls"] + out["view_calls"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=7, help="real steps timed per shape (median)")
    ap.add_argument("--reps", type=int, default=15, help="replays per distinct operator call (fastest kept)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "tiny"
        make_model(model_dir)
        null = _null_call_seconds()
        print(f"one thread; the fastest operator call from Python here: {null * 1e6:.2f} us")
        print(f"{'shape':>6} {'real ms':>8} {'floor ms':>9} {'kernels ms':>11} {'matmul ms':>10} "
              f"{'calls (matmul/other/view)':>26} {'unreplayed':>10} {'target':>7} {'TRL ms':>7} {'budget ms':>10}")
        for (p, g), target in zip(SHAPES, (3.0, 1.5)):
            b = bound(model_dir, p, g, args.steps, args.reps)
            t = bench_trl(model_dir, p, g, 5, 3)
            trl_ms = f"{t['cpu_s'] * 1e3:.0f}" if t else "-"
            budget = f"{t['cpu_s'] * 1e3 / target:.0f}" if t else "-"
            calls = f"{b['matmul_calls']}/{b['other_calls']}/{b['view_calls']}"
            kernels = b["floor_s"] - b["calls"] * null
            print(f"{p}x{g:<4} {b['real_s'] * 1e3:>8.1f} {b['floor_s'] * 1e3:>9.1f} {kernels * 1e3:>11.1f} "
                  f"{b['matmul_s'] * 1e3:>10.1f} {calls:>26} {b['unreplayed_calls']:>10} "
                  f"{f'{target}x':>7} {trl_ms:>7} {budget:>10}", flush=True)


if __name__ == "__main__":
    main()
