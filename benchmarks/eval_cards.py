"""Agreement of `rigorlab audit` (DDT and AAD) with the hand-labelled audit set.

Labels: `data/audit/labels/adjudicated/` (two independent annotators, then
adjudicated; `data/audit/tools/agreement.py` prints their own kappa, shown here
beside the auditor's). Documents: `data/audit/docs/`, families in SOURCES.tsv.

Modes (all on the development documents of `data/audit/splits.json`):
- rules:   the rule judge alone (keyword gate, BM25, FMTI-trained specificity
           model, the frameworks' rules); nothing in it was fitted on these labels.
- learned: rule judge + exemplar layer (`exemplars.py`), leave-one-family-out:
           for each family, the layer is fitted on the other families' labels
           only (and inside that, cross-fitted; see train_exemplars.py) and scores
           the held-out family. `--lodo`: leave-one-document-out instead.
- dense:   `--dense`: the layer with the embedding columns of `dense.py` added
           (opt-in in the auditor, `rigorlab audit --dense`), same protocol.
`--final` additionally fits the layer on all development documents and scores
the untouched test families once (run it once, at the end).
`--holdout` does the same for `splits.json` "holdout": the latest batch from new
families, labelled after the layer it scores was fitted, never trained on (run it once).
`--fresh` scores the documents of `splits.json` "fresh" (labelled after the
layer shipped, now part of dev) with the rules and with the layer fitted on the
other development documents only: the layer as it was before it saw them.

Nothing is tuned on these folds: the layer's features, penalty (L2 = 1) and
decision rule (P >= 0.5) were fixed before the leave-one-family-out run.

Printed: Cohen's kappa on "disclosed vs not", three-level kappa and accuracy,
the 3x3 confusion matrix (rows = people, columns = auditor), per-framework
figures, and a 95% percentile bootstrap interval over documents (2,000
resamples, seed 0) beside the targets (kappa >= 0.8, accuracy >= 0.8); and
how often the auditor's evidence is the passage people quoted (`evidence_at_quote`); and the
agreement on the findings the layer marks sure and on the rest (`sure_figures`; the sure margin is
chosen inside each fit, on its own cross-fitted rows, so the held-out folds never choose it).

    python benchmarks/eval_cards.py [--labels data/audit/labels/adjudicated] [--lodo] [--dense] [--final] [--holdout] [--fresh] [--json out.json]
    python benchmarks/eval_cards.py --judge URL --judge-model NAME [--holdout] [--judge-scope check] [--judge-limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from difflib import SequenceMatcher
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from rigorlab.disclosure.audit.labelset import (  # noqa: E402
    LEVELS, binary, cohen_kappa, confusion, default_root, load_labels, load_sources,
)
from rigorlab.disclosure.audit.train_exemplars import base_findings, fit, prepared_ddt_aad  # noqa: E402

TARGET_KAPPA, TARGET_ACC = 0.8, 0.8
ROOT = default_root()


def figures(rows: list[tuple[str, str, str, str]]) -> dict:
    """rows: (doc, framework, truth, prediction)."""
    t = [r[2] for r in rows]
    p = [r[3] for r in rows]
    return {"items": len(rows), "kappa_binary": cohen_kappa(binary(t), binary(p)), "kappa_3": cohen_kappa(t, p),
            "accuracy_3": float(np.mean(np.asarray(t) == np.asarray(p))),
            "recall_disclosed": float(np.mean([q == "disclosed" for a, q in zip(t, p) if a == "disclosed"] or [0])),
            "precision_disclosed": float(np.mean([a == "disclosed" for a, q in zip(t, p) if q == "disclosed"] or [0])),
            "confusion": confusion(t, p).tolist()}


def bootstrap(rows: list[tuple[str, str, str, str]], n: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """95% percentile intervals of binary kappa and three-level accuracy, resampling whole documents."""
    docs = sorted({r[0] for r in rows})
    by_doc = {d: [r for r in rows if r[0] == d] for d in docs}
    rng = np.random.default_rng(seed)
    kb, acc = [], []
    for _ in range(n):
        sample = [r for k in rng.integers(0, len(docs), len(docs)) for r in by_doc[docs[k]]]
        t = [r[2] for r in sample]
        p = [r[3] for r in sample]
        kb.append(cohen_kappa(binary(t), binary(p)))
        acc.append(float(np.mean(np.asarray(t) == np.asarray(p))))
    q = lambda v: [round(float(np.percentile(v, 2.5)), 3), round(float(np.percentile(v, 97.5)), 3)]
    return {"kappa_binary": q(kb), "accuracy_3": q(acc)}


def rows_of(docs: list[str], labels: dict, findings: dict) -> list[tuple[str, str, str, str]]:
    return [(d, f.framework, labels[d][f.id].level, f.level) for d in docs for f in findings[d]]


_LABEL_LINE = re.compile(r"\(line (\d+)\)$")


def quote_overlaps(quote: str, people: str, least: int = 30) -> bool:
    """The auditor's quote and people's share a run of at least `least` characters (or all of
    people's quote, when it is shorter), white space and case folded, a trailing ellipsis dropped."""
    a, b = (re.sub(r"\s+", " ", t.replace("\u2026", "")).strip().lower() for t in (quote, people))
    if not a or not b:
        return False
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size >= min(least, len(b))


def evidence_at_quote(docs: list[str], labels: dict, findings: dict, what: str = "") -> dict:
    """Of the items both people and the auditor call mentioned (disclosed or vague), how often the
    auditor's evidence passage holds the lines people quoted, and how often its quote overlaps
    people's (`quote_overlaps`): lower bounds on "the quote is right", since a document may say the
    same thing in two places. Printed and returned."""
    hits = total = same = 0
    for d in docs:
        for f in findings[d]:
            lab = labels[d][f.id]
            m = _LABEL_LINE.search(lab.location or "")
            if lab.level == "absent" or f.level == "absent" or not m or not f.location:
                continue
            first = int(m[1])
            a, b = f.location["lines"]
            total += 1
            hits += a <= first + lab.quote.count("\n") and first <= b
            same += quote_overlaps(f.evidence, lab.quote)
    share = hits / total if total else 0.0
    print(f"evidence{what}: where both say mentioned, the auditor quotes the passage people quoted in {hits} "
          f"of {total} items ({share:.2f}); its quote overlaps people's in {same} ({same / max(total, 1):.2f})")
    return {"at_quote": hits, "items": total, "share": round(share, 4), "quote_overlaps": same,
            "quote_share": round(same / total, 4) if total else 0.0}


def sure_figures(docs: list[str], labels: dict, findings: dict, what: str = "") -> dict:
    """Agreement on the findings the layer marks sure, and on the rest (to check by hand): the share
    of items each holds, binary kappa (with a 95% bootstrap interval over documents) and three-level
    accuracy. Printed and returned."""
    out: dict = {}
    judged = [(d, f) for d in docs for f in findings[d] if f.sure is not None]
    for key, want in (("sure", True), ("check", False)):
        rows = [(d, f.framework, labels[d][f.id].level, f.level) for d, f in judged if f.sure is want]
        if not rows:
            out[key] = {"items": 0, "share": 0.0}
            continue
        fig = figures(rows)
        out[key] = {"items": len(rows), "share": round(len(rows) / len(judged), 4), "kappa_binary": fig["kappa_binary"],
                    "accuracy_3": fig["accuracy_3"], "bootstrap": bootstrap(rows)}
    s, c = out["sure"], out["check"]
    if s["items"]:
        print(f"sure{what}: {s['items']} of {len(judged)} items ({s['share']:.2f}): kappa {s['kappa_binary']:.3f} "
              f"{s['bootstrap']['kappa_binary']}, three-level accuracy {s['accuracy_3']:.3f} "
              f"{s['bootstrap']['accuracy_3']}  target >= {TARGET_KAPPA} / {TARGET_ACC}")
    if c["items"]:
        print(f"check by hand{what}: {c['items']} items ({c['share']:.2f}): kappa {c['kappa_binary']:.3f}, "
              f"three-level accuracy {c['accuracy_3']:.3f}")
    return out


def cross_validated(dev: list[str], group: dict[str, str], labels: dict, documents: dict, base: dict,
                    families: dict[str, str], encoder=None, cache: dict | None = None) -> dict[str, list]:
    """Findings of every dev document from a layer fitted without its group (family or document)."""
    out = {}
    prepared = prepared_ddt_aad()
    cache = {} if cache is None else cache
    for g in sorted(set(group[d] for d in dev)):
        train = [d for d in dev if group[d] != g]
        model = fit(train, labels, documents, base, families, prepared, cache=cache, encoder=encoder)
        for d in (d for d in dev if group[d] == g):
            out[d] = model.refine(documents[d], base[d], prepared)
    return out


def family_folds(dev: list[str], families: dict[str, str], k: int, seed: int = 0) -> dict[str, str]:
    """document -> its fold: the families in a seeded permutation, dealt round-robin into `k` folds."""
    fams = sorted({families[d] for d in dev})
    order = np.random.default_rng(seed).permutation(len(fams))
    fold = {fams[i]: f"fold{n % k}" for n, i in enumerate(order)}
    return {d: fold[families[d]] for d in dev}


def paired_difference(rows: list[tuple[str, str, str, str]], ref: list[tuple[str, str, str, str]],
                      n: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """Difference (rows - ref) of binary kappa and three-level accuracy on the same items, with a 95%
    percentile interval from resampling whole documents (both sets resampled together)."""
    a, b = sorted(rows), sorted(ref)
    assert [r[:3] for r in a] == [r[:3] for r in b], "paired rows must be the same items"
    docs = sorted({r[0] for r in a})
    idx = {d: [k for k, r in enumerate(a) if r[0] == d] for d in docs}

    def stat(rs: list, ks: list[int]) -> tuple[float, float]:
        t = [rs[k][2] for k in ks]
        p = [rs[k][3] for k in ks]
        return cohen_kappa(binary(t), binary(p)), float(np.mean(np.asarray(t) == np.asarray(p)))

    rng = np.random.default_rng(seed)
    dk, da = [], []
    for _ in range(n):
        ks = [k for j in rng.integers(0, len(docs), len(docs)) for k in idx[docs[j]]]
        (ka, aa), (kb, ab) = stat(a, ks), stat(b, ks)
        dk.append(ka - kb)
        da.append(aa - ab)
    every = list(range(len(a)))
    (ka, aa), (kb, ab) = stat(a, every), stat(b, every)
    q = lambda v: [round(float(np.percentile(v, 2.5)), 3), round(float(np.percentile(v, 97.5)), 3)]
    return {"kappa_binary": [round(ka - kb, 3), *q(dk)], "accuracy_3": [round(aa - ab, 3), *q(da)]}


def print_difference(name: str, diff: dict[str, list[float]]) -> None:
    k, a = diff["kappa_binary"], diff["accuracy_3"]
    print(f"{name}: kappa {k[0]:+.3f} [{k[1]:+.3f}, {k[2]:+.3f}]   three-level accuracy {a[0]:+.3f} "
          f"[{a[1]:+.3f}, {a[2]:+.3f}]  (paired bootstrap over documents, 95%)")


def report(name: str, rows: list[tuple[str, str, str, str]]) -> dict:
    res = {"all": figures(rows), "bootstrap": bootstrap(rows)}
    for fw in ("ddt", "aad"):
        res[fw] = figures([r for r in rows if r[1] == fw])
    a = res["all"]
    ci = res["bootstrap"]
    print(f"\n== {name}: {len({r[0] for r in rows})} documents, {a['items']} items")
    print(f"kappa (disclosed vs not) {a['kappa_binary']:.3f}  95% CI {ci['kappa_binary']}  "
          f"target >= {TARGET_KAPPA}  ratio {a['kappa_binary'] / TARGET_KAPPA:.2f}")
    print(f"three-level accuracy     {a['accuracy_3']:.3f}  95% CI {ci['accuracy_3']}  "
          f"target >= {TARGET_ACC}  ratio {a['accuracy_3'] / TARGET_ACC:.2f}")
    print(f"three-level kappa        {a['kappa_3']:.3f}   recall(disclosed) {a['recall_disclosed']:.3f}  "
          f"precision(disclosed) {a['precision_disclosed']:.3f}")
    print("confusion (rows: people, columns: auditor)   " + "  ".join(f"{lv:>9s}" for lv in LEVELS))
    for lv, r in zip(LEVELS, a["confusion"]):
        print(f"  {lv:>9s}{' ' * 34}" + "  ".join(f"{v:9d}" for v in r))
    for fw in ("ddt", "aad"):
        f = res[fw]
        print(f"  {fw}: kappa {f['kappa_binary']:.3f}  acc3 {f['accuracy_3']:.3f}  kappa3 {f['kappa_3']:.3f}  "
              f"({f['items']} items)")
    return res


def judged(url: str, model_name: str, docs: list[str], labels: dict, documents: dict, base: dict,
           scope: str = "all", what: str = "dev (the layer saw these labels)", timeout_s: float = 120.0) -> dict:
    """The LLM judge on top of the shipped layer, paired against the layer alone on the same items.
    On `holdout` documents neither the layer nor anything else here saw their labels."""
    from rigorlab.disclosure.audit.exemplars import load_exemplar_model
    from rigorlab.disclosure.audit.llm_judge import LLMJudge

    prepared = prepared_ddt_aad()
    layer = load_exemplar_model()
    judge = LLMJudge(url, model_name, scope=scope, timeout_s=timeout_s)
    by_id = {(p.framework, p.indicator.id): p for p in prepared}
    alone, found = {}, {}
    try:
        for k, d in enumerate(docs, 1):
            alone[d] = layer.refine(documents[d], base[d], prepared) if layer else base[d]
            found[d] = judge.refine(documents[d], alone[d], by_id)
            print(f"judged {k}/{len(docs)}: {d}", file=sys.stderr, flush=True)
    finally:
        judge.close()
    print(f"\n{judge.stats.summary()}")
    if judge.stats.reasons:
        print("  first reasons: " + "; ".join(judge.stats.reasons[:6]))
    layer_rows, judge_rows = rows_of(docs, labels, alone), rows_of(docs, labels, found)
    out = {"layer": report(f"rules + layer, {what}", layer_rows),
           "judged": report(f"rules + layer + LLM judge {model_name} (scope {scope}), {what}", judge_rows),
           "stats": {k: v for k, v in vars(judge.stats).items() if k != "reasons"}}
    out["judged"]["evidence"] = evidence_at_quote(docs, labels, found)
    out["judged_minus_layer"] = paired_difference(judge_rows, layer_rows)
    print_difference("\njudge - layer", out["judged_minus_layer"])
    return out


def score_unseen(out: dict, key: str, what: str, train: list[str], docs: list[str], labels: dict,
                 documents: dict, base: dict, families: dict[str, str], encoder=None) -> None:
    """Documents the layer never saw (`docs`), judged by the rules and by the layer fitted on `train`
    (and with the dense columns when an encoder is given), with paired differences; into `out`."""
    prepared = prepared_ddt_aad()
    rules_rows = rows_of(docs, labels, base)
    out[f"{key}_rules"] = report(f"{what}, rules alone", rules_rows)
    out[f"{key}_rules"]["evidence"] = evidence_at_quote(docs, labels, base)
    previous = None
    for enc, tag in ((None, ""), (encoder, "_dense"))[: 2 if encoder else 1]:
        model = fit(train, labels, documents, base, families, prepared, encoder=enc)
        found = {d: model.refine(documents[d], base[d], prepared) for d in docs}
        rows = rows_of(docs, labels, found)
        out[key + tag] = report(f"{what}, rules + layer{' + dense' if enc else ''} fitted on {len(train)} "
                                "other documents", rows)
        out[key + tag]["evidence"] = evidence_at_quote(docs, labels, found)
        out[key + tag]["sure"] = sure_figures(docs, labels, found)
        out[f"{key}{tag}_minus_rules"] = paired_difference(rows, rules_rows)
        print_difference("layer - rules", out[f"{key}{tag}_minus_rules"])
        if previous is not None:
            out[f"{key}_dense_minus_layer"] = paired_difference(rows, previous)
            print_difference("dense - layer", out[f"{key}_dense_minus_layer"])
        previous = rows
    out[f"annotators_{key}"] = annotators(docs)


def score_fresh(dev: list[str], fresh: list[str], families: dict[str, str], args: argparse.Namespace) -> int:
    """Documents labelled after the layer shipped, judged by the rules and by the layer fitted on the
    other (earlier) development documents: how the auditor did on documents it had never seen."""
    if not fresh:
        print("eval_cards: splits.json lists no `fresh` documents", file=sys.stderr)
        return 2
    earlier = [d for d in dev if d not in set(fresh)]
    labels = load_labels(args.labels, dev)
    documents, base = base_findings(dev, ROOT)
    out: dict = {"labels": str(args.labels), "earlier": len(earlier), "fresh": len(fresh)}
    encoder = None
    if args.dense:
        from rigorlab.disclosure.audit.dense import DenseEncoder

        encoder = DenseEncoder(threads=1)
    score_unseen(out, "fresh", "FRESH documents", earlier, fresh, labels, documents, base, families, encoder)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


def annotators(docs: list[str]) -> dict | None:
    """The two annotators' own agreement on the same documents (the ceiling)."""
    a_dir, b_dir = ROOT / "labels" / "annotator_a", ROOT / "labels" / "annotator_b"
    try:
        a, b = load_labels(a_dir, docs), load_labels(b_dir, docs)
    except Exception:                       # noqa: BLE001 - an incomplete folder just omits the line
        return None
    rows = [(d, a[d][i].framework, a[d][i].level, b[d][i].level) for d in docs for i in sorted(a[d])]
    f = figures(rows)
    print(f"\nannotator A vs B on the same documents: kappa {f['kappa_binary']:.3f}, "
          f"three-level kappa {f['kappa_3']:.3f}, accuracy {f['accuracy_3']:.3f}")
    return f


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=ROOT / "labels" / "adjudicated")
    ap.add_argument("--lodo", action="store_true", help="leave one document out (default: one family)")
    ap.add_argument("--folds", type=int, default=0, help="K folds of whole families (seeded) instead of "
                                                          "leave-one-family-out: about K fits, not one per family")
    ap.add_argument("--final", action="store_true", help="also score the untouched test split (once)")
    ap.add_argument("--holdout", action="store_true", help="also score the later held-out batch (once)")
    ap.add_argument("--fresh", action="store_true", help="only score the later-labelled documents with the "
                                                         "layer fitted on the earlier development documents")
    ap.add_argument("--dense", action="store_true", help="also the layer with embedding columns (dense.py; "
                                                         "needs rigorlab[embeddings], minutes)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--judge", default=None, help="only score the LLM judge at this OpenAI-compatible URL, on "
                                                  "top of rules + the shipped layer, paired against the layer alone "
                                                  "(on the holdout documents with --holdout, else on dev)")
    ap.add_argument("--judge-model", default=None)
    ap.add_argument("--judge-scope", default="all", choices=("all", "check"),
                    help="ask about every finding, or only those the layer does not mark sure")
    ap.add_argument("--judge-timeout", type=float, default=120.0, help="seconds to wait for one judgement")
    ap.add_argument("--judge-limit", type=int, default=0, help="judge only the first N documents (a slow model)")
    args = ap.parse_args(argv)
    sources = load_sources(ROOT)
    split = json.loads((ROOT / "splits.json").read_text(encoding="utf-8"))
    dev, test = sorted(split["dev"]), sorted(split["test"])
    families = {d: sources[d]["family"] for d in sources}
    if args.fresh:
        return score_fresh(dev, sorted(split.get("fresh", [])), families, args)
    holdout = sorted(split.get("holdout", []))
    if args.holdout and not holdout:
        print("eval_cards: splits.json lists no `holdout` documents", file=sys.stderr)
        return 2
    if args.judge:
        if not args.judge_model:
            print("eval_cards: --judge needs --judge-model", file=sys.stderr)
            return 2
        docs = holdout if args.holdout else dev
        docs = docs[: args.judge_limit] if args.judge_limit > 0 else docs
        labels = load_labels(args.labels, docs)
        documents, base = base_findings(docs, ROOT)
        res = judged(args.judge, args.judge_model, docs, labels, documents, base, args.judge_scope,
                     "holdout (never seen)" if args.holdout else "dev (the layer saw these labels)", args.judge_timeout)
        if args.json:
            args.json.write_text(json.dumps({"judge": res}, indent=1) + "\n", encoding="utf-8")
        return 0
    docs_needed = dev + (test if args.final else []) + (holdout if args.holdout else [])
    labels = load_labels(args.labels, docs_needed)
    documents, base = base_findings(docs_needed, ROOT)
    out: dict = {"labels": str(args.labels), "dev": len(dev)}
    out["annotators_dev"] = annotators(dev)
    rules_rows = rows_of(dev, labels, base)
    out["rules"] = report("rules (no learned layer), dev", rules_rows)
    out["rules"]["evidence"] = evidence_at_quote(dev, labels, base)
    if args.folds > 1:
        group = family_folds(dev, families, args.folds)
        protocol = f"{args.folds} folds of whole families"
    else:
        group = {d: d for d in dev} if args.lodo else families
        protocol = f"leave-one-{'document' if args.lodo else 'family'}-out"
    cache: dict = {}
    cv = cross_validated(dev, group, labels, documents, base, families, cache=cache)
    learned_rows = rows_of(dev, labels, cv)
    out["learned"] = report(f"rules + exemplar layer (the default auditor), {protocol}, dev", learned_rows)
    out["learned"]["evidence"] = evidence_at_quote(dev, labels, cv)
    out["learned"]["sure"] = sure_figures(dev, labels, cv)
    out["learned_minus_rules"] = paired_difference(learned_rows, rules_rows)
    print_difference("\nlayer - rules", out["learned_minus_rules"])
    encoder = None
    if args.dense:
        from rigorlab.disclosure.audit.dense import DenseEncoder

        encoder = DenseEncoder(threads=1)
        dv = cross_validated(dev, group, labels, documents, base, families, encoder=encoder, cache=cache)
        dense_rows = rows_of(dev, labels, dv)
        out["dense"] = report(f"rules + exemplar layer + dense columns (--dense), {protocol}, dev", dense_rows)
        out["dense"]["evidence"] = evidence_at_quote(dev, labels, dv)
        out["dense"]["sure"] = sure_figures(dev, labels, dv)
        out["dense_minus_rules"] = paired_difference(dense_rows, rules_rows)
        out["dense_minus_learned"] = paired_difference(dense_rows, learned_rows)
        print_difference("\ndense - rules", out["dense_minus_rules"])
        print_difference("dense - layer", out["dense_minus_learned"])
    for flag, key, docs, what in ((args.final, "final", test, f"FINAL test split ({', '.join(split['test_families'])})"),
                                  (args.holdout, "holdout", holdout, "HOLDOUT batch")):
        if flag:
            score_unseen(out, key, what, dev, docs, labels, documents, base, families, encoder)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
