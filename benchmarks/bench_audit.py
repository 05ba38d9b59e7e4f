"""Documents per second auditing the whole shared corpus with every built-in framework, on one core.

Pins the process to one CPU (Linux) and one BLAS thread, prepares the
frameworks once, then audits all cards (read, split, index, judge, score)
`--repeat` times and reports the best wall-clock and CPU figures beside the
target (>= 20 documents/s, no embeddings).

    python benchmarks/bench_audit.py [--corpus ../shared/corpus/cards] [--repeat 3]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

TARGET = 20.0
DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cards"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--learned", action="store_true", help="with the learned DDT/AAD exemplar layer (audit --learned)")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"bench_audit: corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    from rigorlab.disclosure.audit.engine import Auditor, resolve_frameworks

    t0 = time.perf_counter()
    auditor = Auditor(resolve_frameworks("all"), exemplars=args.learned)
    prep = time.perf_counter() - t0
    n_ind = len(auditor.prepared)
    best_wall, best_cpu, n_docs, n_findings = float("inf"), float("inf"), 0, 0
    for _ in range(max(1, args.repeat)):
        w0, c0 = time.perf_counter(), time.process_time()
        run = auditor.audit_paths([args.corpus])
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
        n_docs, n_findings = len(run.documents), sum(len(d.findings) for d in run.documents)
        if run.skipped:
            print(f"skipped: {run.skipped}", file=sys.stderr)
    mb = sum(f.stat().st_size for f in args.corpus.iterdir() if f.suffix == ".md") / 2**20
    print(f"corpus: {n_docs} documents ({mb:.2f} MiB), {len(auditor.frameworks)} frameworks, "
          f"{n_ind} indicators, {n_findings} findings per pass; one core, no embeddings, "
          f"exemplar layer {'on' if args.learned else 'off'}")
    print(f"framework preparation (once): {prep:.3f} s")
    for label, secs in (("wall", best_wall), ("cpu", best_cpu)):
        rate = n_docs / secs
        print(f"{label:4s}: {secs:.3f} s  ->  {rate:6.1f} documents/s   target >= {TARGET:.0f}  "
              f"ratio {rate / TARGET:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
