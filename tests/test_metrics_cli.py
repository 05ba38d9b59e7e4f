"""`rigorlab diversity`: file formats, the numbers it reports, and one-sentence errors."""

from __future__ import annotations

import csv
import json

import pytest

from rigorlab.cli import main
from rigorlab.metrics import answer_entropy, pass_at_k
from rigorlab.metrics.loaders import load_records

ROWS = [
    # prompt p1: 4 samples, 2 correct, answers 5,5,6,none; p2: 4 samples, 1 correct
    {"prompt": "p1", "text": "two plus three is five", "answer": "5", "correct": True},
    {"prompt": "p1", "text": "adding two and three gives five", "answer": "5", "correct": True},
    {"prompt": "p1", "text": "two plus three is six", "answer": "6", "correct": False},
    {"prompt": "p1", "text": "wait wait wait wait wait wait wait wait wait wait wait wait", "answer": None, "correct": False},
    {"prompt": "p2", "text": "ten minus four is six", "answer": "6", "correct": True},
    {"prompt": "p2", "text": "ten minus four is five", "answer": "5", "correct": False},
    {"prompt": "p2", "text": "ten take away four is seven", "answer": "7", "correct": False},
    {"prompt": "p2", "text": "ten minus four is seven", "answer": "7", "correct": False},
]
FLAGS = ["--prompt-field", "prompt", "--answer-field", "answer", "--correct-field", "correct", "--k", "1,2,4", "--json",
         "--n-boot", "200"]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    return path


def _run(capsys, args):
    rc = main(["diversity", *[str(a) for a in args]])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _metrics(out):
    return {(m["section"], m["metric"]): m for m in json.loads(out)["metrics"]}


def test_jsonl_numbers(tmp_path, capsys):
    rc, out, _ = _run(capsys, [_jsonl(tmp_path / "s.jsonl", ROWS), *FLAGS])
    assert rc == 0
    m = _metrics(out)
    assert m[("size", "prompts")]["value"] == 2
    assert m[("pass@k", "pass@1")]["value"] == pytest.approx((pass_at_k(4, 2, 1) + pass_at_k(4, 1, 1)) / 2)
    assert m[("pass@k", "pass@2")]["value"] == pytest.approx((pass_at_k(4, 2, 2) + pass_at_k(4, 1, 2)) / 2)
    assert m[("pass@k", "pass@4")]["value"] == pytest.approx(1.0)
    sec = "answers (within prompt)"
    assert m[(sec, "distinct answers")]["value"] == pytest.approx(2.5)
    expected_h = (answer_entropy(["5", "5", "6", None]) + answer_entropy(["6", "5", "7", "7"])) / 2
    assert m[(sec, "answer entropy (nats)")]["value"] == pytest.approx(expected_h)
    assert m[(sec, "no answer extracted")]["value"] == pytest.approx(0.125)
    loops = m[("chain of thought", "ends in a loop")]
    assert loops["value"] == pytest.approx(1 / 8) and loops["lo"] <= loops["value"] <= loops["hi"]


def test_csv_and_parquet_give_the_same_numbers(tmp_path, capsys):
    _, ref, _ = _run(capsys, [_jsonl(tmp_path / "s.jsonl", ROWS), *FLAGS])
    rc, out, _ = _run(capsys, [_csv(tmp_path / "s.csv", ROWS), *FLAGS])
    assert rc == 0 and _metrics(out) == _metrics(ref)
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "s.parquet")
    rc, out, _ = _run(capsys, [tmp_path / "s.parquet", *FLAGS])
    assert rc == 0 and _metrics(out) == _metrics(ref)


def test_correct_answer_lists_give_coverage(tmp_path, capsys):
    rows = [dict(r, gold=["5", "3+2"] if r["prompt"] == "p1" else ["6"]) for r in ROWS]
    args = [_jsonl(tmp_path / "g.jsonl", rows), "--prompt-field", "prompt", "--answer-field", "answer",
            "--correct-field", "gold", "--k", "1", "--json", "--n-boot", "100"]
    rc, out, _ = _run(capsys, args)
    assert rc == 0
    m = _metrics(out)
    assert m[("answers (within prompt)", "coverage of correct answers")]["value"] == pytest.approx((0.5 + 1.0) / 2)
    assert m[("pass@k", "pass@1")]["value"] == pytest.approx((2 / 4 + 1 / 4) / 2)


def test_table_output_and_no_prompt_field(tmp_path, capsys):
    rc, out, _ = _run(capsys, [_jsonl(tmp_path / "s.jsonl", ROWS), "--n-boot", "100"])
    assert rc == 0
    assert "Collapse diagnostics" in out and "self-BLEU-4" in out and "whole set" in out
    assert "pass@" not in out                                    # no correctness field given


@pytest.mark.parametrize("content, args, message", [
    ("", [], "holds no records"),
    ('{"text": "a"}\n{"text": 3}\n', [], "record 2: field 'text' is int, not text"),
    ('{"txt": "a"}\n', [], "has no field 'text' (fields: txt)"),
    ('{"text": "a"}\n', ["--prompt-field", "q"], "has no field 'q'"),
    ('{"text": "a"}\nnot json\n', [], "line 2: not valid JSON"),
    ('["a"]\n', [], "line 1: expected a JSON object"),
    ('{"text": "a", "ok": "maybe"}\n', ["--correct-field", "ok"], "'ok' is 'maybe', not true/false"),
    ('{"text": "a"}\n', ["--k", "1,x"], "--k must be comma-separated"),
])
def test_user_mistakes_are_one_sentence(tmp_path, capsys, content, args, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    rc, out, err = _run(capsys, [path, *args])
    assert rc == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_loader_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_records(tmp_path / "missing.jsonl")
    (tmp_path / "x.txt").write_text("a", encoding="utf-8")
    with pytest.raises(ValueError, match="extension '.txt'"):
        load_records(tmp_path / "x.txt")
    (tmp_path / "h.csv").write_text("text\n", encoding="utf-8")
    with pytest.raises(ValueError, match="holds no records"):
        load_records(tmp_path / "h.csv")
