"""The embedded tasks and a user's JSONL task: extraction, verification, correct sets, errors."""

from __future__ import annotations

import json

import pytest

from rigorlab.errors import UserError
from rigorlab.tasks import build_task
from rigorlab.tasks.chain import ORDERS, render, solve


def test_pairs_correct_set_and_verifier():
    task = build_task("pairs")
    p = task.make_prompt(9)
    assert task.correct_answers(p) == frozenset(f"{a}+{9 - a}" for a in range(10))
    assert len(task.outcomes(p)) == 100
    assert task.verify(p, task.extract("4+5")) == 1.0
    assert task.verify(p, task.extract("4+6")) == 0.0
    assert task.extract("4+") is None and task.verify(p, None) == 0.0


def test_chain_orders_reach_the_answer_with_distinct_signatures():
    task = build_task("chain")
    p = task.make_prompt([3, 5, 2, 4])
    sigs = set()
    for order in ORDERS:
        c = render(solve([3, 5, 2, 4], order))
        assert task.verify(p, task.extract(c)) == 1.0 and task.format_ok(c)
        assert task.path_kind(p, c) == order
        sigs.add(task.signature(c))
    assert len(sigs) == 3
    assert not task.format_ok("3+5=9,9+2=11,11+4=15;15")        # a wrong step fails the format


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + "\n")
    return path


def test_jsonl_task_exact_and_numeric(tmp_path):
    f = _write(tmp_path / "t.jsonl", [{"prompt": f"2*{n}=", "answer": str(2 * n)} for n in range(10)])
    exact = build_task("jsonl", path=str(f))
    p = exact.split_rows["eval"][0]
    assert exact.verify(p, exact.extract(f" {p.target} ")) == 1.0
    assert exact.verify(p, exact.extract(p.target + ".0")) == 0.0
    numeric = build_task("jsonl", path=str(f), verifier="numeric")
    assert numeric.verify(p, numeric.extract(p.target + ".0")) == 1.0
    assert len(exact.split_rows["train"]) == 8 and len(exact.split_rows["eval"]) == 2
    assert exact.prompts("train", 5, 0) == exact.prompts("train", 5, 0)


@pytest.mark.parametrize("content, needle", [
    (b'{"prompt": "a", "answer": "b"}\nnot json\n', "line 2: not valid JSON"),
    (b'{"prompt": "a"}\n', "record 1: needs fields 'prompt' and 'answer'"),
    (b'\xff\xfe\x00bad', "not UTF-8"),
    (b"\n\n", "has no examples"),
])
def test_jsonl_task_bad_files_are_one_sentence(tmp_path, content, needle):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(content)
    with pytest.raises(UserError, match=needle):
        build_task("jsonl", path=str(f))
    with pytest.raises(UserError, match="does not exist"):
        build_task("jsonl", path=str(tmp_path / "none.jsonl"))
