"""A lean forward pass for Llama-architecture `transformers` models.

For models of a few hundred thousand parameters, the Python overhead of the
generic `transformers` forward (mask builders, cache objects, kwargs
plumbing) costs more than the arithmetic. This module runs the same
computation on the same `nn.Parameter`s (so autograd, optimisers and
`save_pretrained` are untouched) with a preallocated KV cache. It is used
only when `supports(model)` holds; `tests/test_fastllama.py` checks its
logits and gradients against the `transformers` forward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def supports(model) -> bool:
    """Plain Llama: default RoPE, no biases, SiLU MLP, no sliding window."""
    cfg = getattr(model, "config", None)
    if cfg is None or getattr(cfg, "model_type", None) != "llama":
        return False
    rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
    return (rope.get("rope_type", "default") == "default" and not cfg.attention_bias and not cfg.mlp_bias
            and cfg.hidden_act == "silu" and getattr(cfg, "pretraining_tp", 1) == 1)


class FastLlama:
    """Functional forward over a LlamaForCausalLM's own parameters."""

    def __init__(self, model) -> None:
        if not supports(model):
            raise ValueError("FastLlama supports plain Llama models only")
        cfg = model.config
        self.model = model
        self.n_heads = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads or cfg.num_attention_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        self.eps = cfg.rms_norm_eps
        rope = getattr(cfg, "rope_parameters", None) or getattr(cfg, "rope_scaling", None) or {}
        theta = rope.get("rope_theta", getattr(cfg, "rope_theta", 10000.0))
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float) / self.head_dim))
        self.layers = model.model.layers
        self._rope_table: tuple[torch.Tensor, torch.Tensor] | None = None

    # ------------------------------------------------------------ pieces
    def _rms(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        if x.dtype == torch.float32:
            return F.rms_norm(x, (x.shape[-1],), w, self.eps)             # one fused kernel
        xf = x.float()
        return w * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)

    def _rope(self, pos: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """cos and sin (B, 1, L, D) from a table computed once per device and length."""
        need = int(pos.max()) + 1
        table = self._rope_table
        if table is None or table[0].shape[0] < need or table[0].device != pos.device or table[0].dtype != dtype:
            n = max(need, 2 * (table[0].shape[0] if table is not None else 64))
            freqs = torch.arange(n, device=pos.device, dtype=torch.float)[:, None] * self.inv_freq.to(pos.device)
            emb = torch.cat((freqs, freqs), dim=-1)                            # (n, D)
            table = self._rope_table = (emb.cos().to(dtype), emb.sin().to(dtype))
        return table[0][pos][:, None], table[1][pos][:, None]

    @staticmethod
    def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        h = x.shape[-1] // 2
        rot = torch.cat((-x[..., h:], x[..., :h]), dim=-1)
        return x * cos + rot * sin

    def _fused(self, layer) -> tuple[torch.Tensor, torch.Tensor]:
        """[q; k; v] and [gate; up] weights stacked, so each is one matmul (differentiable)."""
        a, m = layer.self_attn, layer.mlp
        return (torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]),
                torch.cat([m.gate_proj.weight, m.up_proj.weight]))

    def _block(self, layer, weights, x, cos, sin, mask, kv: tuple[torch.Tensor, torch.Tensor] | None, start: int,
               prefix: tuple[torch.Tensor, torch.Tensor] | None = None, return_kv: bool = False):
        """One decoder block. `prefix`: keys/values (B, Hkv, Lp, D) of a shared prompt to attend to
        first; `return_kv`: also return this block's own (rotated) keys and values."""
        B, L, _ = x.shape
        attn, (w_qkv, w_gu) = layer.self_attn, weights
        h = self._rms(x, layer.input_layernorm.weight)
        nq, nkv = self.n_heads * self.head_dim, self.n_kv * self.head_dim
        q, k, v = F.linear(h, w_qkv).split([nq, nkv, nkv], dim=-1)
        q = q.view(B, L, self.n_heads, self.head_dim).transpose(1, 2)
        k = k.view(B, L, self.n_kv, self.head_dim).transpose(1, 2)
        v = v.view(B, L, self.n_kv, self.head_dim).transpose(1, 2)
        q, k = self._rotate(q, cos, sin), self._rotate(k, cos, sin)         # (B, H, L, D)
        own = (k, v)
        if prefix is not None:
            k, v = torch.cat([prefix[0], k], dim=2), torch.cat([prefix[1], v], dim=2)
        if kv is not None:                                                  # write into the cache
            kv[0][:, :, start:start + L] = k
            kv[1][:, :, start:start + L] = v
            k, v = kv[0][:, :, :start + L], kv[1][:, :, :start + L]
        if self.n_kv != self.n_heads:
            rep = self.n_heads // self.n_kv
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        if L == 1:   # decoding one query: broadcast products beat batched tiny matmuls
            scores = (q * k).sum(-1) * self.head_dim ** -0.5 + mask[:, :, 0]        # (B, H, K)
            o = (torch.softmax(scores, dim=-1)[..., None] * v).sum(-2, keepdim=True)
        else:
            o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)    # (B, H, L, D)
        x = x + F.linear(o.transpose(1, 2).reshape(B, L, -1), attn.o_proj.weight)
        h = self._rms(x, layer.post_attention_layernorm.weight)
        gate, up = F.linear(h, w_gu).chunk(2, dim=-1)
        out = x + F.linear(F.silu(gate) * up, layer.mlp.down_proj.weight)
        return (out, *own) if return_kv else out

    def _mask(self, key_mask: torch.Tensor, q_len: int, dtype: torch.dtype) -> torch.Tensor:
        """Additive mask (B, 1, q_len, K): causal, padded keys hidden, each query sees itself."""
        K = key_mask.shape[1]
        q_idx = torch.arange(K - q_len, K, device=key_mask.device)[:, None]
        k_idx = torch.arange(K, device=key_mask.device)[None, :]
        allowed = (k_idx <= q_idx)[None] & key_mask[:, None, :].bool()
        allowed = allowed | (k_idx == q_idx)[None]                          # no all-masked rows (NaN)
        return torch.zeros(allowed.shape, dtype=dtype, device=key_mask.device).masked_fill(
            ~allowed, torch.finfo(dtype).min)[:, None]

    def _head(self, x: torch.Tensor) -> torch.Tensor:
        x = self._rms(x, self.model.model.norm.weight)
        return F.linear(x, self.model.lm_head.weight)

    # ------------------------------------------------------------ entry points
    def forward(self, ids: torch.Tensor, attn_mask: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        """Logits (B, L, V) of a whole sequence (training and scoring)."""
        x = self.model.model.embed_tokens(ids)
        cos, sin = self._rope(pos, x.dtype)
        mask = self._mask(attn_mask, ids.shape[1], x.dtype)
        for layer in self.layers:
            x = self._block(layer, self._fused(layer), x, cos, sin, mask, None, 0)
        return self._head(x)

    def forward_grouped(self, prompt_ids: torch.Tensor, prompt_mask: torch.Tensor, completion_ids: torch.Tensor,
                        completion_mask: torch.Tensor, group_size: int) -> torch.Tensor:
        """Logits (B, T, V) predicting each completion token, computing each prompt ONCE per group.

        Rows come in groups of G completions of the same prompt (GRPO's layout);
        `prompt_ids`/`prompt_mask` hold one row per group (P, Lp). The prompt's
        keys and values are shared by its G completions (expanded, so gradients
        flow back to the one prompt computation): about (G-1)/G of the prompt's
        FLOPs saved in the training and reference forwards. Same numbers as
        `forward` on the concatenated sequences (tests/test_fastllama.py).
        """
        G, Lp, T = group_size, prompt_ids.shape[1], completion_ids.shape[1]
        attn = torch.cat([prompt_mask.repeat_interleave(G, 0), completion_mask.to(prompt_mask.dtype)], dim=1)
        pos = (attn.cumsum(1) - 1).clamp_min(0)
        xp = self.model.model.embed_tokens(prompt_ids)                        # (P, Lp, H)
        xc = self.model.model.embed_tokens(completion_ids)                    # (B, T, H)
        cos_p, sin_p = self._rope(pos[::G, :Lp], xp.dtype)
        cos_c, sin_c = self._rope(pos[:, Lp:], xc.dtype)
        mask_p = self._mask(prompt_mask, Lp, xp.dtype)                        # (P, 1, Lp, Lp)
        mask_c = self._mask(attn, T, xc.dtype)                                # (B, 1, T, Lp + T)
        for layer in self.layers:
            weights = self._fused(layer)
            xp_next, kp, vp = self._block(layer, weights, xp, cos_p, sin_p, mask_p, None, 0, return_kv=True)
            xc = self._block(layer, weights, xc, cos_c, sin_c, mask_c, None, 0,
                             prefix=(kp.repeat_interleave(G, 0), vp.repeat_interleave(G, 0)))
            xp = xp_next
        # position Lp-1 (the prompt's last token) predicts completion token 0; completion t predicts t+1
        h = torch.cat([xp[:, -1:].repeat_interleave(G, 0), xc[:, :-1]], dim=1)
        return self._head(h)

    def new_cache(self, batch: int, max_len: int, dtype: torch.dtype, device) -> dict:
        """Preallocated keys/values per layer, plus the stacked weights for this rollout
        (the weights do not change while sampling, so they are stacked once)."""
        shape = (batch, self.n_kv, max_len, self.head_dim)
        return {"kv": [(torch.empty(shape, dtype=dtype, device=device), torch.empty(shape, dtype=dtype, device=device))
                       for _ in self.layers],
                "weights": [tuple(w.detach() for w in self._fused(layer)) for layer in self.layers]}

    def step(self, ids: torch.Tensor, key_mask: torch.Tensor, pos: torch.Tensor, cache, start: int) -> torch.Tensor:
        """Logits of the LAST position (B, V) for `ids` (B, L) appended at `start` in the cache.

        `key_mask` (B, start + L) marks the real tokens among all keys so far.
        """
        x = self.model.model.embed_tokens(ids)
        cos, sin = self._rope(pos, x.dtype)
        mask = self._mask(key_mask, ids.shape[1], x.dtype)
        for layer, kv, weights in zip(self.layers, cache["kv"], cache["weights"]):
            x = self._block(layer, weights, x, cos, sin, mask, kv, start)
        return self._head(x[:, -1])
