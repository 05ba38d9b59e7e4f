"""The labelled-set reader, Cohen's kappa, and the learned exemplar layer of the auditor."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rigorlab.disclosure.audit.exemplars import MODEL_PATH, ExemplarModel, load_exemplar_model
from rigorlab.disclosure.audit.labelset import (
    LEVELS, binary, cohen_kappa, confusion, default_root, load_labels, load_sources,
)
from rigorlab.errors import UserError

ROOT = default_root()


def test_kappa_matches_scikit_learn_on_random_labelings():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = rng.choice(LEVELS, size=200, p=[0.2, 0.2, 0.6])
        b = np.where(rng.random(200) < 0.7, a, rng.choice(LEVELS, size=200))
        assert cohen_kappa(a, b) == pytest.approx(sk.cohen_kappa_score(a, b), abs=1e-12)
        assert cohen_kappa(binary(a), binary(b)) == pytest.approx(
            sk.cohen_kappa_score(binary(a), binary(b)), abs=1e-12)


def test_kappa_extremes_and_confusion():
    y = ["disclosed", "vague", "absent", "absent"]
    assert cohen_kappa(y, y) == 1.0
    assert cohen_kappa(["absent"] * 4, ["absent"] * 4) == 0.0          # p_e = 1: defined as 0
    m = confusion(y, ["vague", "vague", "absent", "disclosed"])
    assert m.tolist() == [[0, 1, 0], [0, 1, 0], [1, 0, 1]]


def test_labelled_set_is_complete_and_adjudicated():
    sources = load_sources(ROOT)
    assert len(sources) == 323 + len(json.loads((ROOT / "splits.json").read_text(encoding="utf-8"))["holdout"])
    adj = load_labels(ROOT / "labels" / "adjudicated")
    assert set(adj) == set(sources)
    for doc, labs in adj.items():
        assert len(labs) == 48, doc
        for lab in labs.values():
            assert lab.adjudication in ("agreed", "a", "b", "new")
            assert (lab.adjudication == "agreed") == (not lab.reason), (doc, lab.indicator)
            if lab.level != "absent":
                assert lab.quote in (ROOT / "docs" / f"{doc}.md").read_text(encoding="utf-8")


def test_split_holds_out_whole_families():
    split = json.loads((ROOT / "splits.json").read_text(encoding="utf-8"))
    fam = {d: r["family"] for d, r in load_sources(ROOT).items()}
    dev, test, holdout = set(split["dev"]), set(split["test"]), set(split["holdout"])
    assert dev | test | holdout == set(fam) and not dev & test and not (dev | test) & holdout
    assert {fam[d] for d in split["test"]} == set(split["test_families"])
    assert not {fam[d] for d in split["dev"]} & set(split["test_families"])
    # the second batch is part of dev and comes from families the earlier documents do not hold
    fresh = set(split["fresh"])
    assert len(fresh) == 20 and fresh <= set(split["dev"])
    assert not {fam[d] for d in fresh} & {fam[d] for d in set(fam) - fresh}
    # the third batch, scored once as a holdout, then joined dev like the second
    assert set(split["holdout_earlier"]) <= dev
    assert not {fam[d] for d in split["holdout_earlier"]} & {fam[d] for d in set(fam) - set(split["holdout_earlier"])}
    # the fourth to eighteenth batches, each scored once as (part of) the holdout, then joined dev like the third
    for key, n in (("holdout_batch4", 20), ("holdout_batch5", 18), ("holdout_batch6", 19), ("holdout_batch7", 18),
                   ("holdout_batch8", 19), ("holdout_batch9", 19), ("holdout_batch10", 17), ("holdout_batch11", 19),
                   ("holdout_batch12", 18), ("holdout_batch13", 17), ("holdout_batch14", 14), ("holdout_batch15", 14),
                   ("holdout_batch16", 10), ("holdout_batch17", 10), ("holdout_batch18", 12)):
        batch = set(split[key])
        assert len(batch) == n and batch <= dev
        assert not {fam[d] for d in batch} & {fam[d] for d in set(fam) - batch}
    # the held-out nineteenth to twenty-first batches: new families too, never in the layer's training set
    # (test below); each listed apart as well, to be scored alone
    assert len(holdout) == 25 and not {fam[d] for d in holdout} & {fam[d] for d in dev | test}
    batches = [set(split[f"holdout_batch{k}"]) for k in (19, 20, 21)]
    assert [len(b) for b in batches] == [10, 9, 6] and set().union(*batches) == holdout
    for i, a in enumerate(batches):
        for b in batches[i + 1:]:
            assert not a & b and not {fam[d] for d in a} & {fam[d] for d in b}


def test_thresholds_are_chosen_on_training_rows_for_kappa_then_accuracy():
    """An under-confident document stage (people say disclosed where P(disclosed) is only 0.3-0.45):
    the cut on P(disclosed) moves down to where kappa is best, not to 0.5, and a tie goes to the cut
    nearest 0.5; the mentioned cut then maximises three-level accuracy."""
    from rigorlab.disclosure.audit.exemplars import cut_levels
    from rigorlab.disclosure.audit.train_exemplars import THRESHOLD_GRID, choose_thresholds

    rng = np.random.default_rng(0)
    n = 400
    truth = rng.choice(["disclosed", "vague", "absent"], size=n, p=[0.3, 0.3, 0.4])
    pd = np.where(truth == "disclosed", rng.uniform(0.3, 0.45, n), rng.uniform(0.0, 0.25, n))
    pm = np.where(truth == "absent", rng.uniform(0.0, 0.35, n), rng.uniform(0.4, 0.9, n))
    t_d, t_m = choose_thresholds(pd, pm, truth == "disclosed", truth != "absent")
    assert 0.25 < t_d <= 0.3 and 0.35 < t_m <= 0.4
    got = cut_levels(pd, pm, t_d, t_m)
    assert np.mean(np.asarray(got) == truth) == 1.0
    assert cut_levels(pd, pm, 0.5, 0.5).count("disclosed") == 0          # the plain rule misses them all
    # nothing separates the classes: every cut scores the same, so the tie goes to 0.5
    flat = np.full(n, 0.9)
    assert choose_thresholds(flat, flat, truth == "disclosed", truth != "absent")[0] == 0.5
    assert min(THRESHOLD_GRID) == 0.2 and max(THRESHOLD_GRID) == 0.7


def test_evidence_at_quote_counts_the_passage_people_quoted():
    """eval_cards' evidence figure: only items both call mentioned count; a hit is an evidence passage
    whose lines hold the first line of people's quote (or any line of a quote spanning lines)."""
    import importlib.util
    from pathlib import Path

    from rigorlab.disclosure.audit.judge import Finding
    from rigorlab.disclosure.audit.labelset import Label

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "eval_cards.py"
    spec = importlib.util.spec_from_file_location("eval_cards_under_test", path)
    ec = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ec)

    def f(i, level, lines, quote="q"):
        return Finding("d", "ddt", i, i, "", 1.0, level, quote if lines else "",
                       {"file": "d", "heading": "", "lines": list(lines)} if lines else None)

    said = "The model was trained on 2T tokens of filtered web text and code."
    labels = {"d": {"A": Label("ddt", "A", "disclosed", said, "H (line 10)"),
                    "B": Label("ddt", "B", "vague", "x\ny", "H (line 19)"),       # spans 19-20
                    "C": Label("ddt", "C", "disclosed", "x", "H (line 30)"),
                    "D": Label("ddt", "D", "absent", "", ""),
                    "E": Label("ddt", "E", "vague", "x", "H (line 50)")}}
    # A: the right passage and a quote sharing 30+ characters with people's (case and spaces folded);
    # B: the right passage, another sentence; C: the wrong passage, a quote holding all of people's short one
    found = {"d": [f("A", "disclosed", (8, 12), "Data: the model was trained   on 2T tokens of filtered web\u2026"),
                   f("B", "vague", (20, 22), "Something else entirely."), f("C", "vague", (31, 33), "see x"),
                   f("D", "disclosed", (1, 1)), f("E", "absent", ())]}
    got = ec.evidence_at_quote(["d"], labels, found)
    assert got == {"at_quote": 2, "items": 3, "share": round(2 / 3, 4), "quote_overlaps": 2,
                   "quote_share": round(2 / 3, 4)}
    assert ec.quote_overlaps("trained on 2T tokens of filtered", said) and not ec.quote_overlaps("2T tokens", said)


def test_bad_label_file_is_one_sentence(tmp_path):
    (tmp_path / "x.yaml").write_text("labels:\n- {indicator: DDT-1.1, level: maybe}\n", encoding="utf-8")
    with pytest.raises(UserError, match="DDT-1.1 has level 'maybe'"):
        load_labels(tmp_path)


@pytest.mark.skipif(not MODEL_PATH.is_file(), reason="no shipped exemplar model")
def test_shipped_model_round_trips_and_never_saw_the_test_split():
    model = load_exemplar_model()
    again = ExemplarModel.from_json(json.loads(json.dumps(model.to_json())))
    X = np.random.default_rng(0).normal(size=(50, len(model.doc_heads["disclosed"].weights)))
    assert model.levels(X) == again.levels(X) and model.thresholds == again.thresholds
    assert model.meta["split"] == "dev"
    split = json.loads((ROOT / "splits.json").read_text(encoding="utf-8"))
    dev_quotes = {x.quote for ls in load_labels(ROOT / "labels" / "adjudicated", split["dev"]).values()
                  for x in ls.values()}
    test_quotes = {lab.quote for labs in load_labels(ROOT / "labels" / "adjudicated",
                                                     split["test"] + split["holdout"]).values()
                   for lab in labs.values() if lab.quote and lab.quote not in dev_quotes}
    assert test_quotes
    assert not any(t.split("\n", 1)[-1] in test_quotes for t in model.ex_text)


def test_layer_finds_evidence_the_rules_miss_and_keeps_other_frameworks():
    """A table row, a licence line, an issue tracker: the layer (shipped model) must not touch FMTI
    findings, and every level it raises carries a sentence that is in the document."""
    model = load_exemplar_model()
    if model is None:
        pytest.skip("no shipped exemplar model")
    from rigorlab.disclosure.audit.engine import Auditor, markdown_document, resolve_frameworks

    card = ("# Tiny-7B\n\n## Model details\n\n| Model | Training data date | Params |\n|---|---|---|\n"
            "| Tiny-7B | Up to June 2023 | 7B |\n\n## License\n\nReleased under the Apache 2.0 license.\n\n"
            "## Contact\n\nPlease open an issue at https://github.com/example/tiny/issues for questions.\n")
    doc = markdown_document(card, "card.md")
    audit = Auditor(resolve_frameworks("ddt,aad,fmti-2025"), exemplars=True).audit_document(doc)
    text = audit.text
    moved = [f for f in audit.findings if f.reason.startswith("learned layer: reads like")]
    for f in moved:                       # evidence the layer picked is a sentence of the document
        assert f.level in ("disclosed", "vague") and f.evidence and f.evidence in text, (f.id, f.evidence)
    assert all(f.framework in ("ddt", "aad") for f in audit.findings if f.reason.startswith("learned layer"))
    fmti_rules = [(f.id, f.level) for f in audit.findings if f.framework == "fmti-2025"]
    plain = Auditor(resolve_frameworks("ddt,aad,fmti-2025"), exemplars=False).audit_document(doc)
    assert fmti_rules == [(f.id, f.level) for f in plain.findings if f.framework == "fmti-2025"]
