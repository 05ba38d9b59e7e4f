"""`rigorlab sample` on SmolLM2-135M-Instruct (CPU, one thread) against one `model.generate` per reply.

Both sides sample the built-in arithmetic problems with the same model object,
temperature 1, no top-p, and the same --max-new-tokens budget. rigorlab's
side is the command's own code path (batched KV-cache decoding, the lean Llama
forward, verification and the resumable writer); the reference calls
`model.generate(do_sample=True)` once per reply, unbatched. The figures are
samples/s and generated tokens/s, by wall clock and by this process's CPU
time (on a shared machine the wall clock measures the neighbours too; with
one thread, CPU time is the cost of the work itself), and their ratios.

Where `llama-cpp-python` is importable, llama.cpp on the same GGUF file is a
third row (one reply at a time, one thread), and the log-probabilities of a
few rigorlab completions are re-scored by llama.cpp for agreement.

    python benchmarks/bench_sample.py --problems 2 --n 32 --ref-replies 6 --max-new-tokens 96
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t0) -> tuple[float, float]:
    w, c = _clock()
    return w - t0[0], c - t0[1]


def bench_rigorlab(local, problems, n: int, max_new: int, batch: int, instruction: str) -> dict:
    from rigorlab.evaluate.sample import HFBackend, SampleSettings, run_sampling
    from rigorlab.evaluate.verify import get_verifier

    settings = SampleSettings(model="smollm2", tasks="arithmetic", n=n, max_new_tokens=max_new, batch_size=batch,
                              instruction=instruction, verifier="math")
    with tempfile.TemporaryDirectory() as d:
        t0 = _clock()
        rows = run_sampling(HFBackend(local.model, local.tokenizer), problems, settings, Path(d) / "s.jsonl",
                            get_verifier("math"))
        wall, cpu = _since(t0)
    return {"replies": len(rows), "tokens": sum(r["tokens"] for r in rows), "wall": wall, "cpu": cpu, "rows": rows}


def bench_generate(local, problems, replies: int, max_new: int, instruction: str) -> dict:
    import torch

    from rigorlab.evaluate.sample import encode, prompt_text

    tok, model = local.tokenizer, local.model
    texts = [prompt_text(tok, problems[i % len(problems)], instruction) for i in range(replies)]
    torch.manual_seed(0)
    tokens = 0
    t0 = _clock()
    for text in texts:
        ids, mask = encode(tok, [text], chat=True)
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0, top_p=1.0,
                                 top_k=0, max_new_tokens=max_new, pad_token_id=tok.pad_token_id,
                                 eos_token_id=tok.eos_token_id)
        new = out[0, ids.shape[1]:].tolist()
        tokens += new.index(tok.eos_token_id) + 1 if tok.eos_token_id in new else len(new)
    wall, cpu = _since(t0)
    return {"replies": replies, "tokens": tokens, "wall": wall, "cpu": cpu}


def bench_llama_cpp(gguf: Path, local, problems, replies: int, max_new: int, instruction: str, rows: list[dict]):
    """llama.cpp on the same GGUF (None when llama-cpp-python is not installed)."""
    try:
        from llama_cpp import Llama
    except ImportError:
        return None
    import numpy as np

    from rigorlab.evaluate.sample import prompt_text

    llm = Llama(model_path=str(gguf), n_threads=1, n_ctx=1024, logits_all=True, verbose=False, seed=0)
    tok = local.tokenizer
    tokens = 0
    t0 = _clock()
    for i in range(replies):
        text = prompt_text(tok, problems[i % len(problems)], instruction)
        out = llm.create_completion(text, max_tokens=max_new, temperature=1.0, top_p=1.0, top_k=0, seed=i)
        tokens += out["usage"]["completion_tokens"]
    wall, cpu = _since(t0)
    # log-prob agreement: rigorlab's completions re-scored token by token by llama.cpp
    gaps = []
    by_id = {p.id: p for p in problems}
    for r in [r for r in rows if r["finish_reason"] == "stop"][:4]:
        prompt_ids = tok(prompt_text(tok, by_id[r["prompt_id"]], instruction), add_special_tokens=False)["input_ids"]
        comp_ids = tok(r["completion"], add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        llm.reset()
        llm.eval(prompt_ids + comp_ids)
        logits = np.asarray(llm.scores[len(prompt_ids) - 1: len(prompt_ids) - 1 + len(comp_ids)], dtype=np.float64)
        logp = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
        gaps.append(abs(float(logp[np.arange(len(comp_ids)), comp_ids].sum()) - r["logprob"]))
    return {"replies": replies, "tokens": tokens, "wall": wall, "cpu": cpu, "logprob_gaps": gaps}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", type=int, default=2)
    ap.add_argument("--n", type=int, default=32, help="rigorlab samples per problem")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--ref-replies", type=int, default=6, help="replies the one-at-a-time references sample")
    ap.add_argument("--max-new-tokens", type=int, default=96)
    args = ap.parse_args()

    import torch

    from rigorlab.evaluate.problems import INSTRUCTION, builtin_problems
    from rigorlab.policy.local import load_local, smollm2_gguf

    torch.set_num_threads(1)
    local = load_local("smollm2", threads=1)
    problems = builtin_problems("arithmetic")[: args.problems]
    ours = bench_rigorlab(local, problems, args.n, args.max_new_tokens, args.batch_size, INSTRUCTION)
    ref = bench_generate(local, problems, args.ref_replies, args.max_new_tokens, INSTRUCTION)
    cpp = bench_llama_cpp(smollm2_gguf(), local, problems, args.ref_replies, args.max_new_tokens, INSTRUCTION,
                          ours["rows"])

    def line(name: str, r: dict) -> str:
        return (f"{name:<44} {r['replies']:>7} {r['tokens']:>7} {r['replies'] / r['wall']:>9.3f} "
                f"{r['replies'] / r['cpu']:>9.3f} {r['tokens'] / r['cpu']:>9.1f}")

    print(f"SmolLM2-135M-Instruct (Q4_1 GGUF, float32), 1 thread, max_new_tokens={args.max_new_tokens}, T=1")
    print(f"{'':<44} {'replies':>7} {'tokens':>7} {'rep/s wall':>9} {'rep/s cpu':>9} {'tok/s cpu':>9}")
    print(line(f"rigorlab sample (batch {args.batch_size}, KV cache)", ours))
    print(line("model.generate, one reply per call", ref))
    if cpp is not None:
        print(line("llama.cpp (llama-cpp-python), one per call", cpp))
    print(f"ratio rigorlab / model.generate: replies/s {ours['replies'] / ours['cpu'] / (ref['replies'] / ref['cpu']):.1f}x "
          f"(CPU time), {ours['replies'] / ours['wall'] / (ref['replies'] / ref['wall']):.1f}x (wall); "
          f"tokens/s {ours['tokens'] / ours['cpu'] / (ref['tokens'] / ref['cpu']):.1f}x (CPU time)")
    if cpp is None:
        print("llama.cpp: llama-cpp-python is not installed (PyPI ships it as source only: "
              "pip install llama-cpp-python builds llama.cpp with cmake, then rerun this script)")
    else:
        print(f"ratio rigorlab / llama.cpp: replies/s {ours['replies'] / ours['cpu'] / (cpp['replies'] / cpp['cpu']):.2f}x "
              f"(CPU time); |log-prob difference| of {len(cpp['logprob_gaps'])} re-scored completions: "
              f"max {max(cpp['logprob_gaps'], default=float('nan')):.3f} nats")


if __name__ == "__main__":
    main()
