"""The model: built from an ArchSpec, its parameter count is the counter's, exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from flopwise.fitting.counting import ArchFamily, ArchSpec, count
from flopwise.trainer.model import Block, ModelConfig, Transformer

VARIATIONS = [
    {},
    {"n_kv_heads": 1},
    {"head_dim": 8},
    {"gated_ffn": False},
    {"tied_embeddings": True},
    {"positions": "learned"},
    {"positions": "none"},
    {"norm": "layernorm"},
    {"bias": True},
    {"ffn_size": 100},
    {"n_heads": 3, "head_dim": 24},  # query width 72 != width 64
    {"gated_ffn": False, "tied_embeddings": True, "norm": "layernorm", "bias": True,
     "positions": "learned"},  # GPT-2 style
]  # fmt: skip


def spec(**changes: object) -> ArchSpec:
    base: dict[str, object] = {"width": 64, "depth": 2, "head_dim": 16, "vocab_size": 256,
                               "seq_len": 32}  # fmt: skip
    return ArchSpec(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize("changes", VARIATIONS, ids=lambda c: ",".join(c) or "gemstones")
def test_forward_backward(changes: dict[str, object]) -> None:
    torch.manual_seed(0)
    s = spec(**changes)
    model = Transformer(ModelConfig(arch=s))
    idx = torch.randint(0, s.vocab_size, (3, 17))
    logits = model(idx)
    assert logits.shape == (3, 17, s.vocab_size)
    targets = torch.randint(0, s.vocab_size, (3, 17))
    loss = model(idx, targets)
    loss.backward()
    assert math.isfinite(loss.item())
    # untrained: close to uniform over the vocabulary
    assert abs(loss.item() - math.log(s.vocab_size)) < 1.0
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_causal() -> None:
    """Changing a later token never changes an earlier position's logits."""
    torch.manual_seed(0)
    model = Transformer(ModelConfig(arch=spec()))
    a = torch.randint(0, 256, (1, 20))
    b = a.clone()
    b[0, 12:] = (b[0, 12:] + 1) % 256
    with torch.no_grad():
        diff = (model(a) - model(b)).abs().amax(dim=-1)[0]
    assert diff[:12].max() < 1e-5 and diff[12:].max() > 1e-4


@pytest.mark.parametrize("changes", VARIATIONS, ids=lambda c: ",".join(c) or "gemstones")
def test_param_count_matches_counter(changes: dict[str, object]) -> None:
    s = spec(**changes)
    assert Transformer(ModelConfig(arch=s)).num_params() == count(s).total


def test_param_count_many_shapes() -> None:
    """Seeded random shapes across every variation the counter knows."""
    rng = np.random.default_rng(0)
    for _ in range(60):
        head_dim = int(rng.choice([8, 16, 32]))
        n_kv = int(rng.integers(1, 4))
        n_heads = n_kv * int(rng.integers(1, 4))
        s = ArchSpec(
            width=int(rng.integers(8, 97)),
            depth=int(rng.integers(1, 4)),
            n_heads=n_heads,
            n_kv_heads=n_kv,
            head_dim=head_dim,
            ffn_size=int(rng.integers(1, 200)),
            gated_ffn=bool(rng.integers(2)),
            vocab_size=int(rng.integers(2, 600)),
            seq_len=int(rng.integers(1, 200)),
            tied_embeddings=bool(rng.integers(2)),
            positions=str(rng.choice(["rotary", "learned", "none"])),  # type: ignore[arg-type]
            norm=str(rng.choice(["rmsnorm", "layernorm"])),  # type: ignore[arg-type]
            bias=bool(rng.integers(2)),
        )
        assert Transformer(ModelConfig(arch=s)).num_params() == count(s).total, s


def test_gemstones_shape_count_without_allocating() -> None:
    """The Gemstones 1024x28 model (543,482,880 params, docs/laws.md §8.4) on the meta device."""
    s = ArchSpec.gemstones(1024, 28)
    with torch.device("meta"):
        model = Transformer(ModelConfig(arch=s))
    assert model.num_params() == count(s).total == 543_482_880


def test_family_shapes_count() -> None:
    family = ArchFamily(head_dim=16, kv_group=2, vocab_size=256, seq_len=128)
    for width in (32, 64, 96, 160):
        for depth in (1, 3, 6):
            s = family.spec(width, depth)
            assert Transformer(ModelConfig(arch=s)).num_params() == count(s).total


def test_gemstones_init_scales_by_layer() -> None:
    """σ = 1/√w in general; output projections 1/√(2·w·(l+1)) and 1/√(2·ffn·(l+1))."""
    torch.manual_seed(0)
    s = ArchSpec(width=256, depth=4, head_dim=32, vocab_size=256, seq_len=16)
    model = Transformer(ModelConfig(arch=s))
    assert model.tok_emb.weight.std().item() == pytest.approx(1 / 16, rel=0.05)
    for layer, block in enumerate(model.blocks):
        assert isinstance(block, Block)
        want_attn = 1 / math.sqrt(2 * 256 * (layer + 1))
        want_mlp = 1 / math.sqrt(2 * 1024 * (layer + 1))
        # a normal truncated at ±3σ has std 0.9866σ
        assert block.attn.proj.weight.std().item() == pytest.approx(0.9866 * want_attn, rel=0.05)
        assert block.mlp.down.weight.std().item() == pytest.approx(0.9866 * want_mlp, rel=0.05)
        assert block.attn.proj.weight.abs().max().item() <= 3 * want_attn
        norm = block.attn_norm
        assert isinstance(norm, torch.nn.RMSNorm) and norm.weight is not None
        assert torch.equal(norm.weight.detach(), torch.ones(256))


def test_rejects_what_it_cannot_build() -> None:
    with pytest.raises(ValueError, match="head_dim"):
        ModelConfig(arch=spec(head_dim=15, n_heads=4))
    with pytest.raises(ValueError, match="activation"):
        ModelConfig(arch=spec(), activation="relu")  # type: ignore[arg-type]
    model = Transformer(ModelConfig(arch=spec()))
    with pytest.raises(ValueError, match="seq_len"):
        model(torch.zeros(1, 33, dtype=torch.long))
