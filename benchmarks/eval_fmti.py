"""Leave-one-developer-out agreement with the FMTI's human scores (Dec 2025 reports).

For each of the six developers: retrain the classifier on the other five
(the indicator base-rate feature and the accepted-answer profiles also leave
the held-out developer out; its labels are never seen), then score the
held-out developer's 100 disclosures:

- classifier:        the model alone on each disclosure text (point iff p >= 0.5);
- classifier-nested: the same with L2 and profile size chosen by an inner
                     leave-one-developer-out over the five training developers;
- auditor:           the full `rigorlab audit` judge (keyword gate, retrieval,
                     model, rules) on each disclosure text alone as a document
                     against fmti-2025 (point iff disclosed): no heading, no
                     context, so the gate must recognise the topic from the
                     answer's own words;
- report:            the full auditor on the developer's whole report as ONE
                     document, each answer under a heading naming its indicator
                     (the FMTI's own report layout, recognised by `layout.py`: each
                     section is judged as that indicator's answer);
- report-plain:      the same document without headings (retrieval must find
                     which paragraph answers which indicator, as in a card).
- questionnaire:     the full auditor on the developer's report as the FMTI lays
                     it out, a CSV of (Indicator, Disclosure) rows read by
                     `questionnaire.py`: each answer judged alone against its own
                     indicator (an empty answer is absent); the justification
                     and score columns are not written.

Also a precision check the agreement figures cannot show: every substantive
answer judged against the 99 other indicators (how often the auditor calls an
unrelated answer a disclosure). Prints accuracy and Cohen's kappa overall, per
developer and per subdomain, beside the target (kappa >= 0.6).
Data: stanford-crfm/fmti, CC BY 4.0.

    python benchmarks/eval_fmti.py [--reference ../shared/reference/fmti] [--json out.json] [--quick] [--profile-fallback]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from rigorlab.disclosure.audit.engine import markdown_document
from rigorlab.disclosure.audit.judge import DocumentJudge, prepare
from rigorlab.disclosure.audit.layout import laid_out_by_indicator
from rigorlab.disclosure.audit.profiles import TOP_TERMS
from rigorlab.disclosure.audit.questionnaire import read_questionnaire
from rigorlab.disclosure.audit.reader import markdown_text
from rigorlab.disclosure.audit.train_fmti import (
    DEFAULT_REFERENCE,
    L2,
    design_matrix,
    fit_model,
    load_examples,
    load_scores,
)
from rigorlab.disclosure.frameworks import load_framework
from rigorlab.disclosure.frameworks.schema import slug

TARGET_KAPPA = 0.6
MODES = ("classifier", "auditor", "report", "report-plain", "questionnaire")
NESTED_GRID = [(l2, k) for l2 in (0.3, 1.0, 3.0) for k in (20, 40, 80)]


def cohen_kappa(y: np.ndarray, p: np.ndarray) -> float:
    """Cohen's kappa of two binary label vectors: (p_o - p_e) / (1 - p_e)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    po = float(np.mean(y == p))
    pe = float(np.mean(y) * np.mean(p) + (1 - np.mean(y)) * (1 - np.mean(p)))
    return 0.0 if pe >= 1.0 else (po - pe) / (1.0 - pe)


def auditor_point(judge_model, fw, name: str, text: str, cache: dict) -> int:
    """1 when the auditor judges the disclosure text 'disclosed' for that FMTI indicator."""
    doc = markdown_text(text, "<disclosure>", "text")
    if not doc.passages:
        return 0
    prep = cache[slug(name)]
    return int(DocumentJudge(doc, judge_model).judge(prep).level == "disclosed")


def cross_indicator(model, prepared: list, examples: list, idx) -> tuple[int, int, int]:
    """Precision check: each substantive answer judged against the OTHER 99 FMTI indicators.

    Returns (pairs, judged disclosed, candidates found). An answer about compute providers that the
    auditor calls a disclosure of, say, whistle-blower protection is a false positive that the
    answer-only evaluation above cannot see; some pairs are genuinely related (compute hardware and
    compute usage), so this bounds the off-topic disclosure rate from above."""
    pairs = disclosed = found = 0
    for i in idx:
        ex = examples[i]
        doc = markdown_text(ex.disclosure, "<disclosure>", "text")
        if not doc.passages or not ex.disclosure.strip():
            continue
        judge = DocumentJudge(doc, model)
        own = slug(ex.indicator)
        for prep in prepared:
            if slug(prep.indicator.id) == own:
                continue
            f = judge.judge(prep)
            pairs += 1
            disclosed += f.level == "disclosed"
            found += f.level != "absent"
    return pairs, disclosed, found


def report_points(model, prepared: list, examples: list, idx, headings: bool,
                  sure: dict[int, bool | None] | None = None) -> dict[int, int]:
    """Audit the held-out developer's whole report as ONE document: every answer under a heading
    that names its indicator (the layout of the FMTI's published transparency reports), or, with
    `headings=False`, all answers as consecutive paragraphs (what a model card looks like to the
    retrieval: the auditor has to find which paragraph answers which indicator)."""
    parts = [f"# {examples[idx[0]].developer} transparency report", ""]
    for i in idx:
        if headings:
            parts += [f"## {examples[i].indicator}", ""]
        if examples[i].disclosure.strip():
            parts += [examples[i].disclosure.strip(), ""]
    doc = markdown_document("\n".join(parts), "<report>")           # as `rigorlab audit` reads a .md file
    judge = DocumentJudge(laid_out_by_indicator(doc, [load_framework("fmti-2025")]), model)
    return _points(judge, prepared, examples, idx, sure)


def _points(judge: DocumentJudge, prepared: list, examples: list, idx, sure: dict | None) -> dict[int, int]:
    """Each example's point (disclosed) from the judge; its `sure` mark into `sure` when given."""
    found = {slug(p.indicator.id): judge.judge(p) for p in prepared}
    if sure is not None:
        sure.update({int(i): found[slug(examples[i].indicator)].sure for i in idx})
    return {int(i): int(found[slug(examples[i].indicator)].level == "disclosed") for i in idx}


def questionnaire_points(model, prepared: list, examples: list, idx,
                         sure: dict[int, bool | None] | None = None) -> dict[int, int]:
    """Audit the held-out developer's report as the FMTI's CSV (Indicator and Disclosure columns
    only), read by `rigorlab audit report.csv`: each indicator judged on its own answer."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["Indicator", "Disclosure"])
    for i in idx:
        w.writerow([examples[i].indicator, examples[i].disclosure])
    doc = read_questionnaire(buf.getvalue(), "<report.csv>")
    return _points(DocumentJudge(doc, model), prepared, examples, idx, sure)


def nested_choice(train: list, scores: dict, held_out: str) -> tuple[float, int]:
    """(l2, top_terms) with the best leave-one-developer-out kappa INSIDE the training developers
    (the held-out developer's labels are never seen); ties go to the shipped defaults."""
    devs = sorted({e.developer for e in train})
    y = np.array([e.label for e in train])
    best, best_k = (L2, TOP_TERMS), -2.0
    for params in [(L2, TOP_TERMS)] + [g for g in NESTED_GRID if g != (L2, TOP_TERMS)]:
        pred = np.zeros(len(train), dtype=int)
        for d in devs:
            inner = [e for e in train if e.developer != d]
            idx = [i for i, e in enumerate(train) if e.developer == d]
            m = fit_model(inner, scores, exclude={held_out, d}, l2=params[0], top_terms=params[1])
            X, triv = design_matrix([train[i] for i in idx], scores, {held_out, d}, m.profiles)
            pred[idx] = (m.predict_rows(X, triv) >= m.threshold).astype(int)
        k = cohen_kappa(y, pred)
        if k > best_k + 1e-12:
            best, best_k = params, k
    return best


def evaluate(reference: Path, cross: bool = True, nested: bool = True) -> dict:
    examples = load_examples(reference)
    scores = load_scores(reference)
    fw = load_framework("fmti-2025")
    y = np.array([e.label for e in examples])
    devs = np.array([e.developer for e in examples])
    modes = MODES + (("classifier-nested",) if nested else ())
    pred = {m: np.zeros(len(y), dtype=int) for m in modes}
    chosen: dict[str, dict] = {}
    sure: dict[str, dict[int, bool | None]] = {m: {} for m in ("report", "report-plain", "questionnaire")}
    cross_counts = [0, 0, 0]
    for d in sorted(set(devs)):
        train = [e for e, dv in zip(examples, devs) if dv != d]
        test_idx = np.flatnonzero(devs == d)
        model = fit_model(train, scores, exclude={d}, choose_sure=True)   # its sure margin: from the five alone
        X, trivial = design_matrix([examples[i] for i in test_idx], scores, {d}, model.profiles)
        pred["classifier"][test_idx] = (model.predict_rows(X, trivial) >= model.threshold).astype(int)
        if nested:
            l2, top = nested_choice(train, scores, d)
            chosen[str(d)] = {"l2": l2, "top_terms": top}
            m2 = fit_model(train, scores, exclude={d}, l2=l2, top_terms=top)
            X2, triv2 = design_matrix([examples[i] for i in test_idx], scores, {d}, m2.profiles)
            pred["classifier-nested"][test_idx] = (m2.predict_rows(X2, triv2) >= m2.threshold).astype(int)
        prepared = prepare(fw, model)
        cache = {slug(p.indicator.id): p for p in prepared}
        for i in test_idx:
            pred["auditor"][i] = auditor_point(model, fw, examples[i].indicator, examples[i].disclosure, cache)
        for mode, h in (("report", True), ("report-plain", False)):
            for i, v in report_points(model, prepared, examples, test_idx, h, sure[mode]).items():
                pred[mode][i] = v
        for i, v in questionnaire_points(model, prepared, examples, test_idx, sure["questionnaire"]).items():
            pred["questionnaire"][i] = v
        if cross:
            c = cross_indicator(model, prepared, examples, test_idx)
            cross_counts = [a + b for a, b in zip(cross_counts, c)]
    out: dict = {"n": len(y), "human_positive_rate": float(y.mean()), "target_kappa": TARGET_KAPPA}
    if nested:
        out["nested_choice"] = chosen
    if cross:
        n, d, f = cross_counts
        out["cross_indicator"] = {"pairs": n, "disclosed_rate": d / max(n, 1), "found_rate": f / max(n, 1)}
    for mode, p in pred.items():
        groups: dict[str, dict[str, list[int]]] = {"developer": defaultdict(list), "subdomain": defaultdict(list)}
        for i, e in enumerate(examples):
            groups["developer"][e.developer].append(i)
            groups["subdomain"][e.subdomain].append(i)
        out[mode] = {
            "accuracy": float(np.mean(p == y)), "kappa": cohen_kappa(y, p), "positive_rate": float(p.mean()),
            **{g: {k: {"n": len(ix), "accuracy": float(np.mean(p[ix] == y[ix])), "kappa": cohen_kappa(y[ix], p[ix])}
                   for k, ix in sorted(v.items())} for g, v in groups.items()},
        }
        if mode in sure:
            on = np.asarray([sure[mode].get(i) is True for i in range(len(y))])
            out[mode]["sure"] = {"share": float(on.mean()),
                                 **({"accuracy": float(np.mean(p[on] == y[on])), "kappa": cohen_kappa(y[on], p[on])}
                                    if on.any() else {}),
                                 **({"check_accuracy": float(np.mean(p[~on] == y[~on])),
                                     "check_kappa": cohen_kappa(y[~on], p[~on])} if (~on).any() else {}),
                                 "developer": {k: {"share": float(on[ix].mean()),
                                                   "kappa": cohen_kappa(y[ix][on[ix]], p[ix][on[ix]]),
                                                   "accuracy": float(np.mean(p[ix][on[ix]] == y[ix][on[ix]]))}
                                               for k, ix in sorted(groups["developer"].items()) if on[ix].any()}}
    return out


DESCRIPTIONS = {
    "classifier": "the model alone on each answer text (shipped L2 and profile size)",
    "classifier-nested": "the same, L2 and profile size chosen by LODO inside the training developers",
    "auditor": "full auditor, each answer alone as a document (no heading, no context)",
    "report": "full auditor, the developer's 100 answers as one document, each under its indicator's name",
    "report-plain": "full auditor, the developer's 100 answers as one document, no headings",
    "questionnaire": "full auditor, the report as the FMTI's CSV: each answer alone against its indicator",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Leave-one-developer-out agreement with FMTI human scores.")
    ap.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--quick", action="store_true", help="skip the nested selection and the cross-indicator check")
    ap.add_argument("--profile-fallback", action="store_true",
                    help="measure the judge's answer-profile fallback (judge.PROFILE_FALLBACK, off by default): an "
                         "FMTI indicator no keyword names is judged on the passage that reads most like its "
                         "accepted answers")
    args = ap.parse_args(argv)
    if args.profile_fallback:
        from rigorlab.disclosure.audit import judge as judge_module

        judge_module.PROFILE_FALLBACK = True
        print("judge.PROFILE_FALLBACK on (not the shipped default)\n")
    if not (args.reference / "reports").is_dir():
        print(f"eval_fmti: FMTI reference data not found at {args.reference}", file=sys.stderr)
        return 2
    r = evaluate(args.reference, cross=not args.quick, nested=not args.quick)
    modes = [m for m in DESCRIPTIONS if m in r]
    print(f"FMTI Dec 2025 reports: {r['n']} (developer, indicator) pairs, human 'disclosed' rate "
          f"{r['human_positive_rate']:.2f}; leave-one-developer-out (retrained without the developer scored).\n")
    print(f"{'mode':18s} {'acc':>6s} {'kappa':>6s} {'ratio':>6s} {'rate':>5s}  what is judged (target kappa >= {TARGET_KAPPA})")
    for m in modes:
        v = r[m]
        print(f"{m:18s} {v['accuracy']:6.3f} {v['kappa']:6.3f} {v['kappa'] / TARGET_KAPPA:6.2f} "
              f"{v['positive_rate']:5.2f}  {DESCRIPTIONS[m]}")
    print("\nsure findings (the answers each held-out developer's model marks sure; its margin chosen by "
          "leave-one-developer-out over the five training developers only):")
    for m in modes:
        v = r[m].get("sure")
        if v and "kappa" in v:
            print(f"  {m:16s} share {v['share']:.2f}: acc {v['accuracy']:.3f} kappa {v['kappa']:.3f}   "
                  f"the rest (check): acc {v.get('check_accuracy', float('nan')):.3f} "
                  f"kappa {v.get('check_kappa', float('nan')):.3f}")
            print("    per developer (share, kappa, accuracy): " + "; ".join(
                f"{k} {x['share']:.2f} {x['kappa']:.2f} {x['accuracy']:.2f}" for k, x in v["developer"].items()))
    if "nested_choice" in r:
        print("  nested choice (l2, terms) per held-out developer: "
              + ", ".join(f"{d} ({c['l2']:g}, {c['top_terms']})" for d, c in r["nested_choice"].items()))
    if "cross_indicator" in r:
        c = r["cross_indicator"]
        print(f"\nprecision check: each substantive answer judged against the 99 OTHER indicators ({c['pairs']} "
              f"pairs): disclosed {100 * c['disclosed_rate']:.2f}%, found (vague or disclosed) "
              f"{100 * c['found_rate']:.2f}%")
    cols = [m for m in ("classifier", "auditor", "report", "report-plain", "questionnaire") if m in r]
    for g in ("developer", "subdomain"):
        print(f"\naccuracy / kappa per {g}:")
        print(f"  {'':28s} {'n':>4s} " + " ".join(f"{c:>13s}" for c in cols))
        for k, v in r[cols[0]][g].items():
            print(f"  {k:28s} {v['n']:4d} "
                  + " ".join(f"{r[c][g][k]['accuracy']:7.2f}{r[c][g][k]['kappa']:+6.2f}" for c in cols))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
