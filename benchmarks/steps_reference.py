"""What the tiny `steps` reference learned from its corpus: its habits beside the corpus's rates.

    python3 benchmarks/steps_reference.py [examples/steps.yaml] [--prompts 200] [--samples 16]

Pretrains (or reads from the cache) the reference of the config, samples it
on eval prompts, labels every step (rigorlab.tasks.steps) and prints, for
each habit, the corpus's realised rate, the reference's rate and their
ratio; then the reference's accuracy with and without a check, which says
whether checking, the useful way to lengthen a chain, pays for this model.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", nargs="?", default="examples/steps.yaml")
    ap.add_argument("--prompts", type=int, default=200)
    ap.add_argument("--samples", type=int, default=16)
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    from rigorlab.config import load_config
    from rigorlab.policy.model import load_pretrained
    from rigorlab.policy.pretrain import pretrain
    from rigorlab.policy.sampling import encode_prompts, sample
    from rigorlab.policy.steps_corpus import corpus_rates, steps_corpus
    from rigorlab.tasks import build_task

    cfg = load_config(args.config)
    task = build_task(cfg.task.name, **cfg.task.params)
    corpus = corpus_rates(task, steps_corpus(task, cfg.policy.pretrain.examples, cfg.policy.pretrain.error_rate,
                                             cfg.policy.pretrain.seed))
    model, tok = load_pretrained(pretrain(cfg.task, cfg.policy))
    prompts = task.prompts("eval", args.prompts, 12345)
    pids, pmask = encode_prompts(tok, [p.text for p in prompts for _ in range(args.samples)], "cpu")
    gen = torch.Generator().manual_seed(0)
    ro = sample(model, tok, pids, pmask, cfg.grpo.max_completion_length, 1.0, 1.0, gen, group_size=args.samples)
    texts = tok.batch_decode(ro.completion_ids, skip_special_tokens=True)
    pairs = [(prompts[i // args.samples].text, t) for i, t in enumerate(texts)]
    ref = corpus_rates(task, pairs)
    print(f"{len(texts)} samples of the reference ({args.prompts} prompts x {args.samples}), "
          f"max {cfg.grpo.max_completion_length} tokens")
    print(f"{'rate':28s} {'corpus':>8s} {'reference':>10s} {'ratio':>7s}")
    for key in ("check_chains", "repeat_chains", "restate_chains", "loop_chains", "wrong_answers",
                "accuracy_with_check", "accuracy_without_check"):
        c, r = corpus[key], ref[key]
        print(f"{key:28s} {c:8.3f} {r:10.3f} {r / c if c else float('nan'):7.2f}")
    gain_c = corpus["accuracy_with_check"] - corpus["accuracy_without_check"]
    gain_r = ref["accuracy_with_check"] - ref["accuracy_without_check"]
    print(f"{'accuracy gain of a check':28s} {gain_c:+8.3f} {gain_r:+10.3f}")


if __name__ == "__main__":
    main()
