"""The per-indicator lexical scorers (`disclosure/audit/lexical.py`): they learn which words make a
passage an indicator's evidence, survive the JSON round trip unchanged, and the shipped layer's
scorers rank a licence sentence above an unrelated one for the licence indicator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from rigorlab.disclosure.audit.exemplars import MODEL_PATH, PAIR_FEATURES, load_exemplar_model
from rigorlab.disclosure.audit.lexical import LexicalScorers, fit_lexical

pytest.importorskip("sklearn")


def _synthetic(seed: int, n: int = 400) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Rows over 30 terms: term 0 marks the evidence of indicator X (with noise terms everywhere),
    term 1 is common in non-evidence rows."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, 30)) * (rng.random((n, 30)) < 0.2)
    y = (rng.random(n) < 0.15).astype(int)
    X[:, 0] = np.where(y == 1, 0.5 + 0.5 * rng.random(n), 0.05 * (rng.random(n) < 0.05))
    X[:, 1] = np.where(y == 0, 0.4 * (rng.random(n) < 0.5), 0.0)
    X /= np.linalg.norm(X, axis=1, keepdims=True) + 1e-12
    return sparse.csr_matrix(X), y


def test_scorer_learns_the_telling_words_and_ranks_fresh_rows():
    X, y = _synthetic(0)
    sc = fit_lexical(X, {"X": y, "EMPTY": np.zeros(len(y), dtype=int)})
    assert sc.indicators == ["X"]                    # an indicator with no evidence gets no scorer
    w = sc.weights[:, 0]
    assert w[0] > 1.0 and w[1] < 0 and w[0] == w.max()
    Xt, yt = _synthetic(1)                           # fresh rows from the same process
    s = sc.scores(Xt)["X"]
    # area under the ROC curve on fresh rows
    pos, neg = s[yt == 1], s[yt == 0]
    auc = float(np.mean(pos[:, None] > neg[None, :]))
    assert auc > 0.95


def test_json_round_trip_scores_alike():
    X, y = _synthetic(2)
    sc = fit_lexical(X, {"A": y, "B": 1 - y})
    back = LexicalScorers.from_json(sc.to_json(), X.shape[1])
    assert back.indicators == sc.indicators
    for k in sc.indicators:
        assert np.array_equal(back.scores(X)[k], sc.scores(X)[k])
    with pytest.raises(ValueError, match="vocabulary"):
        LexicalScorers.from_json(sc.to_json(), X.shape[1] + 1)


@pytest.mark.skipif(not MODEL_PATH.is_file(), reason="no shipped exemplar layer")
def test_shipped_layer_scores_a_licence_sentence_as_licence_evidence():
    model = load_exemplar_model()
    assert model is not None and model.lexical is not None
    assert len(model.lexical.indicators) >= 40 and PAIR_FEATURES[-1] == "lexical"
    assert abs(model.pair_heads["disclosed"].weights[PAIR_FEATURES.index("lexical")]) > 0.1
    texts = ["License\nThe dataset is released under the Creative Commons Attribution 4.0 licence (CC BY 4.0).",
             "Acknowledgements\nWe thank our colleagues for helpful discussions and the reviewers for comments."]
    s = model.lexical.scores(model.vectoriser(texts))["DDT-5.1"]
    assert s[0] > s[1] + 2.0


def test_one_indicator_score_equals_its_column_of_all_scores():
    """`score(P, indicator)` (the sentence choice asks for one indicator) is exactly that indicator's
    column of `scores(P)`; an indicator without a scorer gives None."""
    model = load_exemplar_model()
    V = model.vectoriser(["The data is licensed under CC BY 4.0.", "We pre-train on 14.8 trillion tokens.",
                          "Contact us at help@example.org."])
    every = model.lexical.scores(V)
    assert len(every) >= 40
    for ind, col in every.items():
        assert np.array_equal(model.lexical.score(V, ind), col)
    assert model.lexical.score(V, "NOT-AN-INDICATOR") is None
