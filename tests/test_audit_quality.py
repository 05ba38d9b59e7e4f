"""Quality of the auditor's judgements: regressions for known misjudgements, the shared vagueness
test, topic-linked facts, the hurdle classifier and its answer profiles, and agreement with the
FMTI's human scores (leave-one-developer-out) when the reference data is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rigorlab.disclosure import vagueness
from rigorlab.disclosure.audit import facts as F
from rigorlab.disclosure.audit import text as T
from rigorlab.disclosure.audit.classifier import load_model
from rigorlab.disclosure.audit.engine import audit_text, markdown_document
from rigorlab.disclosure.audit.features import indicator_profile, passage_stats
from rigorlab.disclosure.audit.profiles import build_profiles, centroid, tfidf
from rigorlab.disclosure.audit.retrieval import PassageIndex, make_query

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FMTI = SHARED / "reference" / "fmti"
DEEPSEEK = SHARED / "corpus" / "cards" / "deepseek-ai__DeepSeek-V3__README.md"


def _finding(text: str, indicator: str, framework: str = "ddt"):
    """The rule judge's finding (these are regressions of the rules; the learned layer on top is
    tested in test_audit_exemplars.py and measured by benchmarks/eval_cards.py)."""
    return next(f for f in audit_text(text, framework, learned=False).findings if f.id == indicator)


# ---- regressions: the DeepSeek-V3 README's misjudgements, as small hand-written cards ---------

CODE_LICENCE = ("# Model\n\n## 7. License\n\nThis code repository is licensed under the MIT License (LICENSE-CODE). "
                "The use of the Base/Chat models is subject to the Model License (LICENSE-MODEL).\n")


def test_code_or_model_licence_is_not_a_data_licence():
    assert _finding(CODE_LICENCE, "DDT-5.1").level == "absent"
    # ... but it is the model's licence (AAD-2.4), and a stated data licence is DDT-5.1
    assert _finding(CODE_LICENCE, "AAD-2.4", "aad").level == "disclosed"
    data = ("# Card\n\n## Training data\n\nThe pre-training data is licensed under ODC-BY 1.0; the code subset "
            "comes from The Stack v2 under the terms of use of the data published at https://example.org/tou.\n")
    f = _finding(data, "DDT-5.1")
    assert f.level == "disclosed" and "ODC-BY" in f.evidence


def test_unrelated_overlap_is_not_decontamination():
    text = ("# Model\n\n## Training\n\nThrough co-design of algorithms, frameworks and hardware, we overcome the "
            "communication bottleneck, nearly achieving full computation-communication overlap.\n")
    assert _finding(text, "DDT-3.3").level == "absent"
    text = ("# Card\n\n## Decontamination\n\nWe removed training documents with a 13-gram overlap with the test "
            "sets of GSM8K and MATH (1,204 documents, 0.01% of the corpus).\n")
    assert _finding(text, "DDT-3.3").level == "disclosed"


def test_pre_training_tokens_are_not_rl_and_sft_data():
    text = ("# Model\n\n## Introduction\n\nWe pre-train the model on 14.8 trillion diverse and high-quality tokens, "
            "followed by Supervised Fine-Tuning and Reinforcement Learning stages to fully harness its "
            "capabilities.\n")
    f = _finding(text, "DDT-3.5")
    assert f.level == "vague" and "14.8 trillion" in f.evidence      # mentioned, not disclosed
    text = ("# Card\n\n## Post-training data\n\nSFT used 1.5M prompts from OpenMathInstruct-2 and Magicoder; RL "
            "used 40k competition math prompts with a rule-based answer verifier.\n")
    assert _finding(text, "DDT-3.5").level == "disclosed"


@pytest.mark.parametrize(("text", "framework", "indicator"), [
    ("We also provide an OpenAI-compatible API at platform.example.com.", "ddt", "DDT-2.1"),       # API
    ("Download the model weights from Hugging Face.", "ddt", "DDT-6.1"),                           # download
    ("The model size is 7B parameters and the context size is 128K.", "ddt", "DDT-1.2"),          # size
    ("This code repository is licensed under the Apache 2.0 License.", "ddt", "DDT-1.1"),         # licensed
    ("It can also be used for speculative decoding.", "aad", "AAD-2.2"),                          # used (for)
    ("It can also be used for speculative decoding.", "datasheets", "DS-5.1"),                    # used for
    ("See the technical report for the results.", "aad", "AAD-6.2"),                              # report
    ("The DeepSeek-V3 model achieves strong results on math and code tasks.", "ddt", "DDT-1.4"),  # code, math
])
def test_ambiguous_single_words_no_longer_trigger_an_indicator(text, framework, indicator):
    assert _finding(f"# Model\n\n## Notes\n\n{text}\n", indicator, framework).level == "absent"


def test_keyword_phrases_keep_their_stop_words():
    idx = PassageIndex(markdown_document(
        "# C\n\nIt should not be used for medical advice.\n\nIt is used widely.\n\nNot to be used lightly.\n", "c.md"))
    q = make_query("Out-of-scope uses", "Which uses are out of scope?", ["should not be used"])
    assert q.phrases == (("should", "not", "be", "used"),) and q.phrases[0] in q.multiword
    assert idx.keyword_evidence(q).tolist() == [1.0, 0.0, 0.0]
    assert idx.matched(q, 0) == ["should not be used"]
    # a keyword made only of stop words is ignored rather than matching everything
    assert make_query("t", "q", ["as is", "terms of use"]).phrases == (("term", "of", "use"),)


def test_hyphenated_keywords_match_spelling_variants():
    idx = PassageIndex(markdown_document(
        "# C\n\nSites can opt out via robots.txt.\n\nThe data is released under cc-by-4.0.\n\nNothing here.\n", "c.md"))
    assert idx.keyword_evidence(make_query("Opt-outs", "q", ["opt-out"])).tolist() == [1.0, 0.0, 0.0]
    assert idx.keyword_evidence(make_query("Licence", "q", ["CC-BY"])).tolist() == [0.0, 1.0, 0.0]


def test_dedicated_section_is_where_the_document_answers():
    text = ("# Card\n\n## Intro\n\nWe report the contamination of popular leaderboards in general terms.\n\n"
            "## Decontamination\n\nNo decontamination was performed.\n")
    f = _finding(text, "DDT-3.3")
    assert f.location["heading"] == "Card > Decontamination"


# ---- one vagueness test for the card validator and the auditor ---------------------------------

@pytest.mark.parametrize(("text", "vague"), [
    ("All data was collected from the internet.", True),
    ("Our data sources are publicly available data and a large corpus of text.", True),
    ("Trained on publicly available data from the Internet.", True),
    ("We follow industry best practices and take safety seriously.", True),
    ("Publicly available data such as Wikipedia and arXiv.", False),      # names
    ("A large corpus of 2T tokens.", False),                              # a number
    ("Publicly available data listed at https://example.org/sources.", False),
    ("We removed near-duplicates with MinHash.", False),                  # no generic phrase at all
])
def test_vague_formula_is_one_test_shared_by_validator_and_auditor(text, vague):
    assert bool(vagueness.vague_formula(text)) is vague
    assert passage_stats(text).formula is vague                          # the auditor's feature and rule
    assert (vagueness.judge(text, "Which sources were used?")[0] == "vague") is vague   # the card validator
    assert T.VAGUE_PATTERNS is vagueness.VAGUE and T.NON_DISCLOSURE is vagueness.NON_DISCLOSURE


def test_validator_reason_names_every_generic_phrase():
    verdict, why = vagueness.judge("We respect website owners and follow best practices.", "How are opt-outs honoured?")
    assert verdict == "vague" and "'we respect'" in why and "'best practices'" in why


# ---- facts that belong to the topic -------------------------------------------------------------

def test_facts_count_only_clauses_that_name_the_topic():
    quote = ("We pre-train on 14.8 trillion tokens, followed by supervised fine-tuning and reinforcement "
             "learning on 1.5M prompts.")
    linked = F.linked_text(quote, [" reinforcement learning "], heading_on_topic=False)
    assert "14.8 trillion" not in linked and "1.5M prompts" in linked
    assert F.linked_text(quote, [" reinforcement learning "], heading_on_topic=True) == quote
    assert F.facts(linked, frozenset()).with_unit == 1


def test_topic_words_and_the_models_own_name_are_not_facts():
    own = frozenset({"supervised", "fine-tuning", "reinforcement", "learning"})
    f = F.facts("We apply Supervised Fine-Tuning and Reinforcement Learning to Nova-7B with Tulu 3 data.", own,
                frozenset({"nova-7b"}))
    assert f.names == 1                                   # only "Tulu": topic words and the model are not facts
    passages = [f"Nova-7B does thing {i}." for i in range(5)] + ["Meta built Nova-7B."]
    assert F.frequent_names(passages, "acme__Nova-7B__README") == frozenset({"nova-7b"})


# ---- the hurdle classifier and its answer profiles ---------------------------------------------

def test_empty_answers_and_short_refusals_get_probability_zero():
    model = load_model()
    prof = indicator_profile("Data size", "What is the size of the data used to build the model?")
    prior = model.prior_logit(["Data size"])
    assert model.predict(prof, "Not disclosed.", prior) == 0.0
    assert model.predict(prof, "", prior) == 0.0
    assert model.predict(prof, "The training data has 15T tokens (12T web, 3T code).", prior) > 0.0


def test_answer_profiles_are_unit_centroids_of_accepted_answers_only():
    rows = [("k", "We trained on AWS and Google Cloud TPUs.", 1, True),
            ("k", "Compute was rented from AWS.", 1, True),
            ("k", "Not disclosed.", 0, False),
            ("k", "We used a cloud provider.", 0, True),
            ("j", "Whistleblowers are protected by policy.", 1, True)]
    prof = build_profiles(rows, top=5)
    assert set(prof.positive) == {"k", "j"} and len(prof.positive["k"]) <= 5
    assert "provider" not in prof.positive["k"]                    # only answers that earned the point
    assert all(abs(sum(w * w for w in c.values()) - 1) < 1e-9 for c in prof.positive.values())
    near = prof.similarity(T.tokenize("Training ran on AWS."), "k")
    far = prof.similarity(T.tokenize("Whistleblowers are protected."), "k")
    assert near > 0.2 and far == 0.0
    again = type(prof).from_json(prof.to_json())
    assert again.similarity(T.tokenize("Training ran on AWS."), "k") == pytest.approx(near, abs=1e-5)
    v = tfidf(["a", "a", "b"], {"a": 1.0, "b": 2.0}, 3.0)
    assert v["b"] > v["a"] and abs(sum(x * x for x in v.values()) - 1) < 1e-12
    assert centroid([{"a": 1.0}, {"b": 1.0}], top=1) == {"a": 1.0}    # ties broken by term


# ---- against human labels and on the real card --------------------------------------------------

@pytest.mark.skipif(not (FMTI / "reports").is_dir(), reason="FMTI reference data not available")
def test_leave_one_developer_out_classifier_agrees_with_fmti_scorers():
    from rigorlab.disclosure.audit.train_fmti import (
        design_matrix,
        fit_model,
        load_examples,
        load_scores,
    )

    examples, scores = load_examples(FMTI), load_scores(FMTI)
    y = np.array([e.label for e in examples])
    pred = np.zeros(len(y), dtype=int)
    for dev in sorted({e.developer for e in examples}):
        test = [i for i, e in enumerate(examples) if e.developer == dev]
        model = fit_model([e for e in examples if e.developer != dev], scores, exclude={dev})
        X, trivial = design_matrix([examples[i] for i in test], scores, {dev}, model.profiles)
        pred[test] = model.predict_rows(X, trivial) >= model.threshold
    po = np.mean(pred == y)
    pe = y.mean() * pred.mean() + (1 - y.mean()) * (1 - pred.mean())
    kappa = (po - pe) / (1 - pe)
    assert po > 0.82 and kappa > 0.62                     # measured: accuracy 0.838, kappa 0.668


@pytest.mark.skipif(not DEEPSEEK.is_file(), reason="shared corpus not available")
def test_deepseek_v3_readme_misjudgements_are_fixed():
    from rigorlab.disclosure.audit.engine import audit_paths

    run = audit_paths([DEEPSEEK], "ddt,aad", learned=False)     # the rules' fixes (the layer on top calls
    by = {f.id: f for f in run.documents[0].findings}            # DDT-3.5 disclosed here: see eval_cards.py)
    assert by["DDT-5.1"].level == "absent"                       # code and model licences only
    assert by["DDT-3.3"].level == "absent"                       # "computation-communication overlap"
    assert by["DDT-3.5"].level == "vague"                        # 14.8T tokens is pre-training
    assert by["DDT-2.1"].level == "absent" and by["DDT-6.1"].level == "absent"   # API, download
    assert by["AAD-2.2"].level == "absent"                       # "used for speculative decoding"
    # what the README does disclose is still found, with its quote
    assert by["DDT-1.2"].level == "disclosed" and "14.8T tokens" in by["DDT-1.2"].evidence
    assert by["AAD-1.2"].level == "disclosed" and "service@deepseek.com" in by["AAD-1.2"].evidence
    assert by["AAD-5.3"].level == "disclosed" and "GPU hours" in by["AAD-5.3"].evidence
    assert by["AAD-2.4"].level == "disclosed" and "MIT License" in by["AAD-2.4"].evidence
