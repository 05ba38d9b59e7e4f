"""Fit the exemplar layer (`exemplars.py`) on the hand-labelled audit set.

Training data: the adjudicated labels of the development documents
(`data/audit/splits.json` "dev"; the final test families are never read here
unless `--all` is given). Every feature of a training document is computed the
way it will be at audit time on a document the model never saw: its own
family's exemplars are masked and the indicator base rates are recomputed
without its family (cross-fitting), so the regression does not learn to trust
a perfect self-match.

    python -m rigorlab.disclosure.audit.train_exemplars [--labels data/audit/labels/adjudicated] [--all]

rewrites `exemplar_model.json`; the same inputs give byte-identical output.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from rigorlab.disclosure.audit.classifier import fit_logistic
from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.audit.exemplars import (
    FEATURES,
    MODEL_PATH,
    PRIOR_PSEUDO,
    ExemplarModel,
    Head,
    Vectoriser,
    passage_text,
    tokens,
)
from rigorlab.disclosure.audit.judge import Finding
from rigorlab.disclosure.audit.labelset import Label, default_root, load_labels, load_sources
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_text

L2 = 1.0
_LOC = re.compile(r"^(?P<heading>.*) \(line \d+\)$")


def heading_of(location: str) -> str:
    m = _LOC.match(location or "")
    h = m["heading"] if m else ""
    return "" if h == "top" or h == "(top)" else h


def _priors(labels: dict[str, dict[str, Label]], docs: Iterable[str]
            ) -> tuple[dict[str, tuple[float, float]], tuple[float, float]]:
    """Smoothed per-indicator rates of disclosed and of mentioned (disclosed or vague)."""
    counts: dict[str, list[int]] = {}
    tot = [0, 0, 0]
    for d in docs:
        for ind, lab in labels[d].items():
            c = counts.setdefault(ind, [0, 0, 0])
            c[0] += lab.level == "disclosed"
            c[1] += lab.level != "absent"
            c[2] += 1
            tot[0] += lab.level == "disclosed"
            tot[1] += lab.level != "absent"
            tot[2] += 1
    overall = (tot[0] / max(tot[2], 1), tot[1] / max(tot[2], 1))
    pri = {ind: ((a + PRIOR_PSEUDO * overall[0]) / (n + PRIOR_PSEUDO),
                 (b + PRIOR_PSEUDO * overall[1]) / (n + PRIOR_PSEUDO)) for ind, (a, b, n) in sorted(counts.items())}
    return pri, overall


def fit(train_docs: list[str], labels: dict[str, dict[str, Label]], documents: dict[str, Document],
        base: dict[str, list[Finding]], families: dict[str, str], l2: float = L2) -> ExemplarModel:
    """The exemplar model fitted on `train_docs` (sorted internally: order never matters)."""
    train_docs = sorted(train_docs)
    ex_ind, ex_lv, ex_text, ex_fam = [], [], [], []
    for d in train_docs:
        for ind in sorted(labels[d]):
            lab = labels[d][ind]
            if lab.level != "absent" and lab.quote.strip():
                ex_ind.append(ind)
                ex_lv.append(lab.level)
                ex_text.append(passage_text(lab.quote, heading_of(lab.location)))
                ex_fam.append(families[d])
    vocab_terms = sorted({t for t in (tok for x in ex_text for tok in tokens(x))})
    vocab = {t: i for i, t in enumerate(vocab_terms)}
    # idf over the training documents' passages plus the exemplars: words common in cards weigh little
    df = np.zeros(len(vocab))
    n = 0
    for d in train_docs:
        for p in documents[d].passages:
            n += 1
            for t in set(tokens(p.text)):
                k = vocab.get(t)
                if k is not None:
                    df[k] += 1
    for x in ex_text:
        n += 1
        for t in set(tokens(x)):
            df[vocab[t]] += 1
    idf = np.log((n + 1) / (df + 1)) + 1.0
    vec = Vectoriser(vocab, idf)
    priors, overall = _priors(labels, train_docs)
    model = ExemplarModel(vectoriser=vec, exemplars=vec(ex_text), ex_indicator=ex_ind, ex_level=ex_lv,
                          ex_text=ex_text, priors=priors, overall=overall)
    fam_arr = np.asarray(ex_fam)
    X, yd, ym = [], [], []
    for fam in sorted({families[d] for d in train_docs}):
        inner_docs = [d for d in train_docs if families[d] != fam]
        pri, ov = _priors(labels, inner_docs)
        inner = replace(model, priors={k: pri.get(k, ov) for k in priors}, overall=ov)
        for d in (d for d in train_docs if families[d] == fam):
            rows, keep, _ = inner.features(documents[d], base[d], exclude=fam_arr == fam)
            for r, f in zip(rows, keep):
                lv = labels[d][f.id].level
                X.append(r)
                yd.append(lv == "disclosed")
                ym.append(lv != "absent")
    X = np.asarray(X)
    for name, y in (("disclosed", yd), ("mentioned", ym)):
        mean, scale, w, b = fit_logistic(X, np.asarray(y, dtype=float), l2=l2)
        model.heads[name] = Head(mean, scale, w, b)
    model.meta = {"documents": len(train_docs), "exemplars": len(ex_text), "rows": int(len(X)),
                  "disclosed": int(sum(yd)), "mentioned": int(sum(ym)), "l2": l2,
                  "features": list(FEATURES)}
    return model


def base_findings(doc_ids: list[str], root: Path) -> tuple[dict[str, Document], dict[str, list[Finding]]]:
    """Each document read and judged by the rule judge on DDT and AAD (the layer's input)."""
    from rigorlab.disclosure.audit.classifier import load_model
    from rigorlab.disclosure.audit.judge import judge_document, prepare
    from rigorlab.disclosure.audit.reader import read_document
    from rigorlab.disclosure.frameworks import load_framework

    model = load_model()
    prepared = [p for fw in ("ddt", "aad") for p in prepare(load_framework(fw), model)]
    docs = {d: read_document(root / "docs" / f"{d}.md") for d in doc_ids}
    return docs, {d: judge_document(docs[d], prepared, model) for d in doc_ids}


def train(labels_dir: Path, root: Path, use_all: bool = False) -> ExemplarModel:
    sources = load_sources(root)
    split = json.loads((root / "splits.json").read_text(encoding="utf-8"))
    doc_ids = sorted(sources) if use_all else sorted(split["dev"])
    labels = load_labels(labels_dir, doc_ids)
    docs, base = base_findings(doc_ids, root)
    model = fit(doc_ids, labels, docs, base, {d: sources[d]["family"] for d in doc_ids})
    digest = hashlib.sha256()
    for d in doc_ids:
        digest.update((labels_dir / f"{d}.yaml").read_bytes())
    model.meta.update(split="all" if use_all else "dev", labels_sha256=digest.hexdigest())
    return model


def main(argv: list[str] | None = None) -> int:
    root = default_root()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=root / "labels" / "adjudicated")
    ap.add_argument("--all", action="store_true", help="train on all 40 documents, the final test split included")
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    args = ap.parse_args(argv)
    try:
        model = train(args.labels, root, args.all)
    except UserError as exc:
        print(f"train_exemplars: error: {exc}", file=sys.stderr)
        return 2
    atomic_write_text(args.out, json.dumps(model.to_json(), indent=1, sort_keys=False) + "\n")
    m = model.meta
    print(f"wrote {args.out} ({m['documents']} documents, {m['exemplars']} exemplars, {m['rows']} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
