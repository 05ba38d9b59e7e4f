"""The fused kernels of `fastllama.py`: RoPE as one complex multiplication, RMSNorm and CPU
attention, each an autograd Function with a hand-written backward.

Why apart: they are the numerics (checked against plain autograd by `tests/test_fastllama.py`),
while `fastllama.py` is the model's wiring (weights, masks, the KV cache).
"""

from __future__ import annotations

import torch


def _pairs_viewable(t: torch.Tensor) -> bool:
    """Whether `torch.view_as_complex` can view t's last dimension as (re, im) pairs."""
    return t.stride(-1) == 1 and t.storage_offset() % 2 == 0 and all(s % 2 == 0 for s in t.stride()[:-1])


def _rotate(src: torch.Tensor, rot: torch.Tensor, dst: torch.Tensor) -> None:
    """dst = RoPE of src (Llama's rotary embedding), both (..., heads, D) with the q/k
    dimensions stored as interleaved pairs (`interleave_pairs`): one complex multiplication by
    rot = exp(i * pos * freq), (..., 1, D/2). Low-precision src is rotated in float32 (there is
    no complex bfloat16), like the float32 rotary tables of `transformers`.
    """
    real = rot.real.dtype
    src = src.to(real)
    if not _pairs_viewable(src):
        src = src.contiguous()
    x = torch.view_as_complex(src.unflatten(-1, (-1, 2)))
    if dst.dtype == real and _pairs_viewable(dst):
        torch.mul(x, rot, out=torch.view_as_complex(dst.unflatten(-1, (-1, 2))))
    else:
        dst.copy_(torch.view_as_real(x * rot).flatten(-2))


def interleave_pairs(w: torch.Tensor, n_heads: int) -> torch.Tensor:
    """Rows of a q or k projection (heads*D, in) reordered per head from Llama's halves
    [x_0..x_{D/2-1}, x_{D/2}..x_{D-1}] to pairs [x_0, x_{D/2}, x_1, x_{D/2+1}, ...].

    Llama's RoPE rotates the pair (x_j, x_{j+D/2}) by pos * freq_j; with the pairs adjacent it is
    one complex multiplication. Scores q.k are unchanged because q and k are reordered alike.
    """
    D = w.shape[0] // n_heads
    return w.view(n_heads, 2, D // 2, -1).transpose(1, 2).reshape(w.shape)


class _RotaryQKV(torch.autograd.Function):
    """Fused qkv projection (B, L, heads*D) -> head-major q, k, v, each (heads, B, L, D), with RoPE
    on q and k (`n_q`, `n_kv` heads, dimensions as interleaved pairs, see `interleave_pairs`).

    The rotation is multiplication by the unit complex rot, so its adjoint is multiplication by
    conj(rot): the backward is the same kernel. Returning three tensors lets the backward write
    each gradient in place without concatenating.
    """

    @staticmethod
    def forward(ctx, qkv, rot, n_q: int, n_kv: int, head_dim: int):
        B, L, W = qkv.shape
        out = qkv.new_empty((W // head_dim, B, L, head_dim))
        src, dst, n_qk = qkv.view(B, L, -1, head_dim), out.permute(1, 2, 0, 3), n_q + n_kv
        _rotate(src[:, :, :n_qk], rot, dst[:, :, :n_qk])
        dst[:, :, n_qk:] = src[:, :, n_qk:]
        ctx.save_for_backward(rot)
        ctx.dims, ctx.shape = (n_q, n_kv), (B, L, head_dim)
        return out[:n_q], out[n_q:n_qk], out[n_qk:]

    @staticmethod
    def backward(ctx, gq, gk, gv):
        (rot,) = ctx.saved_tensors
        n_q, n_kv = ctx.dims
        B, L, D = ctx.shape
        like = next(g for g in (gq, gk, gv) if g is not None)
        out = like.new_empty((B, L, n_q + 2 * n_kv, D))
        back = rot.conj().resolve_conj()
        for g, lo, hi in ((gq, 0, n_q), (gk, n_q, n_q + n_kv), (gv, n_q + n_kv, n_q + 2 * n_kv)):
            if g is None:
                out[:, :, lo:hi].zero_()
            elif hi <= n_q + n_kv:
                _rotate(g.permute(1, 2, 0, 3), back, out[:, :, lo:hi])
            else:
                out[:, :, lo:hi] = g.permute(1, 2, 0, 3)
        return out.view(B, L, -1), None, None, None, None


class _RMSNorm(torch.autograd.Function):
    """w * x / sqrt(mean(x^2) + eps) with a hand-written backward: torch's CPU rms_norm is a
    composite whose autograd graph costs about 1.6x this one forward+backward.

    With xhat = x*r, r = (mean(x^2) + eps)^(-1/2) and u = g*w:
    dx = r * (u - xhat * mean(u * xhat)), dw = sum over rows of g * xhat.
    """

    @staticmethod
    def forward(ctx, x, w, eps: float):
        r = torch.linalg.vector_norm(x, dim=-1, keepdim=True).pow_(2).div_(x.shape[-1]).add_(eps).rsqrt_()
        xhat = x * r
        ctx.save_for_backward(xhat, r, w)
        return xhat * w

    @staticmethod
    def backward(ctx, grad):
        xhat, r, w = ctx.saved_tensors
        u = grad * w
        dw = (grad * xhat).reshape(-1, xhat.shape[-1]).sum(0)
        dx = torch.addcmul(u, xhat, (u * xhat).mean(-1, keepdim=True), value=-1).mul_(r)
        return dx, dw, None


def _attention(q, k, v, bias, scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T * scale + bias) v and the probabilities, over a batch of items."""
    p = torch.softmax(torch.baddbmm(bias, q, k.transpose(1, 2), alpha=scale), dim=-1)
    return torch.bmm(p, v), p


class _Attention(torch.autograd.Function):
    """softmax(q k^T * scale + bias) v over a batch of (head, row) items, with its backward
    written as four batched matmuls and the softmax backward p * (dp - sum(dp * p)).

    On the CPU, for heads of a few dozen dimensions and sequences of a few dozen
    tokens, this is about twice as fast forward+backward as the fused attention
    kernel, whose per-item work is too small to amortise.
    """

    @staticmethod
    def forward(ctx, q, k, v, bias, scale: float):
        o, p = _attention(q, k, v, bias, scale)
        ctx.save_for_backward(q, k, v, p)
        ctx.scale = scale
        return o

    @staticmethod
    def backward(ctx, grad):
        q, k, v, p = ctx.saved_tensors
        grad = grad.contiguous()
        dv = torch.bmm(p.transpose(1, 2), grad)
        dp = torch.bmm(grad, v.transpose(1, 2))
        ds = dp.sub_((dp * p).sum(-1, keepdim=True)).mul_(p)               # softmax backward
        dq = torch.bmm(ds, k).mul_(ctx.scale)
        dk = torch.bmm(ds.transpose(1, 2), q).mul_(ctx.scale)
        return dq, dk, dv, None, None
