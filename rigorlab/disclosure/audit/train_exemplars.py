"""Fit the exemplar layer (`exemplars.py`) on the hand-labelled audit set.

Training data: the adjudicated labels of the development documents
(`data/audit/splits.json` "dev"; the final test families are never read here
unless `--all` is given). Every feature of a training document is computed the
way it will be at audit time on a document the model never saw: its own
family's exemplars are masked and the indicator base rates are recomputed
without its family (cross-fitting), so the regression does not learn to trust
a perfect self-match.

    python -m rigorlab.disclosure.audit.train_exemplars [--labels data/audit/labels/adjudicated] [--all] [--dense]

rewrites `exemplar_model.json` (with `--dense`: `exemplar_model_dense.json`, the
embedding columns of `dense.py` added); the same inputs give byte-identical output.
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
from scipy import sparse

from rigorlab.disclosure.audit.classifier import fit_logistic
from rigorlab.disclosure.audit.dense import DenseEncoder
from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.audit.exemplars import (
    PAIR_FEATURES,
    DENSE_MODEL_PATH,
    MODEL_PATH,
    PRIOR_PSEUDO,
    ExemplarModel,
    Head,
    cut_levels,
    level_margin,
    usable_passages,
)
from rigorlab.disclosure.audit.judge import Finding, PreparedIndicator, prepare
from rigorlab.disclosure.audit.lexical import C as LEXICAL_C
from rigorlab.disclosure.audit.lexical import LexicalScorers, fit_lexical
from rigorlab.disclosure.audit.sure import choose_margin
from rigorlab.disclosure.audit.tfidf import Vectoriser, passage_text, tokens
from rigorlab.disclosure.audit.labelset import Label, cohen_kappa, default_root, load_labels, load_sources
from rigorlab.errors import UserError
from rigorlab.io import atomic_write_text

L2 = 1.0
MIN_SIMILARITY = 0.05   # pairs below this similarity and without keywords are not fitted on
INNER_FOLDS = 5       # cross-fitting folds of whole families for the document stage
THRESHOLD_GRID = tuple(round(0.2 + 0.025 * k, 3) for k in range(21))   # candidate cuts, 0.20 ... 0.70
_LOC = re.compile(r"^(?P<heading>.*) \(line \d+\)$")
_LINE = re.compile(r"\(line (\d+)\)$")


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


def pair_targets(doc: Document, block_passages: list, labels: dict[str, Label]) -> dict[str, np.ndarray]:
    """Per indicator, the level of each usable passage as evidence: 2 disclosed, 1 vague, 0 neither
    (the passage holding the labelled quote's first line carries the label)."""
    out = {}
    for ind, lab in labels.items():
        y = np.zeros(len(block_passages), dtype=int)
        m = _LINE.search(lab.location or "")
        if lab.level != "absent" and m:
            n = int(m[1])
            for k, p in enumerate(block_passages):
                if p.line_start <= n <= p.line_end:
                    y[k] = 2 if lab.level == "disclosed" else 1
        out[ind] = y
    return out


def _fit_heads(X: np.ndarray, yd: np.ndarray, ym: np.ndarray, l2: float) -> dict[str, Head]:
    heads = {}
    for name, y in (("disclosed", yd), ("mentioned", ym)):
        mean, scale, w, b = fit_logistic(X, np.asarray(y, dtype=float), l2=l2, iters=50, tol=1e-9)
        heads[name] = Head(mean, scale, w, b)
    return heads


def fit(train_docs: list[str], labels: dict[str, dict[str, Label]], documents: dict[str, Document],
        base: dict[str, list[Finding]], families: dict[str, str], prepared: list[PreparedIndicator],
        l2: float = L2, cache: dict | None = None, encoder: DenseEncoder | None = None) -> ExemplarModel:
    """Both stages fitted on `train_docs` (sorted internally: order never matters).

    Cross-fitting: a training document's pair features never use its own family's exemplars, and its
    document-stage row comes from a pair model fitted without its family (INNER_FOLDS folds of whole
    families) and from base rates computed without its family, so both stages see at training time
    what they will see on a new document. `encoder`: add the dense columns (`dense.py`) to the pair rows."""
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
    vocab = {t: i for i, t in enumerate(sorted({tok for x in ex_text for tok in tokens(x)}))}
    # idf over the training documents' passages plus the exemplars: words common in cards weigh little
    df = np.zeros(len(vocab))
    n = 0
    for text in [p.text for d in train_docs for p in documents[d].passages] + ex_text:
        n += 1
        for t in set(tokens(text)):
            k = vocab.get(t)
            if k is not None:
                df[k] += 1
    vec = Vectoriser(vocab, np.log((n + 1) / (df + 1)) + 1.0)
    priors, overall = _priors(labels, train_docs)
    model = ExemplarModel(vectoriser=vec, exemplars=vec(ex_text), ex_indicator=ex_ind, ex_level=ex_lv,
                          ex_text=ex_text, priors=priors, overall=overall, dense=encoder is not None,
                          encoder=encoder)
    fam_arr = np.asarray(ex_fam)
    fams = sorted({families[d] for d in train_docs})
    fold_of = {f: k % INNER_FOLDS for k, f in enumerate(fams)}      # families dealt round-robin
    # the lexical scorers (`lexical.py`): a training document's `lexical` column comes from scorers
    # fitted without its fold, as the doc stage's rows below; the model keeps scorers fitted on all
    usable = {d: usable_passages(documents[d]) for d in train_docs}
    targets = {d: pair_targets(documents[d], usable[d], labels[d]) for d in train_docs}
    tfidf = {d: vec([passage_text(p.text, p.heading_path[-1] if p.heading_path else "") for p in usable[d]])
             for d in train_docs}
    model.lexical = lexical_scorers(train_docs, tfidf, targets)
    by_fold = {k: lexical_scorers([d for d in train_docs if fold_of[families[d]] != k], tfidf, targets)
               for k in sorted(set(fold_of.values()))}
    blocks = {d: model.pair_block(documents[d], prepared, exclude=fam_arr == families[d], cache=cache,
                                  lexical=by_fold[fold_of[families[d]]]) for d in train_docs}

    def pair_data(docs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        X = [blocks[d].rows[i] for d in docs for i in sorted(blocks[d].rows)]
        y = [targets[d][i] for d in docs for i in sorted(blocks[d].rows)]
        X = np.concatenate(X) if X else np.zeros((0, len(model.pair_features)))
        y = np.concatenate(y) if y else np.zeros(0, dtype=int)
        # Pairs with no similarity to the indicator's exemplars and none of its keywords are never
        # evidence in the labels; leaving them out of the fit keeps it fast (they still get scored).
        sim, kw = PAIR_FEATURES.index("sim_disclosed"), PAIR_FEATURES.index("keyword")
        simv = PAIR_FEATURES.index("sim_vague")
        keep = (X[:, sim] >= MIN_SIMILARITY) | (X[:, simv] >= MIN_SIMILARITY) | (X[:, kw] > 0) | (y > 0)
        return X[keep], y[keep] == 2, y[keep] >= 1

    Xp, yd, ym = pair_data(train_docs)
    model.pair_heads = _fit_heads(Xp, yd, ym, l2)
    rows, dd, dm = [], [], []
    for fold in range(min(INNER_FOLDS, len(fams))):
        inner_docs = [d for d in train_docs if fold_of[families[d]] != fold]
        held = [d for d in train_docs if fold_of[families[d]] == fold]
        if inner_docs:
            heads = _fit_heads(*pair_data(inner_docs), l2)
            pri, ov = _priors(labels, inner_docs)
        else:                                   # a single family: nothing to cross-fit on
            heads, pri, ov = model.pair_heads, priors, overall
        inner = replace(model, priors={k: pri.get(k, ov) for k in priors}, overall=ov)
        for d in held:
            X, keep, _ = inner.doc_rows(blocks[d], base[d], heads)
            for r, f in zip(X, keep):
                lv = labels[d][f.id].level
                rows.append(r)
                dd.append(lv == "disclosed")
                dm.append(lv != "absent")
    model.doc_heads = _fit_heads(np.asarray(rows), np.asarray(dd), np.asarray(dm), l2)
    pd, pm = model.probabilities(np.asarray(rows))
    model.thresholds = choose_thresholds(pd, pm, np.asarray(dd), np.asarray(dm))
    model.sure = choose_sure_margin(pd, pm, np.asarray(dd), np.asarray(dm), model.thresholds)
    model.meta = {"documents": len(train_docs), "families": len(fams), "exemplars": len(ex_text),
                  "pair_rows": int(len(Xp)), "doc_rows": len(rows), "disclosed": int(sum(dd)),
                  "mentioned": int(sum(dm)), "l2": l2,
                  "thresholds": "chosen on the cross-fitted rows (choose_thresholds)",
                  "sure": "the smallest margin at which the cross-fitted rows reach the targets (choose_sure_margin)",
                  "lexical": f"{len(model.lexical.indicators)} indicators' word weights (lexical.py, C={LEXICAL_C}); "
                             "training rows scored by weights fitted without their fold"}
    return model


def lexical_scorers(docs: list[str], tfidf: dict[str, sparse.csr_matrix], targets: dict[str, dict[str, np.ndarray]]
                    ) -> LexicalScorers:
    """`lexical.fit_lexical` on the usable passages of `docs` (no documents: no scorers)."""
    width = next(iter(tfidf.values())).shape[1] if tfidf else 0
    docs = [d for d in docs if tfidf[d].shape[0]]
    if not docs:
        return LexicalScorers.empty(width)
    inds = sorted({i for d in docs for i in targets[d]})
    y = {i: np.concatenate([targets[d].get(i, np.zeros(tfidf[d].shape[0], dtype=int)) for d in docs]) for i in inds}
    return fit_lexical(sparse.vstack([tfidf[d] for d in docs]).tocsr(), y)


def choose_thresholds(pd: np.ndarray, pm: np.ndarray, disclosed: np.ndarray, mentioned: np.ndarray
                      ) -> tuple[float, float]:
    """The document stage's two cuts, from its cross-fitted rows (what it will see on new documents):
    the cut on P(disclosed) with the best kappa of disclosed-vs-not, then the cut on P(mentioned) with
    the best three-level accuracy; on `THRESHOLD_GRID`, ties to the cut nearest 0.5 (the plain
    decision rule). Why: with P >= 0.5 the layer calls fewer items disclosed than people do (it
    misses, it rarely invents), and kappa rewards matching how often people say disclosed."""
    truth = ["disclosed" if a else "vague" if b else "absent" for a, b in zip(disclosed, mentioned)]
    order = sorted(THRESHOLD_GRID, key=lambda t: (abs(t - 0.5), t))
    y = [int(a) for a in disclosed]
    t_d = max(order, key=lambda t: cohen_kappa(y, [int(p >= t) for p in pd]))
    t_m = max(order, key=lambda t: float(np.mean([a == b for a, b in zip(truth, cut_levels(pd, pm, t_d, t))])))
    return float(t_d), float(t_m)


def choose_sure_margin(pd: np.ndarray, pm: np.ndarray, disclosed: np.ndarray, mentioned: np.ndarray,
                       thresholds: tuple[float, float]) -> dict[str, float] | None:
    """The layer's sure margin (`sure.choose_margin`) on its cross-fitted rows, each at the level its
    cuts give and that level's `layer_parts.level_margin`."""
    truth = ["disclosed" if a else "vague" if b else "absent" for a, b in zip(disclosed, mentioned)]
    pred = cut_levels(pd, pm, *thresholds)
    margin = np.asarray([level_margin(lv, a, b, *thresholds) for lv, a, b in zip(pred, pd, pm)])
    return choose_margin(margin, truth, pred)


def prepared_ddt_aad() -> list[PreparedIndicator]:
    from rigorlab.disclosure.audit.classifier import load_model
    from rigorlab.disclosure.frameworks import load_framework

    model = load_model()
    return [p for fw in ("ddt", "aad") for p in prepare(load_framework(fw), model)]


def base_findings(doc_ids: list[str], root: Path) -> tuple[dict[str, Document], dict[str, list[Finding]]]:
    """Each document read (as the auditor reads it, `layout.py` included) and judged by the rule judge on
    DDT and AAD (the layer's input)."""
    from rigorlab.disclosure.audit.classifier import load_model
    from rigorlab.disclosure.audit.judge import judge_document
    from rigorlab.disclosure.audit.layout import laid_out_by_indicator
    from rigorlab.disclosure.audit.reader import read_document
    from rigorlab.disclosure.frameworks import load_framework

    model = load_model()
    prepared = prepared_ddt_aad()
    frameworks = [load_framework("ddt"), load_framework("aad")]
    docs = {d: laid_out_by_indicator(read_document(root / "docs" / f"{d}.md"), frameworks) for d in doc_ids}
    return docs, {d: judge_document(docs[d], prepared, model) for d in doc_ids}


def train(labels_dir: Path, root: Path, use_all: bool = False, dense: bool = False) -> ExemplarModel:
    sources = load_sources(root)
    split = json.loads((root / "splits.json").read_text(encoding="utf-8"))
    doc_ids = sorted(sources) if use_all else sorted(split["dev"])
    labels = load_labels(labels_dir, doc_ids)
    docs, base = base_findings(doc_ids, root)
    # one torch thread: the embeddings, hence the fitted weights, are the same bytes on every run
    encoder = DenseEncoder(threads=1) if dense else None
    model = fit(doc_ids, labels, docs, base, {d: sources[d]["family"] for d in doc_ids}, prepared_ddt_aad(),
                encoder=encoder)
    digest = hashlib.sha256()
    for d in doc_ids:
        digest.update((labels_dir / f"{d}.yaml").read_bytes())
    model.meta.update(split="all" if use_all else "dev", labels_sha256=digest.hexdigest())
    return model


def main(argv: list[str] | None = None) -> int:
    root = default_root()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, default=root / "labels" / "adjudicated")
    ap.add_argument("--all", action="store_true",
                    help="train on every labelled document, the final test split and the holdout batch included")
    ap.add_argument("--dense", action="store_true", help="with the embedding columns (dense.py); writes "
                                                         f"{DENSE_MODEL_PATH.name} unless --out")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    args.out = args.out or (DENSE_MODEL_PATH if args.dense else MODEL_PATH)
    try:
        model = train(args.labels, root, args.all, args.dense)
    except UserError as exc:
        print(f"train_exemplars: error: {exc}", file=sys.stderr)
        return 2
    atomic_write_text(args.out, json.dumps(model.to_json(), separators=(",", ":")) + "\n")   # compact: the word weights are long
    m = model.meta
    print(f"wrote {args.out} ({m['documents']} documents, {m['exemplars']} exemplars, {m['pair_rows']} pairs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
