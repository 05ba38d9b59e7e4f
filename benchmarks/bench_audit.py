"""Documents per CPU-second auditing the whole shared corpus with every built-in framework, on one core.

Pins the process to one CPU (Linux) and one BLAS thread, prepares the
frameworks once, then audits all cards `--repeat` times as `rigorlab audit`
does by default (read, split, index, rule judge, learned exemplar layer, term
checks, scores; no embeddings, no LLM judge) and reports the best and the
median wall-clock and CPU figures beside the target (>= 20 documents per
CPU-second) as a ratio. `--rules-only`: without the learned layer, as
`rigorlab audit --rules-only`.

    python benchmarks/bench_audit.py [--corpus ../shared/corpus/cards] [--repeat 5] [--rules-only]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

TARGET = 20.0
DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "cards"


def pin_one_core() -> None:
    """Run on one core (where the OS allows), so CPU time is one core's."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rules-only", action="store_true", help="without the learned exemplar layer (audit --rules-only)")
    ap.add_argument("--learned", action="store_true", help=argparse.SUPPRESS)   # the default now; kept for old commands
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"bench_audit: corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    pin_one_core()

    from rigorlab.disclosure.audit.engine import Auditor, resolve_frameworks

    t0 = time.perf_counter()
    learned = not args.rules_only
    auditor = Auditor(resolve_frameworks("all"), exemplars=learned)
    prep = time.perf_counter() - t0
    n_ind = len(auditor.prepared)
    walls: list[float] = []
    cpus: list[float] = []
    n_docs = n_findings = 0
    for _ in range(max(1, args.repeat)):
        w0, c0 = time.perf_counter(), time.process_time()
        run = auditor.audit_paths([args.corpus])
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        n_docs, n_findings = len(run.documents), sum(len(d.findings) for d in run.documents)
        if run.skipped:
            print(f"skipped: {run.skipped}", file=sys.stderr)
    mb = sum(f.stat().st_size for f in args.corpus.iterdir() if f.suffix == ".md") / 2**20
    print(f"corpus: {n_docs} documents ({mb:.2f} MiB), {len(auditor.frameworks)} frameworks, "
          f"{n_ind} indicators, {n_findings} findings per pass; one core, no embeddings, "
          f"exemplar layer {'on (default)' if learned else 'off (--rules-only)'}")
    print(f"framework preparation (once): {prep:.3f} s; {len(cpus)} passes")
    for label, times in (("wall", walls), ("cpu", cpus)):
        for stat, secs in (("best", min(times)), ("median", statistics.median(times))):
            rate = n_docs / secs
            print(f"{label:4s} {stat:6s}: {secs:.3f} s  ->  {rate:6.1f} documents/s   target >= {TARGET:.0f}  "
                  f"ratio {rate / TARGET:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
