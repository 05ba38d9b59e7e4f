"""Documents generated from a hand-made run directory: content, gaps, round trips, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from rigorlab.disclosure import ProvenanceRecorder, load_framework, write_run_documents
from rigorlab.disclosure.documents.run_answers import answer_aad, answer_ddt
from rigorlab.disclosure.documents.croissant import validate_croissant
from rigorlab.disclosure.documents.datasheet import answer_datasheet
from rigorlab.disclosure.provenance.runfacts import load_run

CONFIG = {
    "seed": 7,
    "task": {"name": "pairs", "max_operand": 20, "reward": {"correct": 1.0, "format": 0.0}},
    "policy": {"model": "sshleifer/tiny-gpt2", "dtype": "float32"},
    "grpo": {"beta": 0.04, "loss_type": "dr_grpo", "num_generations": 8, "epsilon": 0.2,
             "learning_rate": 1.0e-5, "steps": 4,
             "kl": {"direction": "reverse", "estimator": "k3", "placement": "loss"}},
    "eval": {"temperature": 1.0, "k": [1, 8], "num_prompts": 40},
}
EVAL = {
    "reference": {"accuracy": 0.30, "pass_at_k": {"1": 0.30, "8": 0.80}, "distinct_correct": 5.0,
                  "answer_entropy": 2.1},
    "trained": {"accuracy": 0.55, "pass_at_k": {"1": 0.55, "8": 0.70}, "distinct_correct": 3.0,
                "answer_entropy": 0.9, "tv_to_optimum/reverse": 0.12, "prompts": 40,
                "per_prompt": [{"prompt": 0, "correct": 3, "n": 8}]},
}


def make_run(root: Path, *, external: bool = False) -> Path:
    """A run directory like the trainer's: config, metrics, eval, provenance, summary, model/."""
    run = root / "run-pairs-s7"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    rows = [{"step": s, "reward/mean": 0.3 + 0.1 * s, "accuracy": 0.3 + 0.08 * s, "entropy": 1.5 - 0.3 * s,
             "kl/k1": 0.01 * s, "kl/k3": 0.012 * s, "kl/reverse_exact": 0.011 * s,
             "kl/forward_exact": 0.013 * s, "answers/distinct": 6 - s, "answers/entropy": 2.0 - 0.4 * s}
            for s in range(4)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (run / "eval.json").write_text(json.dumps(EVAL))
    (run / "summary.json").write_text(json.dumps({"name": "run-pairs-s7", "wall_time_s": 12.5, "device": "cpu"}))
    (run / "model").mkdir()
    (run / "model" / "config.json").write_text("{}")
    rec = ProvenanceRecorder(run)
    pre = [f"{a} + {b} = {a + b}" for a in range(30) for b in range(30)]
    rec.record_dataset("pretrain-corpus", "pretraining", pre, generator="rigorlab.tasks.pairs.corpus",
                       params={"max_operand": 30}, seed=0, languages=["en"], licence="apache-2.0",
                       filters=[{"name": "length", "description": "drop lines over 64 characters",
                                 "removed": 0, "kept": len(pre)}], domain="arithmetic")
    train = [{"prompt": f"What is {a} + {b}?", "answer": str(a + b)} for a in range(20) for b in range(20)]
    rec.record_dataset("rl-prompts", "rl-prompts", train, generator="rigorlab.tasks.pairs", params={"max_operand": 20},
                       seed=7, languages=["en"], licence="apache-2.0", fmt="jsonl", domain="arithmetic")
    ev = [{"prompt": f"What is {a} + {b}?", "answer": str(a + b)} for a in range(18, 26) for b in range(5)]
    rec.record_dataset("eval-prompts", "evaluation", ev, generator="rigorlab.tasks.pairs", params={"range": [18, 26]},
                       seed=8, languages=["en"], licence="apache-2.0", fmt="jsonl", domain="arithmetic")
    if external:
        src = root / "extra.jsonl"
        src.write_text('{"prompt": "Name a prime."}\n')
        rec.record_dataset("extra", "rl-prompts", [{"prompt": "Name a prime."}], source_path=str(src))
    rec.check_contamination("rl-prompts", "eval-prompts", n=8)
    rec.save()
    return run


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    return make_run(tmp_path)


def test_contamination_counts_exact_overlaps(run_dir: Path) -> None:
    prov = json.loads((run_dir / "provenance.json").read_text())
    check = prov["contamination"][0]
    # eval a in 18..25, b in 0..4; training has a, b < 20, so exactly a in {18, 19} overlap: 2 * 5 = 10.
    assert (check["eval_examples"], check["contaminated"]) == (40, 10)
    assert check["fraction"] == pytest.approx(0.25)
    assert {o["eval_text"] for o in check["overlaps"]} == {f"What is {a} + {b}?" for a in (18, 19) for b in range(5)}


def test_every_run_knowable_item_is_answered(run_dir: Path) -> None:
    facts = load_run(run_dir)
    ddt, aad = answer_ddt(facts), answer_aad(facts)
    ds = answer_datasheet(facts, ddt)
    for fid, answers in (("ddt", ddt), ("aad", aad), ("datasheets", ds)):
        fw = load_framework(fid)
        assert set(answers) == {i.id for i in fw.indicators}
        for ind in fw.indicators:
            if ind.run_knowable:
                assert answers[ind.id].text, f"{fid} {ind.id} should be answered from the run"
    # Synthetic-only data: even the items that depend on the source are answered, and facts are exact.
    assert ddt["DDT-2.2"].status == "answered" and ddt["DDT-2.3"].status == "answered"
    assert "1340" not in ddt["DDT-1.2"].text  # evaluation data (40) is not counted in the mixture
    assert "training mixture total: 1300 examples" in ddt["DDT-1.2"].text  # 900 + 400
    assert "10 of 40" in ddt["DDT-3.3"].text
    # What a run cannot know stays a gap, never invented.
    for iid in ("DDT-4.1", "DDT-4.2", "DDT-4.3", "DDT-5.2", "DDT-5.3"):
        assert ddt[iid].status == "gap"
    assert aad["AAD-1.1"].status == "gap" and aad["AAD-7.4"].status == "partial"


def test_external_source_turns_source_dependent_items_into_gaps(tmp_path: Path) -> None:
    facts = load_run(make_run(tmp_path, external=True))
    ddt = answer_ddt(facts)
    assert ddt["DDT-2.2"].status == "gap" and ddt["DDT-2.3"].status == "gap"
    assert ddt["DDT-1.1"].status == "partial" and "extra" in ddt["DDT-1.1"].gap
    assert "file sha256" in ddt["DDT-2.1"].text


def test_documents_written_and_round_trip(run_dir: Path) -> None:
    from huggingface_hub import DatasetCard, ModelCard

    paths = write_run_documents(run_dir)
    assert {p.name for p in paths.values()} == {"datasheet.md", "model_card.md", "dataset_card.md", "croissant.json",
                                               "eu_training_summary.md", "eu_training_summary.json", "disclosure.json"}
    card = ModelCard.load(paths["model_card"])
    assert card.data.base_model == "sshleifer/tiny-gpt2"
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results["accuracy"] == pytest.approx(0.55) and results["pass@8"] == pytest.approx(0.70)
    assert results["tv_to_optimum/reverse"] == pytest.approx(0.12) and "prompts" not in results
    assert "| tv_to_optimum/reverse | n/a | 0.1200 | n/a |" in card.text
    text = card.text
    # Every hyperparameter, and the regulariser's direction / estimator / placement.
    for key in ("grpo.beta", "grpo.kl.direction", "grpo.kl.estimator", "grpo.kl.placement", "grpo.loss_type",
                "grpo.num_generations", "seed", "task.reward.correct", "eval.temperature", "policy.dtype"):
        assert f"| {key} |" in text, key
    assert "direction = reverse, estimator = k3, placement = loss" in text
    assert "## Diversity diagnostics" in text and "| answers/distinct | 6 (step 0) | 3 (step 3)" in text
    assert "pass@8 fell from 0.800 (reference) to 0.700 (trained)" in text
    assert "## Accountability" in text and "AAD-7.1" in text
    dcard = DatasetCard.load(paths["dataset_card"])
    assert dcard.data.license == "apache-2.0" and dcard.data.language == ["en"]
    assert dcard.data.size_categories == ["1K<n<10K"]  # 900 + 400 + 40 examples
    sheet = paths["datasheet"].read_text()
    assert sheet.count("\n## ") == 7 and "**Gap:**" in sheet
    eu = json.loads(paths["eu_summary_json"].read_text())
    items = {i["id"]: i for i in eu["items"]}
    assert items["EUS-2.5"]["data"]["used"] is True and items["EUS-2.3"]["text"] == "Not used."
    assert [d["name"] for d in items["EUS-2.5"]["data"]["datasets"]] == ["pretrain-corpus", "rl-prompts"]
    assert items["EUS-1.1"]["status"] == "gap"
    assert "### 2.5 Synthetic data" in paths["eu_summary_md"].read_text()


def test_croissant_validates(run_dir: Path) -> None:
    paths = write_run_documents(run_dir)
    doc = json.loads(paths["croissant"].read_text())
    assert doc["rai:dataCollectionType"] == ["synthetic"]
    assert doc["rai:machineAnnotationTools"] == ["rigorlab.tasks.pairs", "rigorlab.tasks.pairs.corpus"]
    report = validate_croissant(doc)
    assert report["ok"], report
    coverage = json.loads(paths["coverage"].read_text())
    assert coverage["croissant_validation"]["ok"]


def test_croissant_schema_check_catches_bad_rai() -> None:
    pytest.importorskip("mlcroissant")
    from rigorlab.disclosure.documents.croissant import _schema_problems, build_croissant

    doc = build_croissant("x", "d", {"rai:dataBiases": "one text"})
    assert doc["rai:dataBiases"] == ["one text"]  # MANY properties are always lists
    doc["rai:madeUp"] = "x"
    doc["rai:dataCollection"] = ["not", "one"]
    problems = _schema_problems(doc)
    assert any("rai:madeUp" in p for p in problems) and any("rai:dataCollection`" in p for p in problems)


def test_missing_files_become_gaps_not_errors(tmp_path: Path) -> None:
    run = tmp_path / "bare"
    run.mkdir()
    (run / "config.yaml").write_text("seed: 1\n")
    paths = write_run_documents(run)
    cov = json.loads(paths["coverage"].read_text())
    assert "provenance.json (data provenance)" in cov["missing_run_files"]
    assert cov["counts"]["ddt"]["answered"] == 0
    assert "eval.json is missing" in paths["model_card"].read_text()


def test_failed_render_writes_nothing(run_dir: Path) -> None:
    (run_dir / "eval.json").write_text("{not json")
    with pytest.raises(Exception) as info:
        write_run_documents(run_dir)
    assert "eval.json:1" in str(info.value)
    assert not (run_dir / "docs").exists()


@pytest.mark.slow
def test_real_short_run_answers_every_run_knowable_item(tmp_path: Path) -> None:
    """End to end with the trainer: `rigorlab train` writes provenance and every document."""
    from huggingface_hub import DatasetCard, ModelCard

    from conftest import FAST
    from rigorlab.cli import main

    run = tmp_path / "run"
    sets = [x for s in FAST + ["grpo.steps=2", "eval.samples=4", "eval.ks=[1,4]"] for x in ("--set", s)]
    assert main(["train", "--out", str(run), *sets]) == 0
    cov = json.loads((run / "docs" / "disclosure.json").read_text())
    assert cov["missing_run_files"] == []
    for fid in ("ddt", "aad", "datasheets"):
        for ind in load_framework(fid).indicators:
            if ind.run_knowable:
                assert cov["frameworks"][fid][ind.id]["text"], f"{fid} {ind.id}"
    assert cov["croissant_validation"]["ok"], cov["croissant_validation"]
    card = ModelCard.load(run / "docs" / "model_card.md")
    assert {r.metric_type for r in card.data.eval_results} >= {"accuracy", "pass@1", "pass@4"}
    cfg = yaml.safe_load((run / "config.yaml").read_text())
    assert f"| grpo.kl.estimator | {cfg['grpo']['kl']['estimator']} |" in card.text
    DatasetCard.load(run / "docs" / "dataset_card.md")


def test_croissant_without_mlcroissant_falls_back_and_says_so(run_dir: Path, monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "mlcroissant", None)  # makes `import mlcroissant` fail
    doc = json.loads(write_run_documents(run_dir)["croissant"].read_text())
    report = validate_croissant(doc)
    assert report["ok"] and report["validator"] == "rigorlab RAI schema check"
    assert "mlcroissant is not installed" in report["note"]
    doc["rai:dataBiases"] = "not a list"
    assert validate_croissant(doc)["errors"] == ["`rai:dataBiases` must be a list of text values"]
