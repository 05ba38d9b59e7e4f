"""The lean Llama forward must compute what `transformers` computes."""

from __future__ import annotations

import pytest
import torch

from rigorlab.config import TinyModelConfig
from rigorlab.policy.fastllama import FastLlama, fast_forward, supports, unsupported_reason
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
    """Sampling's decoder (prefill, then one token at a time) equals the full forward, with and
    without shared kv heads, whether decoding reads exactly the keys written so far, a
    zero-padded minimum, or the whole cache."""
    from rigorlab.policy.sampling import _LeanDecoder

    for kv_heads in (None, 2):
        m, _ = _model(kv_heads)
        ids, attn, pos = _left_padded()                  # padding only inside the first 5 tokens
        fast = FastLlama(m)
        for min_keys in (1, 7, 10**6):
            fast.min_keys = min_keys
            with torch.no_grad():
                full = fast.forward(ids, attn, pos)
                decoder = _LeanDecoder(fast, ids[:, :5], attn[:, :5], ids.shape[1] - 5 + 3, torch.float32, None)
                torch.testing.assert_close(decoder.first, full[:, 4], rtol=1e-5, atol=1e-5)
                for t in range(5, ids.shape[1]):
                    out = decoder.next(ids[:, t], t - 5)
                    torch.testing.assert_close(out, full[:, t], rtol=1e-5, atol=1e-5)


def test_matmul_attention_equals_the_fused_kernel():
    """The CPU attention (batched matmuls, hand-written backward) against torch's SDPA kernel."""
    for kv_heads in (None, 2):
        m, _ = _model(kv_heads)
        ids, attn, pos = _left_padded()
        fast = FastLlama(m)
        params = list(m.parameters())
        outs = []
        for matmul in (True, False):
            fast.matmul_attention = matmul
            logits = fast.forward(ids, attn, pos)[attn.bool()]
            outs.append((logits, torch.autograd.grad(logits.logsumexp(-1).sum(), params, allow_unused=True)))
        torch.testing.assert_close(outs[0][0], outs[1][0], rtol=1e-5, atol=1e-5)
        for a, b in zip(outs[0][1], outs[1][1]):
            if a is not None:
                torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_hand_written_backwards_pass_gradcheck():
    """`_Attention`, `_RotaryQKV` and `_RMSNorm` gradients against finite differences in float64."""
    from rigorlab.policy.fastllama import _Attention, _RMSNorm, _RotaryQKV

    g = torch.Generator().manual_seed(0)
    q = torch.randn(6, 4, 5, generator=g, dtype=torch.float64, requires_grad=True)
    k = torch.randn(6, 7, 5, generator=g, dtype=torch.float64, requires_grad=True)
    v = torch.randn(6, 7, 5, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(6, 4, 7, dtype=torch.float64)
    bias[:, :, 5:] = torch.finfo(torch.float64).min                       # hidden keys
    assert torch.autograd.gradcheck(lambda q, k, v: _Attention.apply(q, k, v, bias, 0.3), (q, k, v))
    B, L, heads, D = 2, 3, 5, 4
    qkv = torch.randn(B, L, heads * D, generator=g, dtype=torch.float64, requires_grad=True)
    angle = torch.randn(B, L, 1, D // 2, generator=g, dtype=torch.float64)
    rot = torch.polar(torch.ones_like(angle), angle)
    assert torch.autograd.gradcheck(lambda x: _RotaryQKV.apply(x, rot, 1, 2, D), (qkv,))
    assert torch.autograd.gradcheck(lambda x: _RotaryQKV.apply(x, rot, 1, 2, D)[0], (qkv,))  # k, v unused
    # v heads pass through unrotated, head-major
    v = _RotaryQKV.apply(qkv, rot, 1, 2, D)[2]
    torch.testing.assert_close(v, qkv.view(B, L, heads, D)[:, :, 3:].permute(2, 0, 1, 3))
    x = torch.randn(4, 3, 6, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w: _RMSNorm.apply(x, w, 1e-6), (x, w))
    torch.testing.assert_close(_RMSNorm.apply(x, w, 1e-6), torch.nn.functional.rms_norm(x, (6,), w, 1e-6))


def test_rope_on_interleaved_pairs_is_llamas_rope():
    """One complex multiplication on pair-interleaved q/k rows = Llama's rotate_half RoPE, and the
    scores q.k are unchanged by the reordering."""
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    from rigorlab.policy.fastllama import _rotate, interleave_pairs

    g = torch.Generator().manual_seed(1)
    B, L, H, D, hidden = 2, 5, 3, 8, 7
    wq, wk = torch.randn(H * D, hidden, generator=g), torch.randn(H * D, hidden, generator=g)
    x = torch.randn(B, L, hidden, generator=g)
    pos = torch.arange(L).expand(B, L)
    freqs = pos[..., None].float() * (1.0 / 10000 ** (torch.arange(0, D, 2).float() / D))   # (B, L, D/2)
    emb = torch.cat([freqs, freqs], -1)
    q_ref, k_ref = apply_rotary_pos_emb((x @ wq.T).view(B, L, H, D).transpose(1, 2),
                                        (x @ wk.T).view(B, L, H, D).transpose(1, 2), emb.cos(), emb.sin())
    rot = torch.polar(torch.ones_like(freqs), freqs)[:, :, None]
    q, k = torch.empty(B, L, H, D), torch.empty(B, L, H, D)
    _rotate((x @ interleave_pairs(wq, H).T).view(B, L, H, D), rot, q)
    _rotate((x @ interleave_pairs(wk, H).T).view(B, L, H, D), rot, k)
    halves = torch.cat([torch.arange(0, D, 2), torch.arange(1, D, 2)])  # pairs back to halves
    torch.testing.assert_close(q[..., halves].transpose(1, 2), q_ref)
    torch.testing.assert_close(q.transpose(1, 2) @ k.transpose(1, 2).mT, q_ref @ k_ref.mT)


def test_grouped_sampling_equals_row_by_row_sampling():
    """Prefilling each shared prompt once gives the same draws as prefilling every row."""
    m, tok = _model(kv_heads=2)
    G = 4
    pids, pmask = encode_prompts(tok, [p for p in ["S=9:", "1+2+3:", "S=12:"] for _ in range(G)])
    a = sample(m, tok, pids, pmask, 9, generator=torch.Generator().manual_seed(5))
    b = sample(m, tok, pids, pmask, 9, generator=torch.Generator().manual_seed(5), group_size=G)
    assert torch.equal(a.completion_ids, b.completion_ids)
    assert torch.equal(a.completion_mask, b.completion_mask)
    torch.testing.assert_close(a.sample_logp, b.sample_logp, rtol=1e-5, atol=1e-6)


def test_top_p_sampling_keeps_logprobs_finite_after_eos():
    """Rows that stopped early carry padding whose top-p log-prob may be -inf: masked to 0, never NaN."""
    m, tok = _model()
    pids, pmask = encode_prompts(tok, ["S=9:"] * 16)
    with torch.no_grad():
        m.lm_head.weight[tok.eos_token_id] += 3.0        # make EOS likely so rows stop at different steps
    ro = sample(m, tok, pids, pmask, 12, top_p=0.5, generator=torch.Generator().manual_seed(0))
    lengths = ro.completion_mask.sum(1)
    assert lengths.min() < lengths.max()
    assert torch.isfinite(ro.sample_logp).all()
    assert (ro.sample_logp[~ro.completion_mask.bool()] == 0).all()


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


def test_bf16_autocast_forward_and_backward():
    """The dtype paths of `--device cuda` (bf16 autocast), exercised on the CPU: both attention
    paths run, stay finite and agree with float32 to bf16 precision."""
    m, tok = _model(kv_heads=2)
    G = 3
    pids, pmask = encode_prompts(tok, [p for p in ["S=9:", "1+2+3:"] for _ in range(G)])
    ro = sample(m, tok, pids, pmask, 6, generator=torch.Generator().manual_seed(2), group_size=G)
    exact = forward_logprobs(m, pids, pmask, ro.completion_ids, ro.completion_mask, group_size=G)
    fast = FastLlama(m)
    residual_dtypes = set()
    plain_residual = fast._residual

    def spy(x, inp, w):
        out = plain_residual(x, inp, w)
        residual_dtypes.add(out.dtype)
        return out

    fast._residual = spy
    params = list(m.parameters())
    for matmul in (True, False):
        fast.matmul_attention = matmul
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = forward_logprobs(m, pids, pmask, ro.completion_ids, ro.completion_mask, group_size=G, fast=fast)
            with_cache = sample(m, tok, pids, pmask, 6, generator=torch.Generator().manual_seed(2), group_size=G,
                                fast=fast)
        assert low.dtype == torch.float32 and torch.isfinite(low).all()
        assert torch.isfinite(with_cache.sample_logp).all()
        real = ro.completion_mask.bool()
        torch.testing.assert_close(low[real], exact[real], rtol=0, atol=0.1)
        grads = torch.autograd.grad(gather_tokens(low, ro.completion_ids)[real].sum(), params, allow_unused=True)
        assert all(g is None or torch.isfinite(g).all() for g in grads)
    assert residual_dtypes == {torch.float32}        # the residual stream keeps float32, as in transformers


def test_supports_only_the_plain_llama_it_computes():
    """Models the lean forward would compute differently fall back to the `transformers` forward."""
    from transformers import LlamaConfig

    m, _ = _model()
    base = m.config.to_dict()
    assert supports(m)
    for change in ({"attention_bias": True}, {"mlp_bias": True}, {"hidden_act": "gelu"}, {"attention_dropout": 0.1},
                   {"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}},
                   {"rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5}}):
        cfg = LlamaConfig(**{**base, **change})
        assert not supports(type("M", (), {"config": cfg})()), change


def test_fast_forward_switch_auto_on_off():
    """policy.fast_forward: auto builds FastLlama only where supported, on refuses with the reason, off never."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from rigorlab.errors import UserError

    m, _ = _model()
    assert isinstance(fast_forward(m, "auto"), FastLlama) and isinstance(fast_forward(m, "on"), FastLlama)
    assert fast_forward(m, "off") is None
    torch.manual_seed(0)
    dropout = LlamaForCausalLM(LlamaConfig(**{**m.config.to_dict(), "attention_dropout": 0.1}))
    assert unsupported_reason(dropout) == "attention_dropout 0.1 > 0"
    assert fast_forward(dropout, "auto") is None
    with pytest.raises(UserError, match="attention_dropout 0.1 > 0"):
        fast_forward(dropout, "on")
    # a FastLlama of one model is never used for another
    with pytest.raises(ValueError, match="another model"):
        forward_logprobs(dropout, *_left_padded()[:2], torch.ones(6, 2, dtype=torch.long), torch.ones(6, 2),
                         fast=FastLlama(m))


def test_grouped_forward_matches_transformers_logits_and_gradients():
    """forward_grouped (each prompt once per group) against the transformers model itself, not
    against FastLlama's own plain forward: log-probs and every parameter's gradient."""
    for kv_heads in (None, 2):
        m, tok = _model(kv_heads)
        G = 4
        pids, pmask = encode_prompts(tok, [p for p in ["S=9:", "1+2+3:", "S=12:"] for _ in range(G)])
        ro = sample(m, tok, pids, pmask, 7, generator=torch.Generator().manual_seed(3), fast=None)
        mask = ro.completion_mask
        hf = forward_logprobs(m, pids, pmask, ro.completion_ids, mask, fast=None)         # transformers
        lean = forward_logprobs(m, pids, pmask, ro.completion_ids, mask, group_size=G, fast=FastLlama(m))
        real = mask.bool()
        torch.testing.assert_close(lean[real], hf[real], rtol=1e-5, atol=1e-5)
        params = list(m.parameters())
        loss = lambda full: (gather_tokens(full, ro.completion_ids) * mask).sum()      # noqa: E731
        g_hf = torch.autograd.grad(loss(hf), params, allow_unused=True)
        g_lean = torch.autograd.grad(loss(lean), params, allow_unused=True)
        checked = 0
        for a, b in zip(g_hf, g_lean):
            assert (a is None) == (b is None)
            if a is not None:
                # float32 sums in another order: on an AVX-512 CPU one of 3,168 entries differed by 2e-6
                # (relative 3e-4) at atol 1e-6; a wrong gradient is off by orders of magnitude more
                torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5)
                checked += 1
        assert checked == len(params)                 # every parameter receives a gradient, all compared


def test_decoding_matches_transformers_logits():
    """The lean KV-cached decoder (prefill, then one token at a time) against the transformers
    forward over the whole sequence, and sampling through both paths draws the same tokens."""
    from rigorlab.policy.sampling import _LeanDecoder

    for kv_heads in (None, 2):
        m, tok = _model(kv_heads)
        ids, attn, pos = _left_padded()
        with torch.no_grad():
            hf = m(input_ids=ids, attention_mask=attn, position_ids=pos).logits
            decoder = _LeanDecoder(FastLlama(m), ids[:, :5], attn[:, :5], ids.shape[1] - 5 + 1, torch.float32, None)
            torch.testing.assert_close(decoder.first, hf[:, 4], rtol=1e-5, atol=1e-5)
            for t in range(5, ids.shape[1]):
                torch.testing.assert_close(decoder.next(ids[:, t], t - 5), hf[:, t], rtol=1e-5, atol=1e-5)
        pids, pmask = encode_prompts(tok, ["S=9:", "1+2+3:", "S=12:"] * 3)
        a = sample(m, tok, pids, pmask, 9, generator=torch.Generator().manual_seed(4), fast=None)
        b = sample(m, tok, pids, pmask, 9, generator=torch.Generator().manual_seed(4), fast=FastLlama(m))
        assert torch.equal(a.completion_ids, b.completion_ids)
        torch.testing.assert_close(b.sample_logp, a.sample_logp, rtol=1e-5, atol=1e-5)
