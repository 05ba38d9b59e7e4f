"""rigorlab.metrics against the reference implementations, side by side, in one run.

    python benchmarks/bench_metrics.py --python /tmp/divenv/bin/python

--python is an interpreter with the references installed (they are not
rigorlab dependencies):
    python -m venv /tmp/divenv --system-site-packages
    /tmp/divenv/bin/pip install diversity==0.3.1 spacy openai vendi-score==0.0.3

Corpus: N texts (default 10,000) of about 50 words, generated with a fixed
seed from a Zipf-weighted English vocabulary plus shared stock phrases (the
repetition model outputs show). References:
- `diversity` 0.3.1: ngram_diversity_score, compression_ratio, self_repetition_score,
  homogenization_score (rougel), remote_clique and chamfer_dist (encoder replaced
  by the same fixed embeddings, so only the metric code is timed);
- self-BLEU: NLTK sentence_bleu of each text against all others (Texygen);
- n-gram Vendi: vendi_score 0.0.3 text_utils.ngram_vendi_score.
A reference that would take hours at N is timed at smaller sizes and
extrapolated (all-pairs references: time per pair x N(N-1); others: the
exponent fitted to two sizes); the table says which. The reference runs in
its own interpreter, metric by metric, right before the matching rigorlab
timing, so both see the same machine load; quick metrics take the best of
`--repeats` runs on both sides. Peak memory is rigorlab's (tracemalloc,
which sees numpy buffers) during one run.
"""

from __future__ import annotations

import argparse
import json
import math
import os

# One BLAS thread on both sides: on a shared 2-core machine OpenBLAS's spinning worker
# threads can make a 600 x 600 eigvalsh 200x slower, which would swamp every comparison.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

WORDS = (
    "the of and to a in is it that for on as with was be by at this are from or an which but not have has "
    "we they you he she can will so if then there their these those all any each more most other some such "
    "no only own same than too very just also now here when where why how what who whom first second third "
    "number sum product value answer result total step case check again because therefore since thus hence "
    "let me think wait compute add subtract multiply divide equal equals gives get got find found need needs "
    "two three four five six seven eight nine ten hundred thousand half twice square root prime even odd "
    "remainder factor digit digits term terms series sequence pattern rule formula side angle triangle circle "
    "area length width height point line plane count ways choose order pair pairs set sets element group "
    "probability chance expected mean average ratio rate speed time distance work cost price percent part "
    "whole one zero left right next last before after between under over into out up down about around "
    "problem question solution approach method idea reason because known given assume suppose consider note "
    "true false correct wrong mistake verify confirm recheck simplify rewrite expand solve substitute plug "
    "original final new old small large big little same different possible impossible minimum maximum least "
    "greatest both either neither every many few several much less greater smaller larger integer fraction "
    "decimal positive negative base power exponent log function graph slope"
).split()
PHRASES = [
    "let me check the sum again", "so the answer is", "first we add then we divide",
    "wait let me think about this", "this gives us the final result", "we need to find the value of",
    "therefore the total number of ways is", "let me verify this step by step",
]


def make_corpus(n: int, words: int = 50, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, len(WORDS) + 1) ** 1.07
    p /= p.sum()
    out = []
    for _ in range(n):
        toks: list[str] = []
        while len(toks) < words:
            if rng.random() < 0.15:
                toks.extend(PHRASES[rng.integers(len(PHRASES))].split())
            else:
                toks.extend(WORDS[j] for j in rng.choice(len(WORDS), size=int(rng.integers(3, 9)), p=p))
        out.append(" ".join(toks[:words]).capitalize() + ".")
    return out


def make_embeddings(n: int, d: int = 384, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(50, d))
    return (centers[rng.integers(0, 50, size=n)] + 0.8 * rng.normal(size=(n, d))).astype(np.float32)


# ---------------------------------------------------------------- reference side (runs in --python)

REFERENCE = r'''
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
texts = json.load(open(sys.argv[1]))
emb = np.load(sys.argv[2])
import diversity, diversity.embedding
import scipy.sparse
if not hasattr(scipy.sparse.csr_matrix, "A"):
    scipy.sparse.csr_matrix.A = property(lambda self: self.toarray())
from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
from vendi_score import text_utils

class FixedEncoder:
    def __init__(self, *a, **k): pass
    def encode(self, data, **k): return emb[: len(data)]
diversity.embedding.SentenceTransformer = FixedEncoder

def self_bleu(t):
    toks = [x.split() for x in t]
    sf = SmoothingFunction().method1
    return sum(sentence_bleu(toks[:i] + toks[i + 1:], toks[i], smoothing_function=sf) for i in range(len(toks))) / len(toks)

FUNCS = {
    "ngram_diversity": lambda t: diversity.ngram_diversity_score(t, 4),
    "compression_gzip": lambda t: diversity.compression_ratio(t, "gzip"),
    "compression_xz": lambda t: diversity.compression_ratio(t, "xz"),
    "self_repetition": lambda t: diversity.self_repetition_score(t, 4, verbose=False),
    "homogenization_rougel": lambda t: diversity.homogenization_score(t, "rougel", verbose=False),
    "self_bleu": self_bleu,
    "ngram_vendi": lambda t: text_utils.ngram_vendi_score(t, tokenizer=str.split),
    "remote_clique": lambda t: diversity.embedding.remote_clique(t, verbose=False),
    "chamfer": lambda t: diversity.embedding.chamfer_dist(t, verbose=False),
}
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    job = json.loads(line)
    best = float("inf")
    for _ in range(job["repeats"]):
        t0 = time.perf_counter()
        value = float(FUNCS[job["metric"]](texts[: job["n"]]))
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"metric": job["metric"], "n": job["n"], "seconds": best, "value": value}), flush=True)
'''


class Reference:
    """The reference implementations in their own interpreter, answering one job at a time,
    so each reference timing is taken right next to the matching rigorlab timing."""

    def __init__(self, python: str, corpus: list[str], emb: np.ndarray) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        cpath, epath, script = Path(self.tmp.name, "c.json"), Path(self.tmp.name, "e.npy"), Path(self.tmp.name, "ref.py")
        cpath.write_text(json.dumps(corpus))
        np.save(epath, emb)
        script.write_text(REFERENCE)
        self.proc = subprocess.Popen([python, str(script), str(cpath), str(epath)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self._read()

    def _read(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                sys.exit(f"reference process failed:\n{self.proc.stderr.read()[-3000:]}")
            if line.startswith("{"):
                return json.loads(line)

    def time(self, metric: str, n: int, repeats: int) -> dict:
        self.proc.stdin.write(json.dumps({"metric": metric, "n": n, "repeats": repeats}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
        self.tmp.cleanup()


# ---------------------------------------------------------------- rigorlab side

def ours(corpus: list[str], emb: np.ndarray, max_pairs: int) -> dict:
    from rigorlab.metrics import embedding, text

    return {
        "distinct_2": lambda n: text.distinct_n(corpus[:n], 2),
        "ngram_diversity": lambda n: text.ngram_diversity_score(corpus[:n], 4),
        "compression_gzip": lambda n: text.compression_ratio(corpus[:n], "gzip"),
        "compression_xz": lambda n: text.compression_ratio(corpus[:n], "xz"),
        "self_repetition": lambda n: text.self_repetition_score(corpus[:n], 4),
        "homogenization_rougel": lambda n: text.homogenization_rougel(corpus[:n]).value,
        "homogenization_rougel_sampled": lambda n: text.homogenization_rougel(corpus[:n], sample_pairs=max_pairs),
        "self_bleu": lambda n: text.self_bleu(corpus[:n]),
        "ngram_vendi": lambda n: text.ngram_vendi_score(corpus[:n]),
        "ngram_vendi_exact": lambda n: text.ngram_vendi_score(corpus[:n], mode="exact").value,
        "remote_clique": lambda n: embedding.remote_clique(emb[:n]),
        "mean_pairwise_cosine": lambda n: embedding.mean_pairwise_cosine_distance(emb[:n]),
        "chamfer": lambda n: embedding.chamfer_distance(emb[:n]),
        "chamfer_sampled": lambda n: embedding.chamfer_distance_sampled(emb[:n], queries=1000),
        "embedding_vendi": lambda n: embedding.embedding_vendi_score(emb[:n]),
    }


def time_ours(fn, n: int, repeats: int) -> tuple[float, object, float]:
    best, value = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn(n)
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn(n)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return best, value, peak


PAIRWISE = {"homogenization_rougel", "self_bleu"}   # the reference does the same work for every pair


def extrapolate(name: str, points: dict, n: int) -> tuple[float, str]:
    """Seconds at n: measured if present; for all-pairs references the time per pair at the
    largest measured size times n(n-1); otherwise a power law through the two largest sizes."""
    if n in points:
        return points[n]["seconds"], "measured"
    (n1, a), (n2, b) = sorted((k, v["seconds"]) for k, v in points.items())[-2:]
    if name in PAIRWISE:
        return b * n * (n - 1) / (n2 * (n2 - 1)), f"extrapolated: measured at N={n2}, times N(N-1) pairs"
    k = math.log(b / a) / math.log(n2 / n1)
    return b * (n / n2) ** k, f"extrapolated: t ~ N^{k:.2f} fitted at N={n1},{n2}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--python", default=os.environ.get("DIVERSITY_PYTHON", "/tmp/divenv/bin/python"),
                    help="interpreter with diversity, nltk, rouge-score and vendi-score installed")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-pairs", type=int, default=100_000)
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    n = args.n
    corpus = make_corpus(n)
    emb = make_embeddings(n)
    print(f"corpus: {n} texts, {np.mean([len(t.split()) for t in corpus]):.1f} words on average; "
          f"embeddings {emb.shape}; cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}", flush=True)

    def small(*sizes: int) -> list[int]:
        pts = [s for s in sizes if s < n]
        return pts if len(pts) >= 2 else pts + [n]

    # reference sizes: the full N where it runs in about a minute, two smaller sizes otherwise
    sizes = {"ngram_diversity": [n], "compression_gzip": [n], "compression_xz": [n], "self_repetition": [n],
             "remote_clique": [n], "chamfer": [n], "homogenization_rougel": small(100, 200),
             "self_bleu": small(50, 100), "ngram_vendi": small(2000, 4000)}
    reference = None if args.skip_reference else Reference(args.python, corpus, emb)
    ref: dict = {}
    fns = ours(corpus, emb, args.max_pairs)
    rows = []
    plan = [("distinct_2", None, None), ("ngram_diversity", "ngram_diversity", None),
            ("compression_gzip", "compression_gzip", None), ("compression_xz", "compression_xz", None),
            ("self_repetition", "self_repetition", None),
            ("homogenization_rougel", "homogenization_rougel", "exact, all pairs"),
            ("homogenization_rougel_sampled", "homogenization_rougel", f"sampled {args.max_pairs} pairs"),
            ("self_bleu", "self_bleu", "exact"),
            ("ngram_vendi", "ngram_vendi", "sampled (deflated SLQ)" if n > 2000 else "exact"),
            ("remote_clique", "remote_clique", None), ("mean_pairwise_cosine", None, None),
            ("chamfer", "chamfer", None), ("chamfer_sampled", "chamfer", "sampled 1000 queries"),
            ("embedding_vendi", None, None)]
    for name, ref_name, mode in plan:
        if reference is not None and ref_name and ref_name not in ref:
            ref[ref_name] = {}
            for m in sizes[ref_name]:
                quick = ref_name in ("ngram_diversity", "compression_gzip", "compression_xz", "remote_clique")
                ref[ref_name][m] = reference.time(ref_name, m, args.repeats if quick else 1)
        reps = 1 if name in ("homogenization_rougel",) else args.repeats
        secs, value, peak = time_ours(fns[name], n, reps)
        row = {"metric": name, "mode": mode or "exact", "ours_s": secs, "peak_mib": peak,
               "value": getattr(value, "value", value), "half_width": getattr(value, "half_width", 0.0)}
        if ref_name and ref_name in ref:
            rs, how = extrapolate(ref_name, ref[ref_name], n)
            row.update(ref_s=rs, speedup=rs / secs, ref_how=how)
            checked = max(ref[ref_name])      # compare values at the largest size the reference ran
            exact_name = {"ngram_vendi": "ngram_vendi_exact", "chamfer_sampled": "chamfer",
                          "homogenization_rougel_sampled": "homogenization_rougel"}.get(name, name)
            mine = fns[exact_name](checked)
            row.update(check_n=checked, ref_value=ref[ref_name][checked]["value"],
                       our_value_at_check=float(getattr(mine, "value", mine)))
        rows.append(row)
        print(json.dumps(row), flush=True)
    if reference is not None:
        reference.close()

    print()
    print(f"| metric (N = {n:,}) | mode | rigorlab | peak mem | reference | speed-up | reference timing "
          "| value check (ours / reference at N) |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    for r in rows:
        ref_s = f"{r['ref_s']:,.2f} s" if "ref_s" in r else "-"
        speed = f"{r['speedup']:,.0f}x" if "speedup" in r else "-"
        check = (f"{r['our_value_at_check']:.4f} / {r['ref_value']:.4f} (N={r['check_n']:,})" if "ref_value" in r else "-")
        mode = r["mode"] + (f" (+-{r['half_width']:.2g})" if r["half_width"] else "")
        print(f"| {r['metric']} | {mode} | {r['ours_s']:.3f} s | {r['peak_mib']:.0f} MiB | {ref_s} | {speed} | "
              f"{r.get('ref_how', 'no reference')} | {check} |")


if __name__ == "__main__":
    main()
