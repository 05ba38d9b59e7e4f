"""Research harness: leave-one-family-out agreement of variants of the learned exemplar layer.

Why: benchmarks/eval_cards.py measures what ships (rules, the default layer, --dense); this
script measures the variants that were tried and NOT shipped, under the same protocol
(leave-one-family-out on the development documents, every fit inside the fold, the layer
cross-fitted inside it), so the README's table of variants can be re-run:

    python data/audit/tools/variants.py '{"base": {}, "dense": {"dense": 1}, "te": {"te": 1}}'

Variant keys (combine freely): ab (annotators A's and B's own quotes, where their level is the
adjudicated one, as extra exemplars and extra evidence passages of the training documents), dense (MiniLM columns, passages embedded with their innermost
heading, quotes without), sent (TF-IDF similarity at sentence level, max-pooled per passage),
te (per-indicator rate of each human level given the rule judge's level, smoothed, cross-fitted),
reason (the rule judge's reason category as document features), top2 (second-best pair logit and the count of likely passages), docmax (best dense cosines as
document features), tune_threshold (the disclosed threshold that maximises kappa on the
cross-fitted training rows), l2 (pair-stage penalty, or "gb" for scikit-learn's
HistGradientBoostingClassifier; JSON of its settings as the second argument), l2doc.
The first run caches the rule judge's findings and the embeddings under --cache (default
/tmp/rigorlab-variants). Bootstrap intervals here use 500 resamples (eval_cards.py: 2,000).
"""
import os, sys, pickle, json
from pathlib import Path
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO)); sys.path.insert(0, str(REPO / "benchmarks"))
import numpy as np
CACHE_DIR = Path(os.environ.get("RIGORLAB_VARIANTS_CACHE", "/tmp/rigorlab-variants"))


def build_cache() -> None:
    """The dev documents, their labels and rule findings; MiniLM embeddings of passages, questions, quotes."""
    from rigorlab.disclosure.audit.train_exemplars import base_findings, prepared_ddt_aad
    from rigorlab.disclosure.audit.labelset import default_root, load_sources, load_labels
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    root = default_root()
    dev = sorted(json.loads((root / "splits.json").read_text())["dev"])
    sources = load_sources(root)
    labels = load_labels(root / "labels" / "adjudicated", dev)
    docs, base = base_findings(dev, root)
    pickle.dump(dict(dev=dev, fam={d: sources[d]["family"] for d in dev}, labels=labels, docs=docs, base=base),
                open(CACHE_DIR / "dev.pkl", "wb"))
    from rigorlab.disclosure.audit.dense import DenseEncoder
    enc = DenseEncoder(threads=1)
    keys, texts = [], []
    for d in dev:
        for j, p in enumerate(docs[d].passages):
            keys.append((d, j)); texts.append(f"{p.heading_path[-1] if p.heading_path else ''}\n{p.text}")
    prep = prepared_ddt_aad()
    ex = [(d, ind, l.level, l.quote) for d in dev for ind, l in labels[d].items() if l.level != "absent" and l.quote.strip()]
    pickle.dump(dict(keys=keys, E=enc.encode(texts), qids=[p.indicator.id for p in prep],
                     EQ=enc.encode([f"{p.indicator.title}. {p.indicator.question}" for p in prep]),
                     ex=ex, EX=enc.encode([e[3] for e in ex])), open(CACHE_DIR / "emb.pkl", "wb"))


if not (CACHE_DIR / "emb.pkl").is_file():
    build_cache()
from dataclasses import replace
from rigorlab.disclosure.audit.classifier import fit_logistic, _sigmoid
from rigorlab.disclosure.audit.exemplars import ExemplarModel, Head, PAIR_FEATURES
from rigorlab.disclosure.audit.tfidf import Vectoriser, passage_text, tokens
from rigorlab.disclosure.audit.train_exemplars import _priors, pair_targets, heading_of, prepared_ddt_aad, MIN_SIMILARITY
from eval_cards import figures, bootstrap

D = pickle.load(open(CACHE_DIR / "dev.pkl", "rb"))
dev, fam, labels, docs, base = D["dev"], D["fam"], D["labels"], D["docs"], D["base"]
PREP = prepared_ddt_aad()
IND = [p.indicator.id for p in PREP]
EMB = pickle.load(open(CACHE_DIR / "emb.pkl", "rb"))
if EMB:
    kpos = {k: i for i, k in enumerate(EMB["keys"])}
    qpos = {q: i for i, q in enumerate(EMB["qids"])}
    EXD = {(e[0], e[1]): k for k, e in enumerate(EMB["ex"])}

_AB = {}
def annotator_labels(d):
    """Annotators A's and B's own labels of document d (the `ab` variant)."""
    if d not in _AB:
        from rigorlab.disclosure.audit.labelset import default_root, load_labels
        root = default_root() / "labels"
        _AB[d] = [load_labels(root / a, [d])[d] for a in ("annotator_a", "annotator_b")]
    return _AB[d]


def agreeing_quotes(d):
    """(indicator, Label) of A's and B's quotes whose level is the adjudicated one and whose quote differs."""
    out = []
    for labs in annotator_labels(d):
        for ind in sorted(labs):
            lab, ref = labs[ind], labels[d][ind]
            if lab.level == ref.level != "absent" and lab.quote.strip() and lab.quote != ref.quote:
                out.append((ind, lab))
    return out


def tfidf_model(train, ab=False):
    train = sorted(train)
    ex_ind, ex_lv, ex_text, ex_fam, ex_doc = [], [], [], [], []
    for d in train:
        extra = agreeing_quotes(d) if ab else []
        for ind, lab in [(i, labels[d][i]) for i in sorted(labels[d])] + extra:
            if lab.level != "absent" and lab.quote.strip():
                ex_ind.append(ind); ex_lv.append(lab.level)
                ex_text.append(passage_text(lab.quote, heading_of(lab.location))); ex_fam.append(fam[d]); ex_doc.append(d)
    vocab = {t: i for i, t in enumerate(sorted({tok for x in ex_text for tok in tokens(x)}))}
    df = np.zeros(len(vocab)); n = 0
    for text in [p.text for d in train for p in docs[d].passages] + ex_text:
        n += 1
        for t in set(tokens(text)):
            k = vocab.get(t)
            if k is not None: df[k] += 1
    vec = Vectoriser(vocab, np.log((n + 1) / (df + 1)) + 1.0)
    priors, overall = _priors(labels, train)
    m = ExemplarModel(vectoriser=vec, exemplars=vec(ex_text), ex_indicator=ex_ind, ex_level=ex_lv, ex_text=ex_text, priors=priors, overall=overall)
    m._fam = np.asarray(ex_fam); m._doc = ex_doc
    return m

CACHE = {}
def dense_cols(d, block, m, exclude):
    """per indicator: (n,4): max cos disclosed ex, max cos vague ex, cos question, max cos other-indicator ex"""
    usable = [j for j, p in enumerate(docs[d].passages) if p.kind != "code"]
    E = EMB["E"][[kpos[(d, j)] for j in usable]]
    exk = [EXD[(dd, ind)] for dd, ind in zip(m._doc, m.ex_indicator)]
    X = EMB["EX"][exk]
    S = E @ X.T
    if exclude is not None and exclude.any(): S[:, exclude] = -1
    ind_arr = np.asarray(m.ex_indicator); lv_arr = np.asarray(m.ex_level)
    out = {}
    per = {}
    for iid in sorted(set(m.ex_indicator)):
        per[iid] = S[:, ind_arr == iid].max(axis=1)
    allmax = np.stack(list(per.values()), 1); keys = list(per)
    for iid in block.rows:
        md = (ind_arr == iid) & (lv_arr == "disclosed"); mv = (ind_arr == iid) & (lv_arr == "vague")
        sd = S[:, md].max(axis=1) if md.any() else np.zeros(len(E))
        sv = S[:, mv].max(axis=1) if mv.any() else np.zeros(len(E))
        q = E @ EMB["EQ"][qpos[iid]]
        if iid in per:
            k = keys.index(iid); o = np.delete(allmax, k, axis=1).max(axis=1)
        else: o = allmax.max(axis=1)
        out[iid] = np.column_stack([sd, sv, q, np.maximum(sd, sv) - o])
    return out

import re as _re
_SPLIT = _re.compile(r"(?<=[.!?;])\s+|\n+")
SENTS = {}
def sent_cols(d, block, m, exclude):
    """per indicator (n,3): max over the passage's sentences of cos with disclosed / vague exemplars, and of the margin over other indicators"""
    key = d
    if key not in SENTS:
        sl, owner = [], []
        for k, p in enumerate(block.passages):
            parts = [x for x in _SPLIT.split(p.text) if x and len(x.strip()) > 3] or [p.text]
            sl += parts; owner += [k] * len(parts)
        SENTS[key] = (sl, np.asarray(owner))
    sl, owner = SENTS[key]
    V = m.vectoriser(sl)
    S = (V @ m.exemplars.T).toarray()
    if exclude is not None and exclude.any(): S[:, exclude] = 0
    ind_arr = np.asarray(m.ex_indicator); lv_arr = np.asarray(m.ex_level)
    n = len(block.passages)
    def pool(v):
        out = np.zeros(n); np.maximum.at(out, owner, v); return out
    out = {}
    for iid in block.rows:
        md = (ind_arr == iid) & (lv_arr == "disclosed"); mv = (ind_arr == iid) & (lv_arr == "vague")
        sd = S[:, md].max(axis=1) if md.any() else np.zeros(len(sl))
        sv = S[:, mv].max(axis=1) if mv.any() else np.zeros(len(sl))
        oth = S[:, ind_arr != iid].max(axis=1) if (ind_arr != iid).any() else np.zeros(len(sl))
        out[iid] = np.column_stack([pool(sd), pool(sv), pool(np.maximum(sd, sv) - oth)])
    return out

class GB:
    def __init__(self, X, y, **kw):
        from sklearn.ensemble import HistGradientBoostingClassifier
        self.c = HistGradientBoostingClassifier(random_state=0, **kw).fit(X, np.asarray(y, int))
    def predict(self, X):
        return self.c.predict_proba(X)[:, 1]
    def logit(self, X):
        p = np.clip(self.predict(X), 1e-6, 1-1e-6); return np.log(p/(1-p))
GBKW = {}
def heads(X, yd, ym, l2):
    if l2 == "gb":
        return {n: GB(X, y, **GBKW) for n, y in (("disclosed", yd), ("mentioned", ym))}
    return {n: Head(*fit_logistic(X, np.asarray(y, float), l2=l2, iters=50, tol=1e-9)) for n, y in (("disclosed", yd), ("mentioned", ym))}

def fit(train, cfg):
    m = tfidf_model(train, ab=bool(cfg.get("ab")))
    blocks, targets, extra = {}, {}, {}
    for d in train:
        excl = m._fam == fam[d]
        blocks[d] = m.pair_block(docs[d], PREP, exclude=excl, cache=CACHE)
        targets[d] = pair_targets(docs[d], blocks[d].passages, labels[d])
        if cfg.get("ab"):                # A's and B's agreeing quotes mark their passages as evidence too
            for labs in annotator_labels(d):
                agree = {i: l for i, l in labs.items() if l.level == labels[d][i].level}
                for i, y in pair_targets(docs[d], blocks[d].passages, agree).items():
                    targets[d][i] = np.maximum(targets[d][i], y)
        extra[d] = {}
        if cfg.get("dense"):
            extra[d] = dense_cols(d, blocks[d], m, excl)
        if cfg.get("sent"):
            sc = sent_cols(d, blocks[d], m, excl)
            extra[d] = {i: np.column_stack([extra[d][i], sc[i]]) if i in extra[d] else sc[i] for i in sc}
    def rows(d, i):
        R = blocks[d].rows[i]
        if extra[d]: R = np.column_stack([R, extra[d][i]])
        if cfg.get("pair_cols"): R = R[:, cfg["pair_cols"]]
        return R
    def pair_data(ds):
        X = np.concatenate([rows(d, i) for d in ds for i in sorted(blocks[d].rows)])
        y = np.concatenate([targets[d][i] for d in ds for i in sorted(blocks[d].rows)])
        return X, y == 2, y >= 1
    l2 = cfg.get("l2", 1.0)
    ph = heads(*pair_data(train), l2)
    fams = sorted({fam[d] for d in train}); fold_of = {f: k % 5 for k, f in enumerate(fams)}
    R, Y = [], []
    for fold in range(5):
        inner = [d for d in train if fold_of[fam[d]] != fold]; held = [d for d in train if fold_of[fam[d]] == fold]
        if not held: continue
        h = heads(*pair_data(inner), l2); pri, ov = _priors(labels, inner)
        for d in held:
            for f in base[d]:
                R.append(doc_row(d, f, rows(d, f.id), h, pri.get(f.id, ov), cfg, inner_labels=(inner, pri, ov)))
                Y.append(labels[d][f.id].level)
    R = np.asarray(R); Y = np.asarray(Y)
    dh = heads(R, Y == "disclosed", Y != "absent", cfg.get("l2doc", l2))
    model = dict(m=m, ph=ph, dh=dh, rows=rows, priors=_priors(labels, train), train=train)
    if cfg.get("tune_threshold"):
        pd = dh["disclosed"].predict(R)
        ts = np.arange(0.2, 0.71, 0.05)
        from rigorlab.disclosure.audit.labelset import cohen_kappa
        best = max(ts, key=lambda t: (cohen_kappa((Y=="disclosed").astype(int), (pd>=t).astype(int)), -abs(t-.5)))
        model["t"] = best
    return model

def logit(p): p = min(max(p, 1e-4), 1-1e-4); return np.log(p/(1-p))

def doc_row(d, f, Rp, h, pri, cfg, inner_labels=None):
    ld, lm = h["disclosed"].logit(Rp), h["mentioned"].logit(Rp)
    r = [float(f.level == "disclosed"), float(f.level == "vague"), float(f.confidence), float(ld.max()), float(lm.max()), logit(pri[0]), logit(pri[1])]
    if cfg.get("te") and inner_labels is not None:
        r += te_feats(inner_labels[0], f)
    if cfg.get("reason"):            # the rule judge's own explanation, as a category
        r += [float(f.reason.startswith(k)) for k in REASONS]
    if cfg.get("docmax"):
        r += [float(v) for v in Rp[:, -4:-1].max(axis=0)]
    if cfg.get("top2"):
        s = np.sort(ld); r += [float(s[-2]) if len(s) > 1 else -10.0, float(np.log1p((_sigmoid(ld) > 0.3).sum()))]
    return r

REASONS = ("a vague formula", "touches the topic only through a generic word", "mentioned without checkable",
           "specific:", "answers the question", "the document says it does not disclose", "no passage mentions")
TE_CACHE = {}
def te_table(train):
    key = tuple(sorted(train))
    if key in TE_CACHE: return TE_CACHE[key]
    cnt = {}; glob = {}
    for d in train:
        for f in base[d]:
            t = labels[d][f.id].level
            c = cnt.setdefault((f.id, f.level), np.zeros(3)); c[["disclosed","vague","absent"].index(t)] += 1
            g = glob.setdefault(f.level, np.zeros(3)); g[["disclosed","vague","absent"].index(t)] += 1
    TE_CACHE[key] = (cnt, glob); return cnt, glob

def te_feats(train, f, k=3.0):
    cnt, glob = te_table(train)
    g = glob.get(f.level, np.ones(3)); g = g / g.sum()
    c = cnt.get((f.id, f.level), np.zeros(3))
    p = (c + k * g) / (c.sum() + k)
    return [logit(p[0]), logit(p[0] + p[1])]

def predict(model, d, cfg):
    out = {}
    pri, ov = model["priors"]
    for f in base[d]:
        if f.id not in model["m"].priors and False: pass
        r = np.asarray([doc_row(d, f, model["rows"](d, f.id), model["ph"], pri.get(f.id, ov), cfg, inner_labels=(model["train"],))])
        pd, pm = model["dh"]["disclosed"].predict(r)[0], model["dh"]["mentioned"].predict(r)[0]
        t = model.get("t", 0.5)
        out[f.id] = "disclosed" if pd >= t else "vague" if pm >= 0.5 else "absent"
    return out

def lofo(cfg, lodo=False):
    group = {d: d for d in dev} if lodo else fam
    rows = []
    for g in sorted(set(group.values())):
        train = [d for d in dev if group[d] != g]
        model = fit(train, cfg)
        for d in (d for d in dev if group[d] == g):
            # held-out doc: needs pair_block without exclusion using this model's exemplars
            m = model["m"]
            pred = predict_new(model, d, cfg)
            rows += [(d, labels[d][i].framework, labels[d][i].level, pred[i]) for i in sorted(pred)]
    return rows

def predict_new(model, d, cfg):
    m = model["m"]
    blk = m.pair_block(docs[d], PREP, cache=CACHE)
    ex = dense_cols(d, blk, m, None) if cfg.get("dense") else {}
    if cfg.get("sent"):
        sc = sent_cols(d, blk, m, None)
        ex = {i: np.column_stack([ex[i], sc[i]]) if i in ex else sc[i] for i in sc}
    def rows(dd, i):
        R = blk.rows[i]
        if ex: R = np.column_stack([R, ex[i]])
        if cfg.get("pair_cols"): R = R[:, cfg["pair_cols"]]
        return R
    model = dict(model, rows=rows)
    return predict(model, d, cfg)

def show(name, rows):
    a = figures(rows); ci = bootstrap(rows, n=500)
    print(f"{name:40s} kappa {a['kappa_binary']:.3f} {ci['kappa_binary']}  acc3 {a['accuracy_3']:.3f} {ci['accuracy_3']}  k3 {a['kappa_3']:.3f} rec {a['recall_disclosed']:.3f} prec {a['precision_disclosed']:.3f}", flush=True)
    return a

if __name__ == "__main__":
    cfgs = json.loads(sys.argv[1])
    if len(sys.argv) > 2: GBKW.update(json.loads(sys.argv[2]))
    for name, cfg in cfgs.items():
        rows = lofo(cfg); show(name, rows); pickle.dump(rows, open(CACHE_DIR / f"rows_{name}.pkl", "wb"))
