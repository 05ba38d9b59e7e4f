"""`rigorlab sample` on the tiny model: verdicts, log-probs, determinism, resume after SIGKILL."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.errors import UserError
from rigorlab.evaluate.problems import builtin_problems, load_problems
from rigorlab.evaluate.sample import layout
from rigorlab.evaluate.verify import MathVerifier, exact_verdict, get_verifier, numeric_verdict

VERIFIER = '''
def check(completion, reference):
    try:
        a, b = completion.split("+")
        return (completion, int(a) + int(b) == int(reference))
    except ValueError:
        return (None, False)
'''


@pytest.fixture(scope="module")
def tiny():
    from conftest import FAST

    from rigorlab.config import load_config
    from rigorlab.rl.trainer import resolve_reference

    return str(resolve_reference(load_config(None, FAST)))


@pytest.fixture()
def work(tmp_path, monkeypatch):
    (tmp_path / "pairs_check.py").write_text(VERIFIER)
    (tmp_path / "probs.jsonl").write_text("".join(json.dumps({"problem": f"S={s}:", "answer": str(s)}) + "\n"
                                                  for s in (7, 11, 4)))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _replay(question: str) -> int:
    """The answer read back from the question's own sentences (independent of the generator)."""
    total = 0
    for sentence in question.split(". "):
        if m := re.search(r"has (\d+) ", sentence):
            total = int(m.group(1))
        elif m := re.search(r"buys (\d+) bags with (\d+)", sentence):
            total += int(m.group(1)) * int(m.group(2))
        elif m := re.search(r"gives (\d+)", sentence):
            total -= int(m.group(1))
        elif "twice as many" in sentence:
            total *= 2
        elif "three times as many" in sentence:
            total *= 3
        elif m := re.search(r"among (\d+) boxes", sentence):
            total //= int(m.group(1))
        elif "finds 1 more" in sentence:
            total += 1
    return total


def _args(model: str, out: str, *extra: str) -> list[str]:
    return ["sample", model, "--tasks", "probs.jsonl", "--n", "8", "--batch-size", "5", "--max-new-tokens", "6",
            "--verifier", "pairs_check:check", "--instruction", "", "--threads", "1", "--out", out, *extra]


def _rows(path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def test_builtin_set_is_deterministic_and_answers_are_right():
    a, b = builtin_problems("arithmetic"), builtin_problems("arithmetic")
    assert a == b and len(a) == 200 and len({p.id for p in a}) == 200
    assert all(int(p.answer) >= 0 for p in a)
    assert load_problems("arithmetic", limit=5) == a[:5]
    assert [_replay(p.question) for p in a] == [int(p.answer) for p in a]
    with pytest.raises(UserError, match="neither a file nor a built-in set"):
        load_problems("no-such-set")


def test_verifiers():
    m = MathVerifier()
    assert m("so \\boxed{20}.", "20").correct and m("\\boxed{\\frac{40}{2}}", "20").correct
    assert not m("\\boxed{21}", "20").correct and m("the answer is 20", "20").answer is None
    assert numeric_verdict("x = 1,234.0 then \\boxed{1234}", "1234") .correct
    assert not numeric_verdict("41", "42").correct and numeric_verdict("no number", "1").answer is None
    assert exact_verdict("\\boxed{ab  c}", "ab c").correct and not exact_verdict("\\boxed{abc}", "ab c").correct
    with pytest.raises(UserError, match="cannot import"):
        get_verifier("no_such_module_xyz:f")


def test_layout_is_problem_major_and_complete():
    batches = layout(3, 8, 5)
    flat = [r for b in batches for r in b]
    assert flat == [(p, s) for p in range(3) for s in range(8)] and max(map(len, batches)) == 5


def test_sample_records_logprobs_and_determinism(tiny, work):
    assert main(_args(tiny, "a.jsonl")) == 0
    assert main(_args(tiny, "b.jsonl")) == 0
    rows = _rows("a.jsonl")
    assert Path("a.jsonl").read_bytes() == Path("b.jsonl").read_bytes()           # same seed, same file
    assert len(rows) == 24 and {(r["prompt_id"], r["sample"]) for r in rows} == \
        {(r["prompt_id"], s) for r in rows for s in range(8)}
    for r in rows:   # the verdict is the user's verifier's, on the model's own completion
        a, _, b = r["completion"].partition("+")
        expected = a.isdigit() and b.isdigit() and int(a) + int(b) == int(r["reference"])
        assert r["correct"] == expected and r["finish_reason"] in ("stop", "length")
        assert r["logprob"] == r["sampling_logprob"]                                # temperature 1, no top-p
    assert 0.3 < sum(r["correct"] for r in rows) / 24                             # the tiny model knows the task
    assert main(_args(tiny, "c.jsonl", "--seed", "1")) == 0
    assert Path("c.jsonl").read_bytes() != Path("a.jsonl").read_bytes()


def test_logprob_is_the_models_own_at_another_temperature(tiny, work):
    from rigorlab.policy.model import load_pretrained
    from rigorlab.policy.sampling import sequence_logprobs

    assert main(_args(tiny, "t.jsonl", "--temperature", "1.5")) == 0
    model, tok = load_pretrained(tiny)
    # rows whose text re-encodes to the sampled tokens (a sampled special token vanishes from the text)
    rows = [r for r in _rows("t.jsonl") if r["finish_reason"] == "stop"
            and len(tok(r["completion"], add_special_tokens=False)["input_ids"]) + 1 == r["tokens"]]
    assert rows and any(r["logprob"] != pytest.approx(r["sampling_logprob"], abs=1e-3) for r in rows)
    prompts = {json.loads(line)["answer"]: json.loads(line)["problem"] for line in Path("probs.jsonl").read_text().splitlines()}
    for r in rows[:8]:
        expected = sequence_logprobs(model, tok, prompts[r["reference"]], [r["completion"]])[0]
        assert r["logprob"] == pytest.approx(expected, abs=1e-4)


def test_resume_refuses_other_settings(tiny, work, capsys):
    assert main(_args(tiny, "a.jsonl")) == 0
    assert main(_args(tiny, "a.jsonl", "--temperature", "0.5")) == 2
    assert "temperature" in capsys.readouterr().err


def test_sigkill_then_rerun_loses_and_duplicates_nothing(tiny, work):
    """A real subprocess killed mid-run; the rerun completes the file, equal to an uninterrupted run."""
    args = ["sample", tiny, "--tasks", "probs.jsonl", "--n", "64", "--batch-size", "2", "--max-new-tokens", "6",
            "--verifier", "pairs_check:check", "--instruction", "", "--threads", "1"]
    env = dict(os.environ, PYTHONPATH=f"{work}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    cmd = [sys.executable, "-m", "rigorlab.cli", *args, "--out", "killed.jsonl"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            if Path("killed.jsonl").exists() and Path("killed.jsonl").read_text().count("\n") >= 20:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    partial = Path("killed.jsonl").read_text().count("\n")
    assert 20 <= partial < 192, "the kill must land mid-run"
    assert main([*args, "--out", "killed.jsonl"]) == 0
    assert main([*args, "--out", "whole.jsonl"]) == 0
    killed, whole = _rows("killed.jsonl"), _rows("whole.jsonl")
    key = lambda r: (r["prompt_id"], r["sample"])  # noqa: E731
    assert len(killed) == 192 and len({key(r) for r in killed}) == 192
    assert sorted(killed, key=key) == sorted(whole, key=key)


def test_vllm_backend_without_vllm_or_gpu_is_one_sentence(tiny, work, capsys):
    import importlib.util

    import torch

    if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available():
        pytest.skip("vLLM and a GPU are present")
    assert main(_args(tiny, "v.jsonl", "--backend", "vllm")) == 2
    err = capsys.readouterr().err
    assert "--backend vllm needs" in err and "Traceback" not in err
    assert not Path("v.jsonl").exists()
