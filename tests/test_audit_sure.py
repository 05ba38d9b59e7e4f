"""Sure findings: the learned layer marks the levels it gives far from its cuts, chosen at fit time
on its own cross-fitted rows so that those findings reach the agreement targets; the rest are to
be checked by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rigorlab.disclosure.audit.exemplars import (
    MODEL_PATH,
    ExemplarModel,
    cut_levels,
    level_margin,
    load_exemplar_model,
)
from rigorlab.disclosure.audit.labelset import binary, cohen_kappa
from rigorlab.disclosure.audit.sure import MARGIN_GRID, SURE_ACCURACY, SURE_KAPPA
from rigorlab.disclosure.audit.train_exemplars import choose_sure_margin

T = (0.25, 0.6)


def test_margin_is_positive_inside_the_level_region_and_negative_for_an_overridden_level():
    # P(disclosed) 0.9 against a 0.25 cut: log(9) - log(1/3) = log 27
    assert level_margin("disclosed", 0.9, 0.95, *T) == pytest.approx(np.log(27.0))
    assert level_margin("absent", 0.9, 0.95, *T) < 0           # a rule called it absent: never sure
    # vague: the nearer of the two cuts decides (P(disclosed) 0.2 is just under 0.25)
    assert level_margin("vague", 0.2, 0.99, *T) == pytest.approx(np.log(4.0) - np.log(3.0))
    # absent: both probabilities low; the margin is the smaller distance
    m = level_margin("absent", 0.01, 0.3, *T)
    assert m == pytest.approx(min(np.log(0.99 / 0.01) - np.log(3.0), np.log(1.5) - np.log(0.3 / 0.7)))
    for lv, a, b in (("disclosed", 0.5, 0.8), ("vague", 0.1, 0.7), ("absent", 0.1, 0.2)):
        assert cut_levels([a], [b], *T) == [lv] and level_margin(lv, a, b, *T) > 0


def _synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probabilities whose distance from the cuts says how often the cut level is right: far from
    the cuts people agree, near them it is a coin toss."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 2.0, n)                 # logit of P(disclosed) minus its cut
    pd = 1 / (1 + np.exp(-(z + np.log(T[0] / (1 - T[0])))))
    pm = np.where(z > 0, 0.95, np.where(z > -1.5, 0.7, 0.1))
    pred = np.asarray(cut_levels(pd, pm, *T))
    right = rng.random(n) < 1 / (1 + np.exp(-np.abs(z)))          # near the cut: about 50%
    other = {"disclosed": "absent", "vague": "absent", "absent": "disclosed"}
    truth = np.where(right, pred, [other[p] for p in pred])
    return pd, pm, truth


def test_sure_margin_is_the_smallest_that_reaches_the_targets_on_the_rows_it_is_chosen_on():
    pd, pm, truth = _synthetic(4000, 0)
    got = choose_sure_margin(pd, pm, truth == "disclosed", truth != "absent", T)
    assert got is not None and got["margin"] in MARGIN_GRID and got["margin"] > 0
    pred = np.asarray(cut_levels(pd, pm, *T))
    margin = np.asarray([level_margin(p, a, b, *T) for p, a, b in zip(pred, pd, pm)])

    def agreement(on: np.ndarray) -> tuple[float, float]:
        return cohen_kappa(binary(truth[on]), binary(pred[on])), float(np.mean(truth[on] == pred[on]))

    k, a = agreement(margin >= got["margin"])
    assert k >= SURE_KAPPA and a >= SURE_ACCURACY
    assert (k, a) == pytest.approx((got["kappa"], got["accuracy"]), abs=1e-4)
    assert got["coverage"] == pytest.approx(np.mean(margin >= got["margin"]), abs=1e-4)
    k0, a0 = agreement(margin >= 0)
    assert k0 < SURE_KAPPA                                     # all findings together fall short
    smaller = got["margin"] - 0.25                             # and the next smaller margin does too
    k1, a1 = agreement(margin >= smaller)
    assert k1 < SURE_KAPPA or a1 < SURE_ACCURACY
    # on new rows drawn the same way, the chosen margin holds (not an artefact of the rows it saw)
    pd2, pm2, truth2 = _synthetic(4000, 1)
    pred2 = np.asarray(cut_levels(pd2, pm2, *T))
    on2 = np.asarray([level_margin(p, a, b, *T) for p, a, b in zip(pred2, pd2, pm2)]) >= got["margin"]
    assert cohen_kappa(binary(truth2[on2]), binary(pred2[on2])) >= SURE_KAPPA - 0.03


def test_no_margin_when_the_probabilities_say_nothing():
    rng = np.random.default_rng(2)
    n = 2000
    pd, pm = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    truth = rng.choice(["disclosed", "vague", "absent"], size=n)
    assert choose_sure_margin(pd, pm, truth == "disclosed", truth != "absent", T) is None


@pytest.mark.skipif(not MODEL_PATH.is_file(), reason="no shipped exemplar layer")
def test_shipped_layer_marks_its_findings_and_only_its_own():
    from rigorlab.disclosure.audit.engine import Auditor, markdown_document, resolve_frameworks
    from rigorlab.disclosure.audit.render import render_markdown

    model = load_exemplar_model()
    assert model.sure and model.sure["kappa"] >= SURE_KAPPA and model.sure["accuracy"] >= SURE_ACCURACY
    again = ExemplarModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again.sure == model.sure
    card = ("# Tiny-7B\n\n## Training data\n\nTrained on 2T tokens of English web text from Common Crawl "
            "(2019-2023), deduplicated with MinHash.\n\n## License\n\nApache 2.0.\n")
    doc = markdown_document(card, "card.md")
    frameworks = resolve_frameworks("ddt,aad,fmti-2025")
    run = Auditor(frameworks).audit_paths([])
    audit = Auditor(frameworks).audit_document(doc)
    assert {f.sure is None for f in audit.findings if f.framework == "fmti-2025"} == {True}
    layered = [f for f in audit.findings if f.framework in ("ddt", "aad")]
    assert {type(f.sure) for f in layered} == {bool} and any(f.sure for f in layered) and not all(f.sure for f in layered)
    run.documents.append(audit)
    data = run.to_dict()
    assert data["sure"]["marked"] == len(layered) and data["sure"]["findings"] == sum(f.sure for f in layered)
    assert data["sure"]["margins"]["learned layer (ddt, aad)"] == model.sure
    assert all("sure" in f for f in data["findings"])
    md = render_markdown(run)
    assert "| id | indicator | level | sure | evidence | location |" in md
    assert f"{sum(f.sure for f in layered)} of the {len(layered)} findings with a sure mark are sure" in md
    rules = Auditor(frameworks, exemplars=False).audit_document(doc)
    assert {f.sure for f in rules.findings} == {None}


def test_fmti_answers_of_a_report_are_marked_and_a_card_is_not(tmp_path):
    """The FMTI classifier's margin was measured on a report's own answers (leave one developer out):
    those findings get the mark, an empty answer is surely absent, and the same indicators judged on a
    card (retrieval first, not measured) keep sure=None."""
    from rigorlab.disclosure.audit.classifier import load_model
    from rigorlab.disclosure.audit.engine import Auditor, markdown_document, resolve_frameworks
    from rigorlab.disclosure.audit.questionnaire import read_questionnaire

    model = load_model()
    assert model.sure and model.sure["kappa"] >= SURE_KAPPA and model.sure["accuracy"] >= SURE_ACCURACY
    csv_text = ("Indicator,Disclosure\n"
                "Data size,\"The model was trained on 15 trillion tokens of text, of which 8% is code.\"\n"
                "Compute usage for final training run,\n"
                "Energy usage for final training run,We care about the environment.\n")
    fws = resolve_frameworks("fmti-2025")
    audit = Auditor(fws).audit_document(read_questionnaire(csv_text, "report.csv"))
    by_id = {f.id: f for f in audit.findings}
    size = next(f for k, f in by_id.items() if k.lower() == "data size")
    compute = next(f for k, f in by_id.items() if k.lower().startswith("compute usage for final"))
    energy = next(f for k, f in by_id.items() if k.lower().startswith("energy usage for final"))
    assert compute.level == "absent" and compute.sure is True        # an empty answer
    assert size.level == "disclosed" and isinstance(size.sure, bool)
    assert energy.level != "disclosed" and isinstance(energy.sure, bool)
    unanswered = [f for f in audit.findings if f not in (size, compute, energy)]
    assert unanswered and all(f.sure is None for f in unanswered)   # judged on the whole text, as a card
    card = markdown_document("# Model\n\nTrained on 15 trillion tokens of text, of which 8% is code.\n", "card.md")
    assert all(f.sure is None for f in Auditor(fws).audit_document(card).findings)
