"""Provenance recorder and the n-gram decontamination check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rigorlab.disclosure.provenance.decontam import ngram_overlap, tokens
from rigorlab.disclosure.provenance import ProvenanceRecorder, content_hash
from rigorlab.errors import UserError


def test_record_counts_hash_and_origin(tmp_path: Path) -> None:
    rec = ProvenanceRecorder(tmp_path)
    records = [{"prompt": "What is 2 + 2?", "answer": "4"}, {"prompt": "what is 2  +  2?", "answer": "4"},
               {"prompt": "What is 3 + 5?", "answer": "8"}]
    e = rec.record_dataset("p", "rl-prompts", records, generator="gen.pairs", params={"max": 9}, seed=3,
                           filters=[{"name": "len", "removed": 2, "kept": 3}])
    assert e["source_type"] == "synthetic" and e["seed"] == 3 and e["fields"] == ["answer", "prompt"]
    assert e["counts"] == {"examples": 3, "characters": 14 + 16 + 14, "words": 5 + 5 + 5, "approx_tokens": 11,
                           "unique_examples": 2, "exact_duplicates": 1}
    expected = hashlib.sha256("".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode()).hexdigest()
    assert e["sha256"] == expected == content_hash(records)
    assert content_hash(records[::-1]) != expected  # order is part of the content
    assert e["filters"][0] == {"name": "len", "description": None, "removed": 2, "kept": 3}


def test_file_source_hashes_the_file_and_leaves_type_unstated(tmp_path: Path) -> None:
    src = tmp_path / "d.txt"
    src.write_bytes(b"a\nb\n")
    e = ProvenanceRecorder(tmp_path).record_dataset("d", "pretraining", ["a", "b"], source_path=str(src))
    assert e["file_sha256"] == hashlib.sha256(b"a\nb\n").hexdigest() and e["file_bytes"] == 4
    assert e["source_type"] is None  # a path does not say public, licensed or crawled


def test_save_resume_and_rerecord(tmp_path: Path) -> None:
    rec = ProvenanceRecorder(tmp_path)
    rec.record_dataset("a", "evaluation", ["x y"])
    rec.save()
    again = ProvenanceRecorder(tmp_path)
    assert [d["name"] for d in again.data["datasets"]] == ["a"]
    with pytest.raises(UserError, match="earlier session"):
        again.record_dataset("b", "rl-prompts", ["x y"]) and again.check_contamination("b", "a")
    again.record_dataset("a", "evaluation", ["x y", "z"])  # replaces, never duplicates
    assert [d["counts"]["examples"] for d in again.data["datasets"]] == [2, 1]
    assert again.check_contamination("b", "a", n=2)["contaminated"] == 1
    again.save()
    assert json.loads((tmp_path / "provenance.json").read_text())["contamination"][0]["eval"] == "a"
    assert not list(tmp_path.glob(".*.tmp"))


def test_bad_inputs_are_user_errors(tmp_path: Path) -> None:
    rec = ProvenanceRecorder(tmp_path)
    with pytest.raises(UserError, match="`removed` must be a count"):
        rec.record_dataset("a", "x", ["t"], filters=[{"name": "f", "removed": -1}])
    with pytest.raises(UserError, match="string or a mapping"):
        rec.record_dataset("a", "x", [3])
    with pytest.raises(UserError, match="no data set named `zz`"):
        rec.check_contamination("zz", "a")
    (tmp_path / "provenance.json").write_text("{broken")
    with pytest.raises(UserError, match="provenance.json:1"):
        ProvenanceRecorder(tmp_path)


def test_tokens_keep_operators() -> None:
    assert tokens("What is 12+7?") == ["what", "is", "12", "+", "7", "?"]


def test_ngram_overlap_exact_counts() -> None:
    train = ["the quick brown fox jumps over the lazy dog", "12+7", "alpha beta"]
    ev = ["a quick brown fox jumps over a dog",  # 4-gram 'quick brown fox jumps' shared
          "12-7",                                  # differs only in the operator: not shared
          "12 + 7",                                # same tokens as '12+7': shared (compared whole)
          "beta alpha gamma delta"]                # no 4-gram in common
    r = ngram_overlap(train, ev, n=4)
    assert (r["contaminated"], r["eval_examples"]) == (2, 4)
    assert r["fraction"] == pytest.approx(0.5)
    assert [(o["eval_index"], o["train_index"], o["shared"]) for o in r["overlaps"]] == [
        (0, 0, "quick brown fox jumps"), (2, 1, "12 + 7")]
    assert r["short_train_texts"] == 2 and r["short_eval_texts"] == 2
    assert ngram_overlap(train, ev, n=4) == r  # deterministic


def test_ngram_overlap_listing_is_capped_but_count_is_not() -> None:
    train = [f"item number {i} of the list" for i in range(100)]
    r = ngram_overlap(train, train, n=3, max_listed=5)
    assert r["contaminated"] == 100 and r["overlaps_listed"] == 5
    with pytest.raises(ValueError):
        ngram_overlap(train, train, n=0)
