"""Retrieval, the classifier's math and reproducibility, and disclosed / vague / absent judgements."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rigorlab.disclosure.audit.classifier import (
    MODEL_FEATURES,
    MODEL_PATH,
    fit_logistic,
    fit_signed_logistic,
    load_model,
)
from rigorlab.disclosure.audit.document import Document
from rigorlab.disclosure.audit.engine import audit_text, markdown_document
from rigorlab.disclosure.audit.features import FEATURE_NAMES, passage_stats
from rigorlab.disclosure.audit.retrieval import PassageIndex, make_query

FMTI = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "fmti"


def _doc(text: str) -> Document:
    return markdown_document(text, "card.md")


def test_fit_logistic_recovers_known_coefficients():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 3))
    w_true, b_true = np.array([1.5, -2.0, 0.0]), 0.5
    y = (rng.random(20000) < 1 / (1 + np.exp(-(X @ w_true + b_true)))).astype(float)
    mean, scale, w, b = fit_logistic(X, y, l2=1e-6)
    # back from standardised to raw coordinates
    w_raw = w / scale
    b_raw = b - float(np.sum(w * mean / scale))
    assert np.allclose(w_raw, w_true, atol=0.08) and abs(b_raw - b_true) < 0.06


def test_sign_constraints_drop_a_wrong_signed_feature():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(5000, 2))
    y = (rng.random(5000) < 1 / (1 + np.exp(-(2.0 * X[:, 0] - 1.0 * X[:, 1])))).astype(float)
    _, _, w_free, _ = fit_logistic(X, y)
    assert w_free[1] < -0.5
    mean, scale, w, _ = fit_signed_logistic(X, y, signs=[1, 1])
    assert w[0] > 0.5 and w[1] == 0.0 and mean[1] == 0.0 and scale[1] == 1.0


def test_passage_stats_count_specifics():
    st = passage_stats("We used 2T tokens from Dolma (https://x.org) in March 2024; contact a@b.org.")
    assert st.with_unit == 1 and st.urls == 2 and st.years == 1 and st.specific
    assert passage_stats("We do not disclose this information.").refuses
    assert passage_stats("Data is publicly available data from the internet.").vague == 2


def test_shipped_model_matches_the_feature_set():
    model = load_model()
    assert model.feature_names == list(MODEL_FEATURES) and model.feature_names[:-2] == list(FEATURE_NAMES)
    assert model.meta["examples"] == 600 and model.meta["positives"] == 241
    assert 0.0 < model.default_prior < 1.0 and len(model.priors) == 100
    # one accepted-answer centroid per FMTI indicator that some developer earned, each of unit length
    assert 50 <= len(model.profiles.positive) <= 100
    for c in model.profiles.positive.values():
        assert 0 < len(c) <= model.meta["profile_terms"]
        assert abs(sum(w * w for w in c.values()) - 1.0) < 1e-4


@pytest.mark.skipif(not (FMTI / "reports").is_dir(), reason="FMTI reference data not available")
def test_retraining_reproduces_the_shipped_model_exactly():
    from rigorlab.disclosure.audit.train_fmti import train

    shipped = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    again = json.loads(json.dumps(train(FMTI).to_json()))
    assert again == shipped


def test_keyword_phrases_match_body_and_headings_with_generic_downweighting():
    doc = _doc("# Card\n\n## Training data\n\nThe corpus.\n\n## Other\n\ntraining data mixture here\n\n"
               "## More\n\nunrelated\n\n## A\n\nx\n\n## B\n\ny\n")
    idx = PassageIndex(doc)
    q = make_query("Sources", "What sources?", ["training data"])
    body, head = idx.phrase_hits(("training", "data"))
    assert body.tolist() == [False, True, False, False, False]
    assert head.tolist() == [True, False, False, False, False]
    kw = idx.keyword_evidence(q)
    assert kw[0] == pytest.approx(2.0) and kw[1] == pytest.approx(1.0) and kw[2] == 0.0
    single = idx.keyword_evidence(make_query("Sources", "What sources?", ["corpus"]))
    assert single[0] == pytest.approx(0.6)                       # a one-word keyword counts 0.6
    assert idx.matched(q, 0) == ["training data"]


def test_bm25_ranks_the_on_topic_passage_first():
    doc = _doc("# C\n\nWe removed duplicates with MinHash deduplication.\n\nThe weather is nice.\n\n"
               "Licence is MIT.\n")
    idx = PassageIndex(doc)
    scores = idx.bm25(make_query("De-duplication", "How was the data deduplicated?", ["deduplication"]))
    assert int(np.argmax(scores)) == 0 and scores[0] > 0 and scores[1] == pytest.approx(0.0)


def _level(text: str, indicator: str, framework: str = "ddt"):
    audit = audit_text(text, framework)
    return next(f for f in audit.findings if f.id == indicator)


def test_specific_data_disclosure_is_disclosed_with_quote_and_location():
    text = ("# Card\n\n## Training data\n\n"
            "The training data consists of 1.2T tokens: 800B tokens from Common Crawl (CC-MAIN-2023-50) and "
            "400B tokens from The Stack v2 (https://huggingface.co/datasets/bigcode/the-stack-v2).\n")
    f = _level(text, "DDT-1.2")
    assert f.level == "disclosed"
    assert "800B tokens from Common Crawl" in f.evidence
    assert f.location == {"file": "<text>", "heading": "Card > Training data", "lines": [5, 5]}


def test_internet_formula_is_vague_not_disclosed():
    f = _level("# Card\n\n## Training data\n\nThe training data sources are all from the internet.\n", "DDT-1.1")
    assert f.level == "vague" and "internet" in f.evidence
    f = _level("# Card\n\n## Training data\n\nOur data sources are publicly available data and a large corpus "
               "of text.\n", "DDT-1.1")
    assert f.level == "vague"


def test_refusal_is_absent_and_silence_is_absent():
    f = _level("# Card\n\n## Training data\n\nWe do not disclose the training data sources.\n", "DDT-1.1")
    assert f.level == "absent" and f.evidence and "does not disclose" in f.reason
    f = _level("# Card\n\nA model that writes poems.\n", "DDT-1.1")
    assert f.level == "absent" and f.evidence == "" and f.location is None


def test_code_blocks_are_never_evidence():
    text = "# Card\n\n```python\n# training data sources: 2T tokens from https://x.org/data\n```\n"
    f = _level(text, "DDT-1.1")
    assert f.level == "absent"


def test_scores_are_weighted_shares_disclosed():
    audit = audit_text("# Card\n\n## Training data\n\nWe trained on 2T tokens from Dolma "
                       "(https://huggingface.co/datasets/allenai/dolma).\n", "ddt")
    s = audit.score("ddt")
    d = [f for f in audit.findings if f.level == "disclosed"]
    v = [f for f in audit.findings if f.level == "vague"]
    total = sum(f.weight for f in audit.findings)
    assert s.disclosed == len(d) > 0
    assert s.score == pytest.approx(round(100 * sum(f.weight for f in d) / total, 1))
    assert s.mentioned == pytest.approx(round(100 * sum(f.weight for f in d + v) / total, 1))
    assert sum(sec.disclosed + sec.vague + sec.absent for sec in s.sections) == len(audit.findings)


def test_audit_is_deterministic():
    text = "# Card\n\n## Data\n\nWe used 3B tokens of web text filtered with a classifier.\n"
    a = [f.to_dict() for f in audit_text(text, "all").findings]
    b = [f.to_dict() for f in audit_text(text, "all").findings]
    assert a == b
