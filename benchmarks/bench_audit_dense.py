"""What `rigorlab audit --dense` costs: documents per CPU-second on one core, beside the default auditor.

Same corpus and frameworks as bench_audit.py (the shared cards, every built-in framework), one core,
one BLAS and one torch thread. The encoder is loaded and the exemplars encoded before timing (once
per process in real use); every passage is encoded again in each timed pass. Best of `--repeat`.

    python benchmarks/bench_audit_dense.py [--corpus ../shared/corpus/cards] [--repeat 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench_audit import DEFAULT_CORPUS, TARGET, pin_one_core  # noqa: E402  (also sets one BLAS thread)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"bench_audit_dense: corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    pin_one_core()
    import torch

    torch.set_num_threads(1)
    from rigorlab.disclosure.audit.engine import Auditor, resolve_frameworks

    auditors = {"default (rules + layer)": Auditor(resolve_frameworks("all")),
                "--dense": Auditor(resolve_frameworks("all"), dense=True)}
    for aud in auditors.values():
        aud.audit_paths([args.corpus])                      # warm-up: encoder, exemplar embeddings
    for name, aud in auditors.items():
        best, n = float("inf"), 0
        for _ in range(max(1, args.repeat)):
            if aud.exemplars is not None and aud.exemplars.encoder is not None:
                aud.exemplars.encoder._memo.clear()           # encode every passage again
            c0 = time.process_time()
            n = len(aud.audit_paths([args.corpus]).documents)
            best = min(best, time.process_time() - c0)
        rate = n / best
        print(f"{name:24s} {n} documents  cpu {best:6.2f} s  ->  {rate:5.1f} documents/CPU-s   "
              f"target >= {TARGET:.0f}  ratio {rate / TARGET:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
