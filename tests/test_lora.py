"""LoRA (policy.lora) and gradient checkpointing (policy.gradient_checkpointing) in the trainer."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import FAST
from rigorlab.cli import main
from rigorlab.config import LoraConfig, load_config
from rigorlab.policy.lora import add_lora
from rigorlab.policy.model import build_tiny_model, enable_checkpointing, load_pretrained
from rigorlab.policy.sampling import encode_prompts, forward_logprobs, gather_tokens
from rigorlab.policy.tokenizer import build_char_tokenizer
from rigorlab.rl.trainer import GRPOTrainer

LORA = "policy.lora={r: 4, alpha: 8, target_modules: [q_proj, v_proj, down_proj]}"
TIMING = ("time/", "tokens_per_s")


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith(TIMING)} for r in rows]


def _batch(tok, G=4):
    pids, pmask = encode_prompts(tok, [p for p in ("S=9:", "S=12:") for _ in range(G)])
    g = torch.Generator().manual_seed(0)
    cids = torch.randint(4, 99, (pids.shape[0], 4), generator=g)
    cmask = torch.ones(cids.shape)
    cmask[1, 2:] = 0
    return pids, pmask, cids, cmask


def _logp(model, batch, G=4):
    pids, pmask, cids, cmask = batch
    return gather_tokens(forward_logprobs(model, pids, pmask, cids, cmask, group_size=G, fast=None), cids) * cmask


def test_lora_trains_only_the_adapters_and_the_reference_is_the_base_model(tmp_path):
    cfg = load_config(None, FAST + ["grpo.steps=3", "grpo.learning_rate=0.01", LORA])
    tr = GRPOTrainer(cfg, tmp_path / "run")
    tr.setup()
    base = {n: p.detach().clone() for n, p in tr.policy.named_parameters() if "lora_" not in n}
    assert tr.fast is None and tr.ref_fast is None                       # the lean forward cannot run adapters
    tr.train()
    after = dict(tr.policy.named_parameters())
    assert all(torch.equal(after[n], w) for n, w in base.items())        # base weights bit-identical
    trainable = {n for n, p in after.items() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    assert any(after[n].abs().sum() > 0 for n in trainable if "lora_B" in n)   # B starts at 0 and moved

    fresh, tok = load_pretrained(tr.ref_dir)
    batch = _batch(tok)
    with torch.no_grad():
        ref, base_lp, pol = _logp(tr.ref, batch), _logp(fresh.eval(), batch), _logp(tr.policy.eval(), batch)
    assert torch.equal(ref, base_lp)                   # adapters off == the base model, exactly
    assert not torch.allclose(pol, base_lp)            # and the policy is not the base model any more
    facts = json.loads((tmp_path / "run" / "policy.json").read_text())
    assert facts["fine_tuning"] == "lora" and facts["lora"]["target_modules"] == ["q_proj", "v_proj", "down_proj"]
    assert facts["trainable_parameters"] == sum(after[n].numel() for n in trainable)
    assert facts["parameters"] == sum(p.numel() for p in fresh.parameters())


def test_lora_model_dir_is_merged_and_the_adapter_is_kept(tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    cfg = load_config(None, FAST + ["grpo.steps=2", "grpo.learning_rate=0.01", LORA])
    tr = GRPOTrainer(cfg, tmp_path / "run")
    tr.train()
    out = tr.save_model()
    merged = AutoModelForCausalLM.from_pretrained(out).eval()            # plain transformers, no peft
    assert not any("lora" in n for n, _ in merged.named_parameters())
    adapter_cfg = json.loads((out / "adapter" / "adapter_config.json").read_text())
    assert adapter_cfg["r"] == 4 and adapter_cfg["base_model_name_or_path"] == str(tr.ref_dir)
    base, tok = load_pretrained(tr.ref_dir)
    again = PeftModel.from_pretrained(base, out / "adapter").eval()
    batch = _batch(tok)
    with torch.no_grad():
        pol = _logp(tr.policy.eval(), batch)
        assert torch.allclose(_logp(merged, batch), pol, atol=1e-5)
        assert torch.equal(_logp(again.get_base_model(), batch), pol)     # the saved adapters are the trained ones
        assert torch.equal(_logp(tr.ref, batch), _logp(load_pretrained(tr.ref_dir)[0].eval(), batch))  # not merged in place


def test_lora_resume_repeats_the_uninterrupted_run(tmp_path):
    cfg = load_config(None, FAST + ["grpo.steps=4", "save_every=2", "grpo.learning_rate=0.01",
                                    "policy.lora={r: 4, dropout: 0.2}"])
    full = GRPOTrainer(cfg, tmp_path / "full").train()
    cut = GRPOTrainer(cfg, tmp_path / "cut")
    cut.setup()
    with open(tmp_path / "cut" / "metrics.jsonl", "a", encoding="utf-8") as fh:
        for _ in range(3):                   # three steps, checkpoint after the second: step 3 is lost
            fh.write(json.dumps(cut.train_step()) + "\n")
            if cut.step == 2:
                cut.save()
    del cut
    resumed = GRPOTrainer(cfg, tmp_path / "cut", resume=True)
    rows = resumed.train()
    assert [r["step"] for r in rows] == [0, 1, 2, 3]
    assert _strip(rows) == _strip(full)
    state = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)["model"]
    assert state and all("lora_" in n for n in state)              # the checkpoint holds the adapters only


def _grads(model, batch, params):
    model.train()
    for p in params:
        p.grad = None
    _logp(model, batch).sum().backward()
    return [p.grad.clone() for p in params]


@pytest.mark.parametrize("lora", [False, True])
def test_gradient_checkpointing_gives_the_same_gradients(lora):
    tok = build_char_tokenizer()

    def model(checkpointing: bool):
        from rigorlab.config import TinyModelConfig

        m = build_tiny_model(TinyModelConfig(hidden_size=32, num_hidden_layers=3, intermediate_size=64), tok, 0)
        if checkpointing:
            enable_checkpointing(m)
        if lora:
            m = add_lora(m, LoraConfig(r=4, target_modules=["q_proj", "v_proj"]), seed=1).get_base_model()
            with torch.no_grad():   # B = 0 at the start would leave A without gradient
                for n, p in m.named_parameters():
                    if "lora_B" in n:
                        p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(len(n))))
        return m

    batch = _batch(tok)
    plain, ckpt = model(False), model(True)
    params = [[p for p in m.parameters() if p.requires_grad] for m in (plain, ckpt)]
    assert ckpt.model.gradient_checkpointing and len(params[0]) == len(params[1])
    for a, b in zip(_grads(plain, batch, params[0]), _grads(ckpt, batch, params[1])):
        assert torch.allclose(a, b, rtol=1e-5, atol=1e-7)
        assert a.abs().sum() > 0


def test_checkpointing_run_matches_the_plain_transformers_run(tmp_path):
    sets = FAST + ["grpo.steps=2", "policy.fast_forward=off"]
    a = GRPOTrainer(load_config(None, sets), tmp_path / "a").train()
    b = GRPOTrainer(load_config(None, sets + ["policy.gradient_checkpointing=true"]), tmp_path / "b").train()
    for x, y in zip(_strip(a), _strip(b)):
        assert x.keys() == y.keys()
        assert all(x[k] == pytest.approx(y[k], rel=1e-4, abs=1e-6) for k in x)


@pytest.mark.parametrize("policy, needle", [
    ("  fast_forward: 'on'\n  lora: {r: 4}\n", "cannot run LoRA adapters"),
    ("  fast_forward: 'on'\n  gradient_checkpointing: true\n", "cannot run gradient checkpointing"),
    ("  lora: {r: 0}\n", "policy.lora.r"),
    ("  lora: {rank: 4}\n", "unknown field 'policy.lora.rank'"),
    ("  lora: {target_modules: []}\n", "policy.lora.target_modules"),
    ("  lora: {target_modules: ['']}\n", "empty name"),
    ("  lora: {dropout: 1.0}\n", "policy.lora.dropout"),
    ("  lora: 8\n", "policy.lora"),
    ("  gradient_checkpointing: sometimes\n", "policy.gradient_checkpointing"),
])
def test_bad_lora_and_checkpointing_settings_are_one_sentence(tmp_path, capsys, policy, needle):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("policy:\n" + policy)
    rc = main(["train", str(cfg), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and str(cfg) in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_an_absent_target_module_is_one_sentence(tmp_path, capsys):
    sets = [x for s in FAST + ["grpo.steps=1", "policy.lora={target_modules: [qkv_proj]}"] for x in ("--set", s)]
    rc = main(["train", *sets, "--no-docs", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "policy.lora.target_modules" in err and "qkv_proj" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_unused_options_keep_the_config_hash():
    """A config that uses neither option dumps (and hashes) as before they existed."""
    plain = load_config(None, FAST)
    dumped = plain.model_dump(mode="json")["policy"]
    assert "lora" not in dumped and "gradient_checkpointing" not in dumped
    assert load_config(None, FAST + ["policy.lora=null", "policy.gradient_checkpointing=false"]).hash() == plain.hash()
    used = load_config(None, FAST + [LORA, "policy.gradient_checkpointing=true"])
    assert used.hash() != plain.hash() and used.model_dump()["policy"]["lora"]["r"] == 4
