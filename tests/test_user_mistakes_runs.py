"""Run-directory mistakes: huge token budgets, a failed start then the corrected one,
two trainers on one directory, and `card from-run` on something that is not a run."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rigorlab.budget import ModelShape, completion_budget_problem
from rigorlab.cli import main
from rigorlab.errors import allocation_failure_sentence


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.fixture
def fast_sets():
    from conftest import FAST

    return [x for s in FAST + ["eval.samples=4", "eval.ks=[1,4]"] for x in ("--set", s)]


@pytest.mark.parametrize("field", ["grpo.max_completion_length", "grpo.max_new_tokens"])
def test_huge_token_budget_is_refused_before_anything_runs(field, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(["train", "--set", f"{field}=1000000000", "--out", "run"])
    line = _one_line(capsys)
    assert rc == 2
    assert "1000000000" in line and "context holds 128 tokens" in line and "max_completion_length" in line
    assert _tree(tmp_path) == set()


def test_a_batch_bigger_than_memory_is_refused():
    shape = ModelShape(context=None, vocab=50_000, hidden=1024, layers=24, intermediate=4096)
    problem = completion_budget_problem("grpo.max_completion_length", 30_000, shape, 64, memory=8 * 2**30)
    assert problem is not None and "GiB" in problem and "8.0 GiB" in problem
    assert completion_budget_problem("grpo.max_completion_length", 16, shape, 64, memory=8 * 2**30) is None


def test_hf_model_context_comes_from_its_config(tmp_path, capsys):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"max_position_embeddings": 512, "vocab_size": 1000, '
                                       '"hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128}')
    rc = main(["train", "--set", f"policy.model={model}", "--set", "grpo.max_completion_length=600",
               "--out", str(tmp_path / "run")])
    assert rc == 2 and "context holds 512 tokens" in _one_line(capsys)
    assert not (tmp_path / "run").exists()


def test_allocation_failure_is_one_sentence(tmp_path, capsys, monkeypatch):
    """A real failed allocation (torch asked for 24 TB) inside a run becomes one sentence."""
    import torch

    import rigorlab.pipeline.run as run_mod

    def allocate(*args, **kwargs):
        torch.empty(6 * 10**12, dtype=torch.float32)   # 24 TB: the CPU allocator refuses

    monkeypatch.setattr(run_mod, "run_training", allocate)
    rc = main(["train", "--out", str(tmp_path / "run")])
    line = _one_line(capsys)
    assert rc == 2 and "more memory than this machine can give" in line
    assert allocation_failure_sentence(ValueError("can't allocate memory")) is None   # only real allocator errors


def test_failed_start_then_corrected_start(tmp_path, capsys, fast_sets):
    not_a_model = tmp_path / "not-a-model"
    not_a_model.mkdir()
    run = tmp_path / "run"
    rc = main(["train", "--set", f"policy.model={not_a_model}", "--set", "grpo.steps=1", "--out", str(run)])
    assert rc == 2 and str(not_a_model) in _one_line(capsys)
    assert not run.exists()                        # the failed start left nothing behind
    # a directory that existed before the failed start keeps nothing that blocks the fix
    run.mkdir()
    assert main(["train", "--set", f"policy.model={not_a_model}", "--set", "grpo.steps=1",
                 "--out", str(run)]) == 2
    capsys.readouterr()
    assert main(["train", *fast_sets, "--set", "grpo.steps=1", "--no-docs", "--out", str(run)]) == 0
    assert (run / "summary.json").is_file()
    captured = capsys.readouterr()   # the result table on stdout (`> file` keeps it), not on stderr
    assert "reference vs trained" in captured.out and "reference vs trained" not in captured.err
    # and, with the run really started, a different config is still refused
    rc = main(["train", *fast_sets, "--set", "grpo.steps=1", "--set", "grpo.beta=0.5", "--no-docs",
               "--out", str(run), "--resume"])
    assert rc == 2 and "config differs" in capsys.readouterr().err


def test_second_train_on_a_locked_run_directory_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from rigorlab.pipeline.start import claim_run_dir
        with claim_run_dir({str(run)!r}):
            print("locked", flush=True)
            sys.stdin.readline()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = _tree(tmp_path)
        rc = main(["train", "--resume", "--out", str(run)])
        line = _one_line(capsys)
        assert rc == 2 and str(run) in line and "in use by another rigorlab process" in line
        assert _tree(tmp_path) == before
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert holder.returncode == 0


@pytest.mark.parametrize("content", ["nothing", "config-only", "file"])
def test_card_from_run_refuses_a_non_run(content, tmp_path, capsys):
    target = tmp_path / "target"
    if content == "file":
        target.write_text("x")
    else:
        target.mkdir()
        if content == "config-only":
            (target / "config.yaml").write_text("seed: 0\n")
    before = _tree(tmp_path)
    rc = main(["card", "from-run", str(target)])
    line = _one_line(capsys)
    assert rc == 2 and str(target) in line
    assert _tree(tmp_path) == before
