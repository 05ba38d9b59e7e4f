"""The `rigour` framework for papers: what a paper lacks is listed, and the agenda asks reviewers for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.disclosure.frameworks import crosswalk_closure, load_framework

# A paper with baselines, hyperparameters, seeds with spread, intervals, sampling settings, compute,
# limitations and code, but no ablation, no decontamination, no safety evaluation, no weights, no
# hyperparameter-selection protocol, no theory.
PAPER = """# Entropy-Preserving GRPO for Mathematical Reasoning

## Abstract

We propose an entropy bonus for GRPO and show that it improves pass@1 on MATH-500 by 4.1 points over GRPO (Table 2).

## 4 Experiments

### 4.1 Setup

We train Qwen2.5-Math-7B on 12,000 prompts from the MATH training split and evaluate on MATH-500 and AIME 2024.
We compare against the base model, SFT on the same prompts and GRPO as published, all trained for 500 steps.

Hyperparameters: learning rate 1e-6, AdamW, batch size 128 prompts, group size 8, KL coefficient beta = 0.04 (reverse KL, k3 estimator, in the loss), entropy coefficient 0.01, 500 steps, warmup 20 steps.

Evaluation samples 64 completions per problem at temperature 1.0 and top-p 1.0 with a maximum of 4096 tokens, and reports pass@k with the unbiased estimator of Chen et al. (2021).

### 4.2 Results

Every configuration is trained with 5 random seeds; we report the mean and standard deviation across seeds, and 95% bootstrap confidence intervals over problems for the differences in Table 2.

## 5 Compute

All runs used 8 H100 GPUs; one run takes 30 hours, about 1,200 GPU hours for all experiments including preliminary runs.

## 6 Limitations

We only study 7B models and mathematics; the bonus may not transfer to code or to larger models.

## Code

Code to reproduce all experiments is available at https://github.com/example/ep-grpo (commit 3f2a1c9), with a README listing the command for each table.
"""
MISSING = {"RIG-2.1", "RIG-2.3", "RIG-4.2", "RIG-5.3", "RIG-6.1", "RIG-1.4"}
PRESENT = {"RIG-2.2", "RIG-2.4", "RIG-3.1", "RIG-3.2", "RIG-3.3", "RIG-5.1", "RIG-5.4", "RIG-1.2"}


def test_rigour_covers_the_checklists_and_the_critique() -> None:
    fw = load_framework("rigour")
    assert len(fw.indicators) == 25 and [s.id for s in fw.sections] == [f"RIG-{i}" for i in range(1, 7)]
    assert all(i.notes and any(s in i.notes.lower() for s in ("neurips", "reforms", "critique")) for i in fw.indicators)
    titles = " ".join(i.title.lower() for i in fw.indicators)
    for demand in ("ablation", "seeds", "confidence intervals", "baselines", "compute", "decontamination",
                   "claims matched to evidence", "code released", "data released", "weights released",
                   "safety evaluation"):
        assert demand in titles, demand
    assert crosswalk_closure("aad", "AAD-7.3") == {"rigour": ["RIG-2.1"]}


@pytest.fixture()
def paper(tmp_path: Path) -> Path:
    p = tmp_path / "paper.md"
    p.write_text(PAPER, encoding="utf-8")
    return p


def test_audit_lists_what_the_paper_is_missing(paper: Path, capsys) -> None:
    assert main(["audit", str(paper), "--framework", "rigour", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    level = {f["id"]: f["level"] for f in data["findings"]}
    assert len(level) == 25
    assert {i for i in MISSING if level[i] == "absent"} == MISSING
    assert {i for i in PRESENT if level[i] != "absent"} == PRESENT
    gaps = {g["id"] for g in data["documents"][0]["gaps"] if g["level"] == "absent"}
    assert MISSING <= gaps and not (PRESENT & gaps)


def test_agenda_asks_reviewers_for_the_missing_experiments(paper: Path, capsys) -> None:
    assert main(["audit", str(paper), "--framework", "rigour", "--agenda", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    items = {i["id"]: i for i in data["agenda"][0]["items"]}
    abl = items["RIG-2.1"]["actions"]
    assert abl["publishers"]["require"].startswith("Require an ablation of every design choice")
    assert "`rigorlab study`" in abl["developers"]["measure"]
    assert "`rigorlab redteam`" in items["RIG-6.1"]["actions"]["developers"]["measure"]
    assert "decontam" in items["RIG-4.2"]["actions"]["developers"]["measure"]
    assert not (PRESENT & {i for i, it in items.items() if it["level"] == "absent"})


def test_adding_a_framework_does_not_move_the_others_judgements(tmp_path: Path, monkeypatch) -> None:
    """The judge weights query words by their idf over a fixed set of frameworks, not over whatever is
    installed: a new framework file (here a copy of rigour under another id) leaves DDT's queries as they were."""
    import shutil

    from rigorlab.disclosure.audit import judge
    from rigorlab.disclosure.audit.classifier import load_model
    from rigorlab.disclosure.frameworks import FRAMEWORK_DIR, loader

    def weights() -> list:
        return [p.query.question_weights for p in judge.prepare(load_framework("ddt"), load_model())]

    def clear() -> None:
        loader._builtin_files.cache_clear()
        loader._load_builtin.cache_clear()
        judge._builtin_background.cache_clear()

    before = weights()
    copy = tmp_path / "frameworks"
    shutil.copytree(FRAMEWORK_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (copy / "extra.yaml").write_text((copy / "rigour.yaml").read_text().replace("id: rigour", "id: extra", 1))
    monkeypatch.setattr(loader, "FRAMEWORK_DIR", copy)
    clear()
    try:
        assert "extra" in loader.builtin_ids()
        assert weights() == before
    finally:
        monkeypatch.undo()
        clear()
