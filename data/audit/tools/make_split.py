"""Choose the final untouched test split of the labelled audit set, by family, from a seed.

Why: rules and learned parts of the auditor are chosen by cross-validation on the
development documents; a handful of families that no choice ever saw is kept aside and
scored once, at the end (`benchmarks/eval_cards.py --final`). Whole families are held out
so that a template shared by several cards (all Llama cards) cannot leak. The split was
written with the default seed before any result of the auditor on these labels was seen.

    python3 data/audit/tools/make_split.py [--seed 17] [--target 8] [--out data/audit/splits.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

AUDIT = Path(__file__).resolve().parents[1]


def families(sources: Path) -> dict[str, list[str]]:
    """family -> its documents, in SOURCES.tsv order."""
    out: dict[str, list[str]] = defaultdict(list)
    with sources.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            out[row["family"]].append(row["doc_id"])
    return dict(out)


def choose(fams: dict[str, list[str]], seed: int, target: int) -> list[str]:
    """Families in a seeded random order, taken while the test set has fewer than `target` documents."""
    order = sorted(fams)
    rng = np.random.default_rng(seed)
    picked: list[str] = []
    n = 0
    for k in rng.permutation(len(order)):
        if n >= target:
            break
        picked.append(order[int(k)])
        n += len(fams[order[int(k)]])
    return sorted(picked)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--target", type=int, default=8)
    ap.add_argument("--sources", type=Path, default=AUDIT / "SOURCES.tsv")
    ap.add_argument("--out", type=Path, default=AUDIT / "splits.json")
    args = ap.parse_args(argv)
    fams = families(args.sources)
    test_fams = choose(fams, args.seed, args.target)
    test = sorted(d for f in test_fams for d in fams[f])
    dev = sorted(d for f, ds in fams.items() if f not in test_fams for d in ds)
    data = {"seed": args.seed, "method": "families in a seeded permutation until >= target documents",
            "test_families": test_fams, "test": test, "dev": dev}
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    print(f"test: {len(test)} documents from {len(test_fams)} families {test_fams}; dev: {len(dev)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
