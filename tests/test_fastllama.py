"""The lean Llama forward must compute what `transformers` computes."""

from __future__ import annotations

import torch

from rigorlab.config import TinyModelConfig
from rigorlab.policy.fastllama import FastLlama, supports
from rigorlab.policy.model import build_tiny_model
from rigorlab.policy.sampling import encode_prompts, forward_logprobs, gather_tokens, sample
from rigorlab.policy.tokenizer import build_char_tokenizer


def _model(kv_heads: int | None = None):
    tok = build_char_tokenizer()
    m = build_tiny_model(TinyModelConfig(hidden_size=32, num_hidden_layers=2, intermediate_size=64), tok, 0)
    if kv_heads:
        from transformers import LlamaConfig, LlamaForCausalLM

        cfg = LlamaConfig(**{**m.config.to_dict(), "num_key_value_heads": kv_heads})
        torch.manual_seed(0)
        m = LlamaForCausalLM(cfg)
    return m.eval(), tok


def _left_padded(B=6, L=9):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(4, 90, (B, L), generator=g)
    attn = torch.ones_like(ids)
    attn[0, :4] = 0
    attn[3, :2] = 0
    return ids, attn, (attn.cumsum(1) - 1).clamp_min(0)


def test_full_forward_and_gradients_match_transformers():
    for kv in (None, 2):
        m, _ = _model(kv)
        assert supports(m)
        ids, attn, pos = _left_padded()
        ref = m(input_ids=ids, attention_mask=attn, position_ids=pos).logits
        fast = FastLlama(m).forward(ids, attn, pos)
        real = attn.bool()
        torch.testing.assert_close(fast[real], ref[real], rtol=1e-5, atol=1e-5)
        g_ref = torch.autograd.grad(ref[real].logsumexp(-1).sum(), list(m.parameters()), allow_unused=True)
        g_fast = torch.autograd.grad(fast[real].logsumexp(-1).sum(), list(m.parameters()), allow_unused=True)
        for a, b in zip(g_ref, g_fast):
            if a is not None:
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_cached_steps_match_full_forward():
    m, _ = _model()
    ids, attn, pos = _left_padded()
    fast = FastLlama(m)
    with torch.no_grad():
        full = fast.forward(ids, attn, pos)
        cache = fast.new_cache(ids.shape[0], ids.shape[1], torch.float32, "cpu")
        out = fast.step(ids[:, :5], attn[:, :5], pos[:, :5], cache, 0)
        torch.testing.assert_close(out, full[:, 4], rtol=1e-5, atol=1e-5)
        for t in range(5, ids.shape[1]):
            out = fast.step(ids[:, t:t + 1], attn[:, :t + 1], pos[:, t:t + 1], cache, t)
            torch.testing.assert_close(out, full[:, t], rtol=1e-5, atol=1e-5)


def test_sampling_logprobs_equal_training_forward():
    m, tok = _model()
    pids, pmask = encode_prompts(tok, ["S=9:", "S=12:", "1+2+3:"] * 4)
    ro = sample(m, tok, pids, pmask, 8, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        lp = gather_tokens(forward_logprobs(m, pids, pmask, ro.completion_ids, ro.completion_mask),
                           ro.completion_ids) * ro.completion_mask
    torch.testing.assert_close(lp, ro.sample_logp, rtol=1e-5, atol=1e-5)
    # sampled tokens follow the mask: padding after EOS only
    assert ((ro.completion_ids == tok.pad_token_id) | ro.completion_mask.bool()).all()


def test_grouped_forward_equals_the_plain_forward():
    """Computing each prompt once per group of G gives the same log-probs and gradients."""
    m, tok = _model(kv_heads=2)
    G = 4
    pids, pmask = encode_prompts(tok, [p for p in ["S=9:", "1+2+3:", "S=12:"] for _ in range(G)])
    ro = sample(m, tok, pids, pmask, 7, generator=torch.Generator().manual_seed(3))
    mask = ro.completion_mask
    plain = forward_logprobs(m, pids, pmask, ro.completion_ids, mask)
    grouped = forward_logprobs(m, pids, pmask, ro.completion_ids, mask, group_size=G)
    real = mask.bool()
    torch.testing.assert_close(grouped[real], plain[real], rtol=1e-5, atol=1e-5)
    params = list(m.parameters())
    g_plain = torch.autograd.grad((gather_tokens(plain, ro.completion_ids) * mask).sum(), params, allow_unused=True)
    g_group = torch.autograd.grad((gather_tokens(grouped, ro.completion_ids) * mask).sum(), params, allow_unused=True)
    for a, b in zip(g_plain, g_group):
        if a is not None:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    # rows that do not share their group's prompt fall back to the plain forward
    mixed = forward_logprobs(m, pids, pmask, ro.completion_ids, mask, group_size=5 if pids.shape[0] % 5 == 0 else 3)
    torch.testing.assert_close(mixed[real], plain[real], rtol=1e-5, atol=1e-5)
