"""A lean forward pass for Llama-architecture `transformers` models.

For models of a few hundred thousand parameters, the Python overhead of the
generic `transformers` forward (mask builders, cache objects, kwargs
plumbing) and element-wise work on strided views cost more than the
arithmetic. This module runs the same computation on the same
`nn.Parameter`s (so autograd, optimisers and `save_pretrained` are untouched)
with a preallocated KV cache. What makes it lean:

- q, k and v come from one matmul (stacked weights, the q and k rows of each
  head reordered so that RoPE's rotation pairs are adjacent), and RoPE is one
  complex multiplication that writes q and k head-major, (heads, B, L, D),
  so that (head, row) is the batch of the attention matmuls without further
  copies (`fused_ops._RotaryQKV`, with a hand-written backward; 3x faster than
  `rotate_half`'s three passes);
- attention on the CPU is batched matmuls with a hand-written backward
  (`fused_ops._Attention`), twice as fast as the fused kernel at these sizes;
- residual additions ride on the matmul (`addmm`);
- decoding attends with two batched matmuls over the cache (rows x kv-heads),
  not through the generic attention kernel, and RoPE writes each new key
  straight into the cache;
- a prompt shared by G completions is computed once (`forward_grouped`,
  `prefill(repeat=G)`), and the last completion token, which predicts
  nothing, is not fed to the training forward.

It is used only when `supports(model)` holds; `tests/test_fastllama.py`
checks logits and gradients against the `transformers` forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from rigorlab.policy.fused_ops import _attention, _Attention, _RMSNorm, _RotaryQKV, _rotate, interleave_pairs


def unsupported_reason(model) -> str | None:
    """Why FastLlama would compute something else than `transformers` for `model` (None: it would not).

    Plain Llama only: default RoPE over the whole head, no biases, SiLU MLP,
    no tensor-parallel split, no sliding window, and no attention dropout (the
    trainer runs the policy in train mode, where transformers applies it and
    FastLlama would not).
    """
    cfg = getattr(model, "config", None)
    if cfg is None or getattr(cfg, "model_type", None) != "llama":
        return f"it is not a Llama model (model_type {getattr(cfg, 'model_type', None)!r})"
    rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    partial = rope.get("partial_rotary_factor", getattr(cfg, "partial_rotary_factor", 1.0))
    checks = (
        (rope.get("rope_type", "default") != "default", f"rope_type {rope.get('rope_type')!r} is not 'default'"),
        (partial not in (None, 1.0), f"partial_rotary_factor {partial} is not 1"),
        (bool(cfg.attention_bias), "attention_bias is set"),
        (bool(cfg.mlp_bias), "mlp_bias is set"),
        (cfg.hidden_act != "silu", f"hidden_act {cfg.hidden_act!r} is not 'silu'"),
        (getattr(cfg, "pretraining_tp", 1) != 1, f"pretraining_tp {getattr(cfg, 'pretraining_tp', 1)} is not 1"),
        (float(getattr(cfg, "attention_dropout", 0.0) or 0.0) > 0,
         f"attention_dropout {getattr(cfg, 'attention_dropout', 0.0)} > 0"),
        (getattr(cfg, "sliding_window", None) is not None, "it uses a sliding window"),
    )
    return next((why for bad, why in checks if bad), None)


def supports(model) -> bool:
    """Whether FastLlama computes exactly what the transformers forward computes for `model`."""
    return unsupported_reason(model) is None


def fast_forward(model, mode: str = "auto") -> "FastLlama | None":
    """The FastLlama a trainer owns for `model` under `policy.fast_forward` (auto | on | off).

    auto: FastLlama where `supports(model)`, else None (the transformers
    forward); on: FastLlama, and a UserError naming the reason where it is not
    supported; off: None.
    """
    if mode == "off":
        return None
    why = unsupported_reason(model)
    if mode == "on" and why is not None:
        from rigorlab.errors import UserError

        raise UserError(f"policy.fast_forward is 'on' but the lean forward cannot run this model: {why}; "
                        "use 'auto' or 'off'")
    if mode not in ("auto", "on"):
        raise ValueError(f"fast_forward mode must be auto, on or off, got {mode!r}")
    return FastLlama(model) if why is None else None


class FastLlama:
    """Functional forward over a LlamaForCausalLM's own parameters."""

    def __init__(self, model) -> None:
        why = unsupported_reason(model)
        if why is not None:
            raise ValueError(f"FastLlama cannot run this model: {why}")
        cfg = model.config
        self.model = model
        self.n_heads = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads or cfg.num_attention_heads
        self.rep = self.n_heads // self.n_kv
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.min_keys = 400 // (self.head_dim * self.rep) + 1
        self.matmul_attention = True      # False: the fused SDPA kernel on the CPU too (tests compare both)
        self.eps = cfg.rms_norm_eps
        rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
        theta = rope.get("rope_theta", getattr(cfg, "rope_theta", 10000.0))
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float) / self.head_dim))
        self.layers = model.model.layers
        self._rope_table: torch.Tensor | None = None

    # ------------------------------------------------------------ pieces
    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:
            if torch.is_grad_enabled() and (x.requires_grad or w.requires_grad):
                return _RMSNorm.apply(x, w, self.eps)
            return F.rms_norm(x, (x.shape[-1],), w, self.eps)
        xf = x.float()
        return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)

    def rope(self, pos: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """rot = exp(i * pos * freq) as complex (B, L, 1, D/2), from a table computed once per device
        and length (complex128 for float64 models, else complex64, as `_rotate` computes)."""
        need = int(pos.max()) + 1 if pos.numel() else 1
        cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        table = self._rope_table
        if table is None or table.shape[0] < need or table.device != pos.device or table.dtype != cdtype:
            n = max(need, 2 * (table.shape[0] if table is not None else 64))
            freqs = torch.arange(n, device=pos.device, dtype=torch.float)[:, None] * self.inv_freq.to(pos.device)
            table = self._rope_table = torch.polar(torch.ones_like(freqs), freqs).to(cdtype)
        return table[pos][:, :, None]

    def _w_qkv(self, layer) -> torch.Tensor:
        """[q; k; v] weights stacked, so the projection is one matmul (differentiable); the q and k
        rows are reordered as RoPE pairs (`interleave_pairs`)."""
        a = layer.self_attn
        return torch.cat([interleave_pairs(a.q_proj.weight, self.n_heads),
                          interleave_pairs(a.k_proj.weight, self.n_kv), a.v_proj.weight])

    def _project_qkv(self, layer, w_qkv, x) -> torch.Tensor:
        """The block's normalised input times the stacked qkv weights, (B, L, (H + 2 Hkv) * D)."""
        return F.linear(self._rms(x, layer.input_layernorm.weight), w_qkv)

    def _qkv(self, layer, w_qkv, x, rot) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rotated q, k and v of x (B, L, hidden), head-major: (H, B, L, D), (Hkv, B, L, D) twice."""
        return _RotaryQKV.apply(self._project_qkv(layer, w_qkv, x), rot, self.n_heads, self.n_kv, self.head_dim)

    @staticmethod
    def _residual(x: torch.Tensor, inp: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """x + inp @ w.T in one kernel; under autocast as two, so that the residual stream keeps
        its precision as in `transformers` (autocast would run addmm, addition included, in bf16)."""
        if torch.is_autocast_enabled(x.device.type):
            return x + F.linear(inp, w)
        return torch.addmm(x.reshape(-1, x.shape[-1]), inp.reshape(-1, inp.shape[-1]), w.t()).view(x.shape)

    def _mlp(self, layer, x) -> torch.Tensor:
        """SwiGLU with separate gate and up matmuls: contiguous halves make SiLU 2.5x faster."""
        m = layer.mlp
        h = self._rms(x, layer.post_attention_layernorm.weight)
        gate, up = F.linear(h, m.gate_proj.weight), F.linear(h, m.up_proj.weight)
        act = F.silu(gate) * up if torch.is_grad_enabled() else F.silu(gate, inplace=True).mul_(up)
        return self._residual(x, act, m.down_proj.weight)

    def _heads_out(self, o: torch.Tensor) -> torch.Tensor:
        """Attention output (H, B, L, D) -> (B, L, H*D) for the output projection."""
        H, B, L, D = o.shape
        return o.permute(1, 2, 0, 3).reshape(B, L, H * D)

    def _attn_bias(self, mask: torch.Tensor) -> torch.Tensor:
        """Additive (B, 1, Lq, Lk) mask -> (Hkv*B, rep*Lq, Lk), the batch layout of `_attend`."""
        B, _, Lq, Lk = mask.shape
        return mask[None, :, :1].expand(self.n_kv, B, self.rep, Lq, Lk).reshape(self.n_kv * B, self.rep * Lq, Lk)

    def _attend(self, q, k, v, mask, bias) -> torch.Tensor:
        """Attention of head-major q (H, B, Lq, D) over k, v (Hkv, B, Lk, D); output (H, B, Lq, D).

        With `bias` (whole sequences on the CPU, and every decoding step), `_Attention` over
        (kv-head, row) items, the `rep` query heads that share a kv head stacked as rows;
        otherwise the fused SDPA kernel with `mask`.
        """
        H, B, Lq, D = q.shape
        Hkv, Lk = self.n_kv, k.shape[2]
        if bias is None:
            q4, k4, v4 = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
            if self.rep > 1:
                k4, v4 = k4.repeat_interleave(self.rep, dim=1), v4.repeat_interleave(self.rep, dim=1)
            return F.scaled_dot_product_attention(q4, k4, v4, attn_mask=mask).transpose(0, 1)
        q3 = q.reshape(Hkv, self.rep, B, Lq, D).transpose(1, 2).reshape(Hkv * B, self.rep * Lq, D)
        k3, v3 = k.reshape(Hkv * B, Lk, D), v.reshape(Hkv * B, Lk, D)
        if torch.is_grad_enabled() and (q3.requires_grad or k3.requires_grad or v3.requires_grad):
            o = _Attention.apply(q3, k3, v3, bias, D ** -0.5)
        else:                                                                 # decoding, reference
            o = _attention(q3, k3, v3, bias, D ** -0.5)[0]
        return o.view(Hkv, B, self.rep, Lq, D).transpose(1, 2).reshape(H, B, Lq, D)

    def _masks(self, key_mask: torch.Tensor, q_len: int, dtype: torch.dtype):
        """(mask, bias) for `_attend`: the additive mask, and its matmul layout on the CPU (else None)."""
        mask = self._mask(key_mask, q_len, dtype)
        return mask, (self._attn_bias(mask) if key_mask.device.type == "cpu" and self.matmul_attention else None)

    def _block(self, layer, w_qkv, x, rot, masks, prefix: tuple[torch.Tensor, torch.Tensor] | None = None):
        """One decoder block over whole sequences. `prefix`: keys/values (Hkv, B, Lp, D) of a shared
        prompt to attend to first. Returns the block's output and its own keys/values."""
        q, k, v = self._qkv(layer, w_qkv, x, rot)                             # head-major
        own = (k, v)
        if prefix is not None:
            k, v = torch.cat([prefix[0], k], dim=2), torch.cat([prefix[1], v], dim=2)
        o = self._attend(q, k, v, *masks)
        x = self._residual(x, self._heads_out(o), layer.self_attn.o_proj.weight)
        return self._mlp(layer, x), own

    def _decode_block(self, layer, w_qkv, x, rot, bias, kv, start: int) -> torch.Tensor:
        """One block for one new token per row (x: (B, 1, hidden)) against the cache (Hkv, B, Lmax, D).

        Attention is `_attend`'s batched matmuls on every device; `bias` (Hkv*B, 1, Lmax) is
        additive and hides every key not yet written. At least `min_keys` keys are read (the unwritten
        ones are zeros under a hidden bias): below about 400 multiply-adds per item torch's
        batched matmul leaves BLAS for a loop three times slower. The new key and value are
        written straight into the cache (no gradient flows through decoding).
        """
        B, D, n_q, n_kv = x.shape[0], self.head_dim, self.n_heads, self.n_kv
        qkv = self._project_qkv(layer, w_qkv, x).view(B, 1, -1, D)
        q = qkv.new_empty((n_q, B, 1, D))
        _rotate(qkv[:, :, :n_q], rot, q.permute(1, 2, 0, 3))
        _rotate(qkv[:, :, n_q:n_q + n_kv], rot, kv[0][:, :, start:start + 1].permute(1, 2, 0, 3))
        kv[1][:, :, start:start + 1].permute(1, 2, 0, 3).copy_(qkv[:, :, n_q + n_kv:])
        K = min(kv[0].shape[2], max(start + 1, self.min_keys))
        o = self._attend(q, kv[0][:, :, :K], kv[1][:, :, :K], None, bias[:, :, :K])
        x = self._residual(x, self._heads_out(o), layer.self_attn.o_proj.weight)
        return self._mlp(layer, x)

    def _mask(self, key_mask: torch.Tensor, q_len: int, dtype: torch.dtype) -> torch.Tensor:
        """Additive mask (B, 1, q_len, K): causal, padded keys hidden, each query sees itself."""
        K = key_mask.shape[1]
        q_idx = torch.arange(K - q_len, K, device=key_mask.device)[:, None]
        k_idx = torch.arange(K, device=key_mask.device)[None, :]
        allowed = (k_idx <= q_idx)[None] & key_mask[:, None, :].bool()
        allowed = allowed | (k_idx == q_idx)[None]                          # no all-masked rows (NaN)
        return torch.zeros(allowed.shape, dtype=dtype, device=key_mask.device).masked_fill(
            ~allowed, torch.finfo(dtype).min)[:, None]

    def decode_bias(self, key_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """Additive (Hkv*B, 1, K) bias over cache positions: hidden keys get the dtype's minimum."""
        bias = torch.zeros(key_mask.shape, dtype=dtype, device=key_mask.device)
        bias.masked_fill_(~key_mask.bool(), torch.finfo(dtype).min)
        return bias.repeat(self.n_kv, 1)[:, None]

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        x = self._rms(x, self.model.model.norm.weight)
        return F.linear(x, self.model.lm_head.weight)

    # ------------------------------------------------------------ entry points
    def forward(self, ids: torch.Tensor, attn_mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Logits (B, L, V) of a whole sequence (training and scoring)."""
        x = self.model.model.embed_tokens(ids)
        rot = self.rope(pos, x.dtype)
        masks = self._masks(attn_mask, ids.shape[1], x.dtype)
        for layer in self.layers:
            x, _ = self._block(layer, self._w_qkv(layer), x, rot, masks)
        return self._head(x)

    def forward_grouped(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, completion_ids: torch.Tensor,
                        completion_mask: torch.Tensor, group_size: int) -> torch.Tensor:
        """Logits (B, T, V) predicting each completion token, computing each prompt ONCE per group.

        Rows come in groups of G completions of the same prompt (GRPO's layout);
        `prompt_ids`/`prompt_mask` hold one row per group (P, Lp). The prompt's
        keys and values are shared by its G completions (expanded, so gradients
        flow back to the one prompt computation): about (G-1)/G of the prompt's
        FLOPs saved. The last completion token predicts nothing and is not fed
        in. Same numbers as `forward` on the concatenated sequences
        (tests/test_fastllama.py).
        """
        G, Lp, T = group_size, prompt_ids.shape[1], completion_ids.shape[1]
        Tc = T - 1                                                            # completion tokens fed in
        attn = torch.cat([prompt_mask.repeat_interleave(G, 0), completion_mask[:, :Tc].to(prompt_mask.dtype)], dim=1)
        pos = (attn.cumsum(1) - 1).clamp_min(0)
        xp = self.model.model.embed_tokens(prompt_ids)                        # (P, Lp, H)
        rot_p = self.rope(pos[::G, :Lp], xp.dtype)
        masks_p = self._masks(prompt_mask, Lp, xp.dtype)
        if Tc:
            xc = self.model.model.embed_tokens(completion_ids[:, :Tc])        # (B, Tc, H)
            rot_c = self.rope(pos[:, Lp:], xc.dtype)
            masks_c = self._masks(attn, Tc, xc.dtype)                         # over Lp + Tc keys
        for layer in self.layers:
            w_qkv = self._w_qkv(layer)
            xp, (kp, vp) = self._block(layer, w_qkv, xp, rot_p, masks_p)
            if Tc:
                xc, _ = self._block(layer, w_qkv, xc, rot_c, masks_c,
                                    prefix=(kp.repeat_interleave(G, 1), vp.repeat_interleave(G, 1)))
        # position Lp-1 (the prompt's last token) predicts completion token 0; completion t predicts t+1
        h = xp[:, -1:].repeat_interleave(G, 0)
        if Tc:
            h = torch.cat([h, xc], dim=1)
        return self._head(h)

    def new_cache(self, batch: int, max_len: int, dtype: torch.dtype, device) -> dict:
        """Zeroed keys/values (Hkv, B, max_len, D) per layer, plus the stacked qkv weights for this
        rollout (the weights do not change while sampling, so they are stacked once)."""
        shape = (self.n_kv, batch, max_len, self.head_dim)
        return {"kv": [(torch.zeros(shape, dtype=dtype, device=device), torch.zeros(shape, dtype=dtype, device=device))
                       for _ in self.layers],
                "weights": [self._w_qkv(layer).detach() for layer in self.layers]}

    def prefill(self, ids: torch.Tensor, key_mask: torch.Tensor, pos: torch.Tensor, cache, repeat: int = 1
                ) -> torch.Tensor:
        """Run prompts (P, Lp) into positions [0, Lp) of a cache of P * repeat rows; each prompt's
        keys/values are copied to its `repeat` rows. Returns the last position's logits (P, V)."""
        P, L = ids.shape
        x = self.model.model.embed_tokens(ids)
        rot = self.rope(pos, x.dtype)
        masks = self._masks(key_mask, L, x.dtype)
        for layer, kv, w_qkv in zip(self.layers, cache["kv"], cache["weights"]):
            x, (k, v) = self._block(layer, w_qkv, x, rot, masks)
            for buf, new in zip(kv, (k, v)):
                buf.view(self.n_kv, P, repeat, *buf.shape[2:])[:, :, :, :L] = new[:, :, None]
        return self._head(x[:, -1])

    def decode(self, ids: torch.Tensor, pos: torch.Tensor, bias: torch.Tensor, cache, start: int) -> torch.Tensor:
        """Logits (B, V) of one new token per row (ids, pos: (B, 1)) written at `start` in the cache;
        `bias` (Hkv*B, 1, Lmax) from `decode_bias`: it must hide every position after `start`."""
        x = self.model.model.embed_tokens(ids)
        rot = self.rope(pos, x.dtype)
        for layer, kv, w_qkv in zip(self.layers, cache["kv"], cache["weights"]):
            x = self._decode_block(layer, w_qkv, x, rot, bias, kv, start)
        return self._head(x[:, -1])
