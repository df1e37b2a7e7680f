"""Exact parameter counts of mixture-of-experts decoders: total against active.

A mixture-of-experts (MoE) decoder replaces the MLP of some blocks by ``experts``
routed MLPs (each ``expert_ffn_size`` wide), of which a router sends every token to
``top_k``, plus ``shared_experts`` MLPs every token passes through (DeepSeekMoE, Dai et
al. 2024, arXiv:2401.06066 §3), and keeps ``dense_layers`` ordinary blocks before the
first MoE block (DeepSeek-V3's ``first_k_dense_replace``). The router is one
``width x experts`` matrix per MoE block (Shazeer et al. 2017, arXiv:1701.06538 Eq. 3;
Fedus et al. 2022, arXiv:2101.03961 §2.1), computed for every token, so it is active.

* **total** parameters set the memory a model needs (weights, gradients, optimiser
  states: :mod:`fitting.memory`);
* **active** parameters, those one token passes through, set its FLOPs: training costs
  ``6 N_active`` per token, Kaplan et al. 2020's 6N with N the active count (the
  accounting of Krajewski et al. 2024 §6.1 and Abnar et al. 2025 §2).

Attention is the dense model's (grouped-query heads), or DeepSeek's multi-head latent
attention (:class:`MLA`, DeepSeek-V2, arXiv:2405.04434 §2.1.2). The checks, in
docs/laws.md §13: Mixtral 8x7B 46.7B total / 12.9B active, Mixtral 8x22B 141B / 39B,
DeepSeek-V3 671B / 37B.
"""

from __future__ import annotations

from dataclasses import dataclass

from flopwise.fitting.counting import (
    ArchSpec,
    Layout,
    Norm,
    Num,
    Positions,
    block_matmul_params,
    param_counts,
)
from flopwise.fitting.errors import ArgumentError

__all__ = [
    "MLA",
    "MoECounts",
    "MoESpec",
    "Routing",
    "expert_layer_params",
    "mla_params",
    "moe_counts",
    "moe_param_counts",
]


@dataclass(frozen=True, kw_only=True)
class MLA:
    """Multi-head latent attention (DeepSeek-V2, arXiv:2405.04434 §2.1.2): queries and
    keys/values go through low-rank latents; part of each head carries rotary positions."""

    q_lora_rank: int
    """Rank of the query latent (0: queries projected from the width directly)."""
    kv_lora_rank: int
    """Rank of the joint key/value latent d_c."""
    qk_nope_head_dim: int
    """Per-head query/key size without rotary positions."""
    qk_rope_head_dim: int
    """Per-head query size with rotary positions (the key's rotary part is shared)."""
    v_head_dim: int
    """Per-head value size."""

    def __post_init__(self) -> None:
        for name in ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
            if getattr(self, name) < 1:
                raise ArgumentError(name, f"must be a positive integer, got {getattr(self, name)}")
        if self.q_lora_rank < 0:
            raise ArgumentError("q_lora_rank", f"must be >= 0, got {self.q_lora_rank}")


def mla_params(width: Num, n_heads: Num, mla: MLA) -> Num:
    """DeepSeek-V2 (arXiv:2405.04434) §2.1.2 Eq. 9-19: weights of one MLA block.

    Queries ``W^DQ`` (width x d_c') with its RMSNorm and ``W^UQ, W^QR``
    (d_c' x heads x (nope + rope)); keys/values ``W^DKV`` and ``W^KR`` (width x (d_c +
    rope)) with the latent's RMSNorm, ``W^UK, W^UV`` (d_c x heads x (nope + v)); output
    ``W^O`` (heads x v x width). DeepSeek-V3 (width 7168, 128 heads, d_c' 1536, d_c 512,
    128 + 64 query/key, 128 value) has 187,107,328 per block.

    >>> mla_params(7168, 128, MLA(q_lora_rank=1536, kv_lora_rank=512, qk_nope_head_dim=128,
    ...                           qk_rope_head_dim=64, v_head_dim=128))
    187107328
    """
    qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    if mla.q_lora_rank:
        query = width * mla.q_lora_rank + mla.q_lora_rank + mla.q_lora_rank * n_heads * qk
    else:
        query = width * n_heads * qk
    kv_down = width * (mla.kv_lora_rank + mla.qk_rope_head_dim) + mla.kv_lora_rank
    kv_up = mla.kv_lora_rank * n_heads * (mla.qk_nope_head_dim + mla.v_head_dim)
    out = n_heads * mla.v_head_dim * width
    return query + kv_down + kv_up + out


def expert_layer_params(
    width: Num, expert_ffn_size: Num, experts: int, shared_experts: int, gated: bool
) -> tuple[Num, Num]:
    """``(total, per routed expert)`` weights of one MoE layer's MLPs and router.

    ``experts + shared_experts`` MLPs of ``(3 if gated else 2) x width x
    expert_ffn_size`` each (Mixtral, Jiang et al. 2024, arXiv:2401.04088 §2.1: SwiGLU
    experts) and the router ``width x experts``. Mixtral 8x7B: 8 x 176,160,768 + 32,768
    = 1,409,318,912 per layer.

    >>> expert_layer_params(4096, 14336, 8, 0, True)
    (1409318912, 176160768)
    """
    one = (3 if gated else 2) * width * expert_ffn_size
    return (experts + shared_experts) * one + width * experts, one


@dataclass(frozen=True, kw_only=True)
class Routing:
    """How an MoE design routes tokens, whatever its width and depth."""

    experts: int
    """Routed experts per MoE block."""
    top_k: int
    """Routed experts each token passes through."""
    shared_experts: int = 0
    """Experts every token passes through (DeepSeekMoE)."""
    dense_layers: int = 0
    """Ordinary blocks before the first MoE block."""

    def __post_init__(self) -> None:
        for name in ("experts", "top_k", "shared_experts", "dense_layers"):
            value = getattr(self, name)
            low = 1 if name in ("experts", "top_k") else 0
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ArgumentError(name, f"must be an integer >= {low}, got {value!r}")
        if self.top_k > self.experts:
            raise ArgumentError("top_k", f"{self.top_k} exceeds experts {self.experts}")

    @property
    def expansion_rate(self) -> float:
        """Krajewski et al. 2024 §4: E = routed expert weights over active ones, k/E."""
        return self.experts / self.top_k

    @property
    def sparsity(self) -> float:
        """Abnar et al. 2025 §2: the fraction of routed experts a token skips, 1 - k/E."""
        return 1.0 - self.top_k / self.experts


@dataclass(frozen=True, kw_only=True)
class MoESpec:
    """One concrete MoE decoder: the dense model ``base`` (attention, embeddings, norms,
    and the MLP of its dense layers) with routed experts in its other blocks."""

    base: ArchSpec
    routing: Routing
    expert_ffn_size: int = 0
    """Hidden size of one expert's MLP; 0 means the base MLP size (coarse experts)."""
    mla: MLA | None = None
    """Multi-head latent attention instead of the base's grouped-query attention."""

    def __post_init__(self) -> None:
        if self.routing.dense_layers >= self.base.depth:
            raise ArgumentError(
                "dense_layers",
                f"must be below depth {self.base.depth}, got {self.routing.dense_layers}",
            )
        if self.base.bias:
            raise ArgumentError("bias", "MoE counting assumes linear layers without biases")
        if self.expert_ffn_size < 0:
            raise ArgumentError("expert_ffn", f"must be >= 0, got {self.expert_ffn_size}")
        if not self.expert_ffn_size:
            object.__setattr__(self, "expert_ffn_size", self.base.ffn_size)

    @property
    def granularity(self) -> float:
        """Krajewski et al. 2024 §4: G = d_ff / d_expert, the base MLP over one expert's."""
        return self.base.ffn_size / self.expert_ffn_size


@dataclass(frozen=True)
class MoECounts:
    """Parameter counts of one MoE decoder."""

    total: int
    """Every weight: what memory holds."""
    active: int
    """Weights one token passes through (the input embedding's one row counted whole,
    as dense counts include it)."""
    embedding: int
    """Input embedding and an untied output head."""
    total_non_embedding: int
    active_non_embedding: int
    flops_per_token: float
    """Training FLOPs per token, 6 x active (Kaplan et al. 2020's 6N with N active)."""


def moe_param_counts(
    width: Num,
    depth: Num,
    layout: Layout,
    *,
    routing: Routing,
    expert_ffn_size: Num,
    tied_embeddings: bool = False,
    positions: Positions = "rotary",
    norm: Norm = "rmsnorm",
    mla: MLA | None = None,
) -> tuple[Num, Num, Num, Num]:
    """``(total, active, total_non_embedding, active_non_embedding)``; vectorised over
    width, depth and the layout's sizes (the MoE shape search evaluates many at once).

    The dense counts of :func:`fitting.counting.param_counts` with each MoE block's MLP
    replaced by :func:`expert_layer_params` (and attention by :func:`mla_params`)."""
    total, non_emb, _ = param_counts(
        width,
        depth,
        tied_embeddings=tied_embeddings,
        positions=positions,
        norm=norm,
        bias=False,
        **layout,
    )
    gated = layout["gated_ffn"]
    dense_mlp = (3 if gated else 2) * width * layout["ffn_size"]
    moe_total, one = expert_layer_params(
        width, expert_ffn_size, routing.experts, routing.shared_experts, gated
    )
    n_moe = depth - routing.dense_layers
    extra = n_moe * (moe_total - dense_mlp)
    skipped = n_moe * (routing.experts - routing.top_k) * one
    if mla is not None:
        heads, kv, head_dim = layout["n_heads"], layout["n_kv_heads"], layout["head_dim"]
        std = block_matmul_params(width, heads, kv, head_dim, 0, gated)
        extra = extra + depth * (mla_params(width, heads, mla) - std)
    return total + extra, total + extra - skipped, non_emb + extra, non_emb + extra - skipped


def moe_counts(spec: MoESpec) -> MoECounts:
    """Exact total and active parameter counts of ``spec`` and its 6 N_active FLOPs per
    token (docs/laws.md §13)."""
    base = spec.base
    total, active, total_ne, active_ne = moe_param_counts(
        base.width,
        base.depth,
        base.shape_kwargs(),
        routing=spec.routing,
        expert_ffn_size=spec.expert_ffn_size,
        tied_embeddings=base.tied_embeddings,
        positions=base.positions,
        norm=base.norm,
        mla=spec.mla,
    )
    return MoECounts(
        total=int(total),
        active=int(active),
        embedding=int(total - total_ne),
        total_non_embedding=int(total_ne),
        active_non_embedding=int(active_ne),
        flops_per_token=6.0 * float(active),
    )
