"""`rigorlab train` / `pretrain` / `config`: clear one-sentence errors, examples that validate."""

from __future__ import annotations

from pathlib import Path

import pytest

from rigorlab.cli import main
from rigorlab.config import load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, needle", [
    ("grpo:\n  beta: lots\n", "grpo.beta"),
    ("grpo:\n  betta: 0.1\n", "unknown field 'grpo.betta'"),
    ("grpo: [1, 2\n", "not valid YAML"),
    ("- just\n- a list\n", "mapping"),
    ("grpo:\n  kl: {direction: forward, estimator: k3}\n", "forward"),
    ("grpo:\n  loss_type: ppo\n", "grpo.loss_type"),
])
def test_bad_config_is_one_sentence(tmp_path, capsys, text, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    rc = main(["train", str(cfg), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and str(cfg) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_bad_set_and_missing_file(tmp_path, capsys):
    assert main(["train", "--set", "grpo.steps", "--out", str(tmp_path / "r")]) == 2
    assert "--set expects key=value" in capsys.readouterr().err
    assert main(["train", str(tmp_path / "nope.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "--set", "policy.model=/no/such/dir", "--set", "grpo.steps=1",
                 "--out", str(tmp_path / "r2")]) == 2
    assert "policy.model" in capsys.readouterr().err


def test_examples_validate():
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        if path.name.startswith("study"):
            continue
        load_config(path)


def test_config_reference_lists_every_field(capsys):
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    for field in ("grpo.beta", "grpo.kl.estimator", "grpo.epsilon_high", "policy.pretrain.zipf", "eval.ks",
                  "policy.lora.r", "policy.lora.target_modules", "policy.gradient_checkpointing"):
        assert field in out


@pytest.mark.parametrize("argv", [["no-such-command"], ["train", "--no-such-option"], ["theory", "--beta"]])
def test_usage_errors_are_messages_not_tracebacks(capsys, argv):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert "Error" in err and "Traceback" not in err
