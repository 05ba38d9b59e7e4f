"""The LM trainer: learning, determinism, and exact resume after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FAST
from rigorlab.config import load_config
from rigorlab.io import read_jsonl
from rigorlab.rl.trainer import GRPOTrainer

TIMING = ("time/", "tokens_per_s")


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith(TIMING)} for r in rows]


def test_same_seed_same_metrics(tmp_path):
    cfg = load_config(None, FAST + ["grpo.steps=4", "grpo.kl.estimator=full", "grpo.entropy_coef=0.01"])
    a = GRPOTrainer(cfg, tmp_path / "a").train()
    b = GRPOTrainer(cfg, tmp_path / "b").train()
    assert len(a) == 4
    assert _strip(a) == _strip(b)
    c = GRPOTrainer(load_config(None, FAST + ["grpo.steps=4", "seed=1", "grpo.kl.estimator=full",
                                               "grpo.entropy_coef=0.01"]), tmp_path / "c").train()
    assert _strip(a) != _strip(c)
    for key in ("kl/k1", "kl/k3", "kl/reverse_exact", "kl/forward_exact", "entropy", "accuracy",
                "reward/mean", "reward/std", "frac_reward_zero_std", "answers/distinct", "answers/entropy",
                "cov/logp_adv", "grad_norm", "clip_ratio/region_mean", "completions/mean_length",
                "coef/beta", "coef/entropy_coef", "tokens_per_s", "time/step"):
        assert key in a[-1], key


def test_training_raises_accuracy_above_reference(tmp_path):
    from rigorlab.pipeline.run import run_training

    cfg = load_config(None, FAST + ["grpo.steps=30", "grpo.prompts_per_step=8",
                                    "eval.samples=32", "eval.ks=[1,8,32]"])
    summary = run_training(cfg, tmp_path / "run", documents=False)
    ref, trained = summary["reference"]["accuracy"], summary["trained"]["accuracy"]
    # 13 prompts x 32 samples each; a gain of 0.05 is > 4 standard errors at these rates
    assert trained > ref + 0.05, (ref, trained)
    ev = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert len(ev) == 30
    assert (tmp_path / "run" / "model" / "config.json").is_file()
    assert "tv_to_optimum/reverse" in summary["trained"]
    assert summary["trained"]["beta_used"] == pytest.approx(cfg.grpo.beta)   # read by studies and reports


def _cli(args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rigorlab.cli", *args], env=env, timeout=600,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    sets = [x for s in FAST + ["grpo.steps=14", "save_every=3", "eval.samples=4", "eval.ks=[1]"]
            for x in ("--set", s)]
    full = _cli(["train", "--out", str(tmp_path / "full"), "--no-docs", *sets], env)
    assert full.returncode == 0, full.stderr.decode()[-2000:]

    killed = subprocess.Popen([sys.executable, "-m", "rigorlab.cli", "train", "--out", str(tmp_path / "killed"),
                               "--no-docs", *sets], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = tmp_path / "killed" / "metrics.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and len(read_jsonl(log)) < 7:
        time.sleep(0.02)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    assert len(read_jsonl(log)) < 14, "the run finished before it could be killed"

    resumed = _cli(["train", "--out", str(tmp_path / "killed"), "--resume", "--no-docs", *sets], env)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    a = _strip(read_jsonl(tmp_path / "full" / "metrics.jsonl"))
    b = _strip(read_jsonl(log))
    assert [r["step"] for r in b] == list(range(14))
    assert a == b
