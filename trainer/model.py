"""The calibration model: a decoder-only transformer built from a ``fitting`` ArchSpec.

One file, nanoGPT-style, so a reader can hold the whole model in mind. The family is
the one the scaling laws describe (Gemstones, docs/laws.md §8.1): pre-norm blocks with
RMSNorm, rotary positions, grouped-query attention through PyTorch's
``scaled_dot_product_attention`` (flash kernels on GPU), a gated MLP and an untied
output head. The variations :func:`fitting.counting.count` knows (LayerNorm, learned
or no positions, biases, an ungated MLP, tied embeddings, any head size) are built
too, and the parameter count equals ``count(spec).total`` exactly, for every spec.

Initialisation follows Gemstones (docs/laws.md §8.2): truncated normal (±3σ) with
σ = 1/√width, except the attention output projection, σ = 1/√(2·width·(l+1)), and
the MLP output projection, σ = 1/√(2·ffn·(l+1)) (their 2·4·width at ffn = 4·width),
with l the 0-based layer index. Norm gains start at one and biases at zero.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from flopwise.trainer.config import ModelConfig

__all__ = ["Block", "ModelConfig", "Transformer"]


def _norm(config: ModelConfig) -> nn.Module:
    width = config.arch.width
    if config.arch.norm == "layernorm":
        return nn.LayerNorm(width, eps=config.norm_eps)  # gain and bias, as the counter has it
    return nn.RMSNorm(width, eps=config.norm_eps)


def rotary_tables(seq_len: int, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of the rotary angles, each (seq_len, head_dim / 2)."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)
    return angles.cos(), angles.sin()


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate channel pairs (first half, second half) of x (B, nh, T, hs) by position."""
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half].float(), x[..., half:].float()
    cos, sin = cos[: x.shape[-2]], sin[: x.shape[-2]]  # (T, hs/2)
    out = torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.type_as(x)


class Attention(nn.Module):
    """Causal grouped-query self-attention: n_heads queries share n_kv_heads keys/values."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        a = config.arch
        self.n_heads, self.n_kv_heads, self.head_dim = a.n_heads, a.n_kv_heads, a.head_dim
        self.rotary = a.positions == "rotary"
        qkv_out = (a.n_heads + 2 * a.n_kv_heads) * a.head_dim
        self.qkv = nn.Linear(a.width, qkv_out, bias=a.bias)
        self.proj = nn.Linear(a.n_heads * a.head_dim, a.width, bias=a.bias)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        nq, nkv, hs = self.n_heads, self.n_kv_heads, self.head_dim
        q, k, v = self.qkv(x).split([nq * hs, nkv * hs, nkv * hs], dim=-1)
        q = q.view(B, T, nq, hs).transpose(1, 2)  # (B, nq, T, hs)
        k = k.view(B, T, nkv, hs).transpose(1, 2)  # (B, nkv, T, hs)
        v = v.view(B, T, nkv, hs).transpose(1, 2)  # (B, nkv, T, hs)
        if self.rotary:
            q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=nkv != nq)
        y = y.transpose(1, 2).contiguous().view(B, T, nq * hs)  # (B, T, nq*hs)
        return self.proj(y)  # (B, T, C)


class MLP(nn.Module):
    """Gated (GEGLU/SwiGLU: three matmuls) or plain (two matmuls) feed-forward block."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        a = config.arch
        self.gated = a.gated_ffn
        self.act = nn.GELU(approximate="tanh") if config.activation == "gelu" else nn.SiLU()
        self.up = nn.Linear(a.width, (2 if a.gated_ffn else 1) * a.ffn_size, bias=a.bias)
        self.down = nn.Linear(a.ffn_size, a.width, bias=a.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.up(x)  # (B, T, 2*ffn) gated, (B, T, ffn) plain
        if self.gated:
            gate, value = h.chunk(2, dim=-1)
            h = self.act(gate) * value
        else:
            h = self.act(h)
        return self.down(h)  # (B, T, C)


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, config: ModelConfig, layer: int) -> None:
        super().__init__()
        self.layer = layer
        self.attn_norm = _norm(config)
        self.attn = Attention(config)
        self.mlp_norm = _norm(config)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_norm(x), cos, sin)
        return x + self.mlp(self.mlp_norm(x))


class Transformer(nn.Module):
    """Decoder-only language model; ``forward(idx, targets)`` returns logits or the mean loss."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        a = config.arch
        self.config = config
        self.tok_emb = nn.Embedding(a.vocab_size, a.width)
        self.pos_emb = nn.Embedding(a.seq_len, a.width) if a.positions == "learned" else None
        self.blocks = nn.ModuleList(Block(config, layer) for layer in range(a.depth))
        self.norm_f = _norm(config)
        self.head = None if a.tied_embeddings else nn.Linear(a.width, a.vocab_size, bias=False)
        cos, sin = rotary_tables(a.seq_len, a.head_dim, config.rope_theta)
        self.register_buffer("rope_cos", cos, persistent=False)  # (T, hs/2): not a parameter
        self.register_buffer("rope_sin", sin, persistent=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Gemstones initialisation (docs/laws.md §8.2; see the module docstring)."""
        a, std = self.config.arch, self.config.std

        def trunc(weight: torch.Tensor, sigma: float) -> None:
            nn.init.trunc_normal_(weight, mean=0.0, std=sigma, a=-3 * sigma, b=3 * sigma)

        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Embedding):
                trunc(module.weight, std)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, nn.LayerNorm | nn.RMSNorm):
                module.reset_parameters()  # gain 1 (and bias 0)
        for block in self.blocks:
            assert isinstance(block, Block)
            scale = 2.0 * (block.layer + 1)
            trunc(block.attn.proj.weight, 1.0 / math.sqrt(scale * a.width))
            trunc(block.mlp.down.weight, 1.0 / math.sqrt(scale * a.ffn_size))

    def num_params(self) -> int:
        """Every trainable weight (equals ``fitting.counting.count(spec).total``)."""
        return sum(p.numel() for p in self.parameters())

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> torch.Tensor:
        """idx (B, T) token ids -> logits (B, T, V); with targets (B, T) -> mean loss (scalar)."""
        n_ctx = idx.shape[1]
        if n_ctx > self.config.arch.seq_len:
            raise ValueError(f"sequence length {n_ctx} exceeds seq_len {self.config.arch.seq_len}")
        x = self.tok_emb(idx)  # (B, T, C)
        if self.pos_emb is not None:
            x = x + self.pos_emb(torch.arange(n_ctx, device=idx.device))
        for block in self.blocks:
            x = block(x, self.rope_cos, self.rope_sin)
        x = self.norm_f(x)
        weight = self.tok_emb.weight if self.head is None else self.head.weight
        logits = F.linear(x, weight)  # (B, T, V)
        if targets is None:
            return logits
        return F.cross_entropy(logits.float().flatten(0, 1), targets.flatten())
