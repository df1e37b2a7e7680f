"""Exact parameter and FLOP counting for decoder-only transformers.

Every scaling law means something different by "parameters" N and "compute" C
(docs/laws.md §0). This module counts both exactly for a concrete architecture, under
each accounting a published law uses:

=====================  ===========================================================
parameters             meaning
=====================  ===========================================================
``total``              every trainable weight (Chinchilla, Epoch, Gemstones)
``non_embedding``      total minus token/position embeddings and an untied output
                       head (Kaplan et al. 2020, §2.1)
``with_head``          weight matrices that do FLOPs: block matmuls plus the output
                       head, no input-embedding lookup, no norm gains (Porian et
                       al. 2024, ``data.py``)
=====================  ===========================================================

FLOPs per training token under each accounting live in :mod:`fitting.flops`.

The formula functions take plain numbers *or* numpy arrays for the shape
arguments (width, depth, heads, ffn size) so the shape search can evaluate
thousands of shapes at once; :class:`ArchSpec` wraps one concrete shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

import numpy as np

__all__ = [
    "ArchFamily",
    "ArchSpec",
    "Counts",
    "Layout",
    "block_matmul_params",
    "count",
    "param_counts",
]

Num = Any  # a float/int or a numpy array of them (vectorised shape search)

Positions = Literal["rotary", "learned", "none"]
Norm = Literal["rmsnorm", "layernorm"]


class Layout(TypedDict):
    """What the vectorised counters read of a model besides width and depth (numbers,
    or arrays of them where the shape search evaluates many widths at once):
    :meth:`ArchSpec.shape_kwargs` of one model, :meth:`ArchFamily.shape_kwargs` of a
    family's widths."""

    n_heads: Num
    n_kv_heads: Num
    head_dim: int
    ffn_size: Num
    gated_ffn: bool
    vocab_size: int
    seq_len: int


@dataclass(frozen=True, kw_only=True)
class ArchSpec:
    """One concrete decoder-only transformer.

    Defaults follow the Gemstones recipe (docs/laws.md §8.1): head size 128, two query
    heads per key/value head, gated MLP of 4 x width, vocabulary 50,304, sequence
    2,048, untied embeddings, rotary positions, RMSNorm, no biases.
    """

    width: int
    """Residual width d_model."""
    depth: int
    """Number of transformer blocks n_layer."""
    n_heads: int = 0
    """Query heads; 0 means width // head_dim."""
    n_kv_heads: int = 0
    """Key/value heads (GQA); 0 means n_heads // 2 (Gemstones' 2:1 grouping)."""
    head_dim: int = 128
    """Size of one attention head."""
    ffn_size: int = 0
    """Hidden size of the MLP; 0 means 4 x width."""
    gated_ffn: bool = True
    """Gated MLP (three matmuls: gate, up, down) rather than two."""
    vocab_size: int = 50304
    """Vocabulary size (rows of the embedding)."""
    seq_len: int = 2048
    """Training context length n_ctx."""
    tied_embeddings: bool = False
    """Output head shares the input embedding matrix."""
    positions: Positions = "rotary"
    """'learned' adds a seq_len x width position table; rotary and none add nothing."""
    norm: Norm = "rmsnorm"
    """RMSNorm has a gain per channel; LayerNorm a gain and a bias."""
    bias: bool = False
    """Biases on every linear layer."""
    _derived: tuple[int, int, int] = field(default=(0, 0, 0), repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("width", "depth", "head_dim", "vocab_size", "seq_len"):
            value = getattr(self, name)
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        n_heads = self.n_heads or self.width // self.head_dim
        if n_heads < 1:
            raise ValueError(
                f"width {self.width} is smaller than head_dim {self.head_dim}: no attention head fits"
            )
        n_kv = self.n_kv_heads or max(1, n_heads // 2)
        if n_kv < 1 or n_heads % n_kv:
            raise ValueError(f"n_kv_heads must divide n_heads ({n_heads}), got {self.n_kv_heads}")
        ffn = self.ffn_size or 4 * self.width
        if ffn < 1:
            raise ValueError(f"ffn_size must be positive, got {self.ffn_size}")
        if self.positions not in ("rotary", "learned", "none"):
            raise ValueError(f"positions must be rotary, learned or none, got {self.positions!r}")
        if self.norm not in ("rmsnorm", "layernorm"):
            raise ValueError(f"norm must be rmsnorm or layernorm, got {self.norm!r}")
        object.__setattr__(self, "n_heads", int(n_heads))
        object.__setattr__(self, "n_kv_heads", int(n_kv))
        object.__setattr__(self, "ffn_size", int(ffn))

    def shape_kwargs(self) -> Layout:
        """The counters' :class:`Layout` of this model."""
        return {
            "n_heads": self.n_heads,
            "n_kv_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "ffn_size": self.ffn_size,
            "gated_ffn": self.gated_ffn,
            "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
        }

    @property
    def d_attn(self) -> int:
        """Total query width n_heads x head_dim (Kaplan's d_attn)."""
        return self.n_heads * self.head_dim

    @classmethod
    def gemstones(cls, width: int, depth: int) -> ArchSpec:
        """A Gemstones model (docs/laws.md §8.1): the defaults, named."""
        return cls(width=width, depth=depth)

    @classmethod
    def gpt(
        cls, width: int, depth: int, *, vocab_size: int = 50257, seq_len: int = 1024
    ) -> ArchSpec:
        """GPT-2/GPT-3 style: MHA with 64-wide heads, 4x ungated MLP, learned positions,
        tied embeddings, LayerNorm and biases (Kaplan et al. 2020's family)."""
        return cls(
            width=width,
            depth=depth,
            head_dim=64,
            n_heads=max(1, width // 64),
            n_kv_heads=max(1, width // 64),
            gated_ffn=False,
            vocab_size=vocab_size,
            seq_len=seq_len,
            tied_embeddings=True,
            positions="learned",
            norm="layernorm",
            bias=True,
        )


@dataclass(frozen=True, kw_only=True)
class ArchFamily:
    """How a law's models are built, apart from width and depth.

    The shape search turns (width, depth) into a full :class:`ArchSpec` with it:
    ``n_heads = width / head_dim``, ``n_kv_heads = n_heads / kv_group`` and
    ``ffn_size = ffn_multiplier x width`` rounded up to ``ffn_round``.
    """

    head_dim: int = 128
    """Size of one attention head."""
    kv_group: int = 2
    """Query heads per key/value head (1 = multi-head attention)."""
    ffn_multiplier: float = 4.0
    """MLP hidden size over width."""
    ffn_round: int = 1
    """Round the MLP hidden size up to a multiple of this."""
    gated_ffn: bool = True
    """Gated MLP (three matmuls)."""
    vocab_size: int = 50304
    """Vocabulary size."""
    seq_len: int = 2048
    """Training context length."""
    tied_embeddings: bool = False
    """Output head shares the input embedding."""
    positions: Positions = "rotary"
    """Position encoding; only 'learned' has parameters."""
    norm: Norm = "rmsnorm"
    """Normalisation layer."""
    bias: bool = False
    """Biases on linear layers."""

    def __post_init__(self) -> None:
        for name in ("head_dim", "kv_group", "ffn_round", "vocab_size", "seq_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not self.ffn_multiplier > 0:
            raise ValueError(f"ffn_multiplier must be positive, got {self.ffn_multiplier!r}")

    @property
    def width_step(self) -> int:
        """Widths are multiples of this: whole heads in whole key/value groups."""
        return self.head_dim * self.kv_group

    def ffn_size(self, width: Num) -> Num:
        """MLP hidden size for ``width``; vectorised."""
        if isinstance(width, int | np.integer):
            return math.ceil(int(width) * self.ffn_multiplier / self.ffn_round) * self.ffn_round
        raw = np.ceil(np.asarray(width, dtype=float) * self.ffn_multiplier / self.ffn_round)
        size = (raw * self.ffn_round).astype(np.int64)
        return int(size) if size.ndim == 0 else size

    def spec(self, width: int, depth: int) -> ArchSpec:
        """The concrete architecture of this family at ``width`` x ``depth``."""
        n_heads = width // self.head_dim
        if n_heads < 1 or width % self.head_dim:
            raise ValueError(
                f"width must be a positive multiple of head_dim {self.head_dim}, got {width}"
            )
        if n_heads % self.kv_group:
            raise ValueError(
                f"width {width} gives {n_heads} heads, not a multiple of kv_group {self.kv_group}"
            )
        return ArchSpec(
            width=int(width),
            depth=int(depth),
            n_heads=n_heads,
            n_kv_heads=n_heads // self.kv_group,
            head_dim=self.head_dim,
            ffn_size=int(self.ffn_size(width)),
            gated_ffn=self.gated_ffn,
            vocab_size=self.vocab_size,
            seq_len=self.seq_len,
            tied_embeddings=self.tied_embeddings,
            positions=self.positions,
            norm=self.norm,
            bias=self.bias,
        )

    def shape_kwargs(self, width: Num) -> Layout:
        """The counters' :class:`Layout` of this family's models at ``width``; vectorised."""
        n_heads = (
            width // self.head_dim if isinstance(width, int) else np.asarray(width) // self.head_dim
        )
        return {
            "n_heads": n_heads,
            "n_kv_heads": n_heads // self.kv_group,
            "head_dim": self.head_dim,
            "ffn_size": self.ffn_size(width),
            "gated_ffn": self.gated_ffn,
            "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
        }

    def param_counts(self, width: Num, depth: Num) -> tuple[Num, Num, Num]:
        """:func:`param_counts` of this family's (width, depth) models; vectorised."""
        return _param_counts_of(self, width, depth, self.shape_kwargs(width))


@dataclass(frozen=True)
class Counts:
    """Parameter counts of one architecture under each paper's definition."""

    total: int
    non_embedding: int
    with_head: int
    embedding: int


def _norm_params(width: Num, norm: Norm) -> Num:
    return width * (2 if norm == "layernorm" else 1)


def block_matmul_params(
    width: Num, n_heads: Num, n_kv_heads: Num, head_dim: int, ffn_size: Num, gated: bool
) -> Num:
    """Weights of the matmuls in one block: Q, K, V, output projection and MLP.

    Attention: ``width x (n_heads + 2 n_kv_heads) x head_dim`` for Q, K, V plus
    ``n_heads x head_dim x width`` for the output; MLP: ``3 x width x ffn`` gated,
    ``2 x width x ffn`` otherwise (Gemstones ``param_counter``, docs/laws.md §8.4).
    """
    attn = width * (n_heads + 2 * n_kv_heads) * head_dim + n_heads * head_dim * width
    mlp = (3 if gated else 2) * width * ffn_size
    return attn + mlp


def param_counts(
    width: Num,
    depth: Num,
    *,
    n_heads: Num,
    n_kv_heads: Num,
    head_dim: int,
    ffn_size: Num,
    gated_ffn: bool,
    vocab_size: int,
    seq_len: int,
    tied_embeddings: bool,
    positions: Positions,
    norm: Norm,
    bias: bool,
) -> tuple[Num, Num, Num]:
    """Return ``(total, non_embedding, with_head)`` parameter counts; vectorised.

    Gemstones 1024 x 28 gives 543,482,880 total (docs/laws.md §8.4, §11 row 15).
    """
    matmul = block_matmul_params(width, n_heads, n_kv_heads, head_dim, ffn_size, gated_ffn)
    per_block = matmul + 2 * _norm_params(width, norm)
    if bias:
        per_block = per_block + (n_heads + 2 * n_kv_heads) * head_dim + width
        per_block = per_block + (2 if gated_ffn else 1) * ffn_size + width
    blocks = depth * per_block
    final_norm = _norm_params(width, norm)
    token_emb = vocab_size * width
    pos_emb = seq_len * width if positions == "learned" else 0 * width
    head = 0 * width if tied_embeddings else vocab_size * width
    total = blocks + final_norm + token_emb + pos_emb + head
    non_embedding = blocks + final_norm
    with_head = depth * matmul + vocab_size * width
    return total, non_embedding, with_head


def _param_counts_of(
    arch: ArchSpec | ArchFamily, width: Num, depth: Num, layout: Layout
) -> tuple[Num, Num, Num]:
    return param_counts(
        width,
        depth,
        tied_embeddings=arch.tied_embeddings,
        positions=arch.positions,
        norm=arch.norm,
        bias=arch.bias,
        **layout,
    )


def count(spec: ArchSpec) -> Counts:
    """Exact parameter counts of ``spec`` under every definition."""
    total, non_emb, with_head = _param_counts_of(spec, spec.width, spec.depth, spec.shape_kwargs())
    return Counts(
        total=int(total),
        non_embedding=int(non_emb),
        with_head=int(with_head),
        embedding=int(total - non_emb),
    )
