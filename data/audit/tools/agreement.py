"""Inter-annotator agreement of two label folders (Cohen's kappa), overall and per framework.

Why: the agreement of two careful people is the ceiling the auditor can be held to
(`benchmarks/eval_cards.py` prints it beside the auditor's figures). Binary kappa is
"disclosed vs not" (the issue's headline); three-level kappa and accuracy use
disclosed / vague / absent. `--disagreements FILE` writes every item where the two
differ, with both quotes and notes, as the work list for adjudication.

    python3 data/audit/tools/agreement.py [--a data/audit/labels/annotator_a]
        [--b data/audit/labels/annotator_b] [--disagreements /tmp/disagree.yaml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from rigorlab.disclosure.audit.labelset import FRAMEWORKS, binary, cohen_kappa, default_root, load_labels

ROOT = default_root()


def pairs(a: dict, b: dict) -> list[tuple[str, str, str, object, object]]:
    """(doc, framework, indicator, label A, label B) for every item both labelled."""
    out = []
    for doc in sorted(set(a) & set(b)):
        for ind in sorted(set(a[doc]) & set(b[doc])):
            out.append((doc, a[doc][ind].framework, ind, a[doc][ind], b[doc][ind]))
    return out


def figures(items: list) -> dict[str, float]:
    la = [x[3].level for x in items]
    lb = [x[4].level for x in items]
    return {"items": len(items), "kappa_binary": cohen_kappa(binary(la), binary(lb)),
            "kappa_3": cohen_kappa(la, lb), "accuracy_3": sum(p == q for p, q in zip(la, lb)) / len(items)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", type=Path, default=ROOT / "labels" / "annotator_a")
    ap.add_argument("--b", type=Path, default=ROOT / "labels" / "annotator_b")
    ap.add_argument("--disagreements", type=Path, default=None)
    args = ap.parse_args(argv)
    a, b = load_labels(args.a), load_labels(args.b)
    items = pairs(a, b)
    if not items:
        print("no document is labelled in both folders", file=sys.stderr)
        return 2
    print(f"documents labelled by both: {len(set(x[0] for x in items))}")
    print(f"{'scope':8s} {'items':>6s} {'kappa bin':>9s} {'kappa 3':>8s} {'acc 3':>6s}")
    for scope in ("all", *FRAMEWORKS):
        sel = [x for x in items if scope == "all" or x[1] == scope]
        f = figures(sel)
        print(f"{scope:8s} {f['items']:6d} {f['kappa_binary']:9.3f} {f['kappa_3']:8.3f} {f['accuracy_3']:6.3f}")
    if args.disagreements:
        rows = [{"document": d, "indicator": i, "a": x.level, "b": y.level, "quote_a": x.quote,
                 "quote_b": y.quote, "note_a": x.note, "note_b": y.note}
                for d, _, i, x, y in items if x.level != y.level]
        args.disagreements.write_text(yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=200),
                                      encoding="utf-8")
        print(f"{len(rows)} disagreements written to {args.disagreements}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
