"""Training FLOPs per token of a concrete architecture, under each law's accounting.

``6N`` (total or non-embedding), Kaplan et al. 2020 Table 1 (forward
``2N + 2 n_layer n_ctx d_attn``, times 3), Chinchilla App. F, DeepSeek's model scale M
(Eq. 2) and Gemstones' ``flops_per_token_gqa`` (App. M). Shape arguments may be numpy
arrays (the shape search evaluates thousands of shapes at once).
"""

from __future__ import annotations

from typing import Unpack

from flopwise.fitting.counting import ArchSpec, Layout, Num, count

__all__ = [
    "chinchilla_flops_per_token",
    "deepseek_model_scale",
    "flops_per_token",
    "gemstones_flops_per_token",
    "kaplan_flops_per_token",
]


def kaplan_flops_per_token(non_embedding_params: Num, depth: Num, d_attn: Num, seq_len: int) -> Num:
    """Kaplan et al. 2020, Table 1 / Eq. 2.2: training FLOPs per token.

    Forward ``C_forward = 2N + 2 n_layer n_ctx d_attn`` with N non-embedding; the
    backward pass costs twice the forward, so training is three forwards.
    """
    return 3.0 * (2.0 * non_embedding_params + 2.0 * depth * seq_len * d_attn)


def chinchilla_flops_per_token(width: Num, depth: Num, **layout: Unpack[Layout]) -> Num:
    """Hoffmann et al. 2022, App. F: training FLOPs per token (3 x forward).

    Per sequence: embeddings ``2 s V d``; per layer QKV ``2 s d (q + 2 kv) h``
    (App. F writes ``2*3*s*d*kh`` for multi-head attention), logits ``2 s^2 q h``,
    softmax ``3 q s^2``, softmax @ V ``2 s^2 q h``, output ``2 s q h d``; dense
    ``2 s d f`` per matmul; final logits ``2 s d V``; backward = 2 x forward.
    """
    s, n_heads, head_dim = layout["seq_len"], layout["n_heads"], layout["head_dim"]
    vocab_size = layout["vocab_size"]
    kq = n_heads * head_dim
    qkv = 2.0 * s * width * (n_heads + 2 * layout["n_kv_heads"]) * head_dim
    logits = 2.0 * s * s * kq
    softmax = 3.0 * n_heads * s * s
    attend = 2.0 * s * s * kq
    out = 2.0 * s * kq * width
    dense = 2.0 * s * width * layout["ffn_size"] * (3 if layout["gated_ffn"] else 2)
    forward = 2.0 * s * vocab_size * width
    forward = forward + depth * (qkv + logits + softmax + attend + out + dense)
    forward = forward + 2.0 * s * width * vocab_size
    return 3.0 * forward / s


def deepseek_model_scale(width: Num, depth: Num, seq_len: int) -> Num:
    """DeepSeek LLM 2024, §3.2 Eq. 2: model scale M, non-embedding FLOPs/token.

    ``M = 72 n_layer d_model^2 + 12 n_layer d_model l_seq``; 24 layers of width
    2048 at sequence 4096 give M = 9.66e9 (Table 3).
    """
    return 72.0 * depth * width * width + 12.0 * depth * width * seq_len


def gemstones_flops_per_token(width: Num, depth: Num, **layout: Unpack[Layout]) -> Num:
    """McLeish et al. 2025 (Gemstones), App. M ``flops_per_token_gqa``, generalised.

    The authors' count, term by term, with their head size, query/kv grouping and
    MLP size read from the spec: causal attention scores are halved, RoPE costs
    3.5 FLOPs per rotated element, softmax 3 per score, GEGLU 10 per hidden unit,
    RMSNorm 7 per element; attention's backward is 2x (projections) and 2.5x
    (scores), everything else 2x. Gemstones 1024 x 28 gives 3.578e9 (§11 row 15).
    """
    s, q, head_dim = float(layout["seq_len"]), layout["n_heads"], layout["head_dim"]
    ffn_size = layout["ffn_size"]
    kv_both = 2.0 * layout["n_kv_heads"]  # K and V heads together, as the authors count them
    attention = 2.0 * s * (q + kv_both) * width * head_dim
    attention = attention + 3.5 * s * (q + kv_both / 2.0) * head_dim
    kq_logits = 1.0 * s * s * head_dim * q
    softmax = 3.0 * s * s * q
    softmax_v = 2.0 * s * s * head_dim * q
    final_linear = 2.0 * s * width * head_dim * q
    attn_bwd = (
        2.0 * attention + 2.5 * (kq_logits + softmax + softmax_v) + 2.0 * final_linear
    ) * depth
    attention = attention + kq_logits + softmax + softmax_v + final_linear
    n_mats = 3.0 if layout["gated_ffn"] else 2.0
    dense = 2.0 * n_mats * s * width * ffn_size + 10.0 * s * ffn_size + 2.0 * width * s
    rmsnorm = 2.0 * 7.0 * width * s
    final_rms = 7.0 * width * s
    logits = 2.0 * s * width * layout["vocab_size"]
    nonattn_bwd = 2.0 * (depth * (dense + rmsnorm) + final_rms + logits)
    forward = depth * (attention + dense + rmsnorm) + final_rms + logits
    return (forward + attn_bwd + nonattn_bwd) / s


def flops_per_token(spec: ArchSpec) -> dict[str, float]:
    """Training FLOPs per token of ``spec`` under every accounting, by name.

    Keys: ``6N``, ``6N_non_embedding``, ``6N_with_head``, ``kaplan``,
    ``chinchilla``, ``deepseek_M`` (forward+backward by DeepSeek's Eq. 2) and
    ``gemstones``.
    """
    c = count(spec)
    kw = spec.shape_kwargs()
    return {
        "6N": 6.0 * c.total,
        "6N_non_embedding": 6.0 * c.non_embedding,
        "6N_with_head": 6.0 * c.with_head,
        "kaplan": float(
            kaplan_flops_per_token(c.non_embedding, spec.depth, spec.d_attn, spec.seq_len)
        ),
        "chinchilla": float(chinchilla_flops_per_token(spec.width, spec.depth, **kw)),
        "deepseek_M": float(deepseek_model_scale(spec.width, spec.depth, spec.seq_len)),
        "gemstones": float(gemstones_flops_per_token(spec.width, spec.depth, **kw)),
    }
