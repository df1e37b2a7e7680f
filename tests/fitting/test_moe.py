"""Mixture-of-experts counting, memory and the optimal vocabulary against the published
numbers (docs/laws.md §13, §16, §17)."""

from __future__ import annotations

import pytest

from flopwise.fitting.counting import ArchSpec
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.memory import min_gpus, model_memory
from flopwise.fitting.moe import MLA, MoESpec, Routing, mla_params, moe_counts
from flopwise.fitting.vocabulary import (
    derivative_vocab_params,
    isoflop_vocab_params,
    optimal_vocabulary,
    parametric_vocab_params,
)


def mixtral(width: int, depth: int, heads: int, ffn: int, vocab: int) -> MoESpec:
    base = ArchSpec(
        width=width, depth=depth, n_heads=heads, n_kv_heads=8, ffn_size=ffn, vocab_size=vocab
    )
    return MoESpec(base=base, routing=Routing(experts=8, top_k=2))


DEEPSEEK_V3 = MoESpec(
    base=ArchSpec(
        width=7168, depth=61, n_heads=128, n_kv_heads=128, ffn_size=18432, vocab_size=129280
    ),
    routing=Routing(experts=256, top_k=8, shared_experts=1, dense_layers=3),
    expert_ffn_size=2048,
    mla=MLA(
        q_lora_rank=1536,
        kv_lora_rank=512,
        qk_nope_head_dim=128,
        qk_rope_head_dim=64,
        v_head_dim=128,
    ),
)


def test_mixtral_8x7b_46_7b_total_12_9b_active() -> None:
    # Jiang et al. 2024 (arXiv:2401.04088) §2: 47B total, 13B active; the model card 46.7B / 12.9B
    c = moe_counts(mixtral(4096, 32, 32, 14336, 32000))
    assert c.total == 46_702_792_704
    assert c.active == 12_879_925_248
    assert round(c.total / 1e9, 1) == 46.7 and round(c.active / 1e9, 1) == 12.9
    assert c.flops_per_token == 6 * c.active


def test_mixtral_8x22b_141b_total_39b_active() -> None:
    c = moe_counts(mixtral(6144, 56, 48, 16384, 32768))
    assert round(c.total / 1e9) == 141 and round(c.active / 1e9) == 39


def test_deepseek_v3_671b_total_37b_active_with_mla() -> None:
    # DeepSeek-AI 2024 (arXiv:2412.19437) abstract: 671B total, 37B activated per token
    c = moe_counts(DEEPSEEK_V3)
    assert round(c.total / 1e9) == 671
    assert round(c.active / 1e9) in (37, 38)  # 37.55B: the report rounds down
    assert c.active == pytest.approx(37e9, rel=0.02)


def test_mla_block_is_smaller_than_multi_head_attention() -> None:
    mla = DEEPSEEK_V3.mla
    assert mla is not None
    assert mla_params(7168, 128, mla) == 187_107_328
    assert mla_params(7168, 128, mla) < 4 * 7168 * 128 * 128


def test_routing_design_numbers() -> None:
    spec = MoESpec(
        base=ArchSpec(width=512, depth=4, ffn_size=2048), routing=Routing(experts=64, top_k=8),
        expert_ffn_size=256,
    )  # fmt: skip
    assert spec.granularity == 8.0
    assert spec.routing.expansion_rate == 8.0
    assert spec.routing.sparsity == pytest.approx(0.875)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"experts": 2, "top_k": 3}, "top_k"),
        ({"experts": 0, "top_k": 1}, "experts"),
        ({"experts": 4, "top_k": 1, "shared_experts": -1}, "shared_experts"),
    ],
)
def test_bad_routing_names_the_argument(kwargs: dict[str, int], name: str) -> None:
    with pytest.raises(ArgumentError) as err:
        Routing(**kwargs)
    assert err.value.name == name


def test_dense_layers_must_leave_an_moe_block() -> None:
    with pytest.raises(ArgumentError) as err:
        MoESpec(
            base=ArchSpec(width=256, depth=2), routing=Routing(experts=4, top_k=1, dense_layers=2)
        )
    assert err.value.name == "dense_layers"


def test_zero_memory_per_parameter() -> None:
    # Rajbhandari et al. 2020 (ZeRO) §3.1: GPT-2's 1.5B parameters need at least 24 GB
    assert model_memory(1.5e9).total_bytes == 24e9
    # ... and Fig. 1's 7.5B model 120 GB
    m = model_memory(7.5e9)
    assert (m.weights_bytes, m.gradients_bytes, m.optimizer_bytes) == (15e9, 15e9, 90e9)
    assert model_memory(7.5e9, "bf16-weights").total_bytes == 15e9
    with pytest.raises(ArgumentError) as err:
        model_memory(1e9, "int3")
    assert err.value.name == "precision"


def test_min_gpus_for_mixtral_on_h100() -> None:
    total = moe_counts(mixtral(4096, 32, 32, 14336, 32000)).total
    # 747 GB of model states over 80 GiB H100s
    assert min_gpus(model_memory(total).total_bytes, "h100") == 9
    assert min_gpus(model_memory(total, "bf16-weights").total_bytes, "h100") == 2
    with pytest.raises(ArgumentError) as err:
        min_gpus(1e9, "no-such-gpu")
    assert err.value.name == "gpu"


def test_tao_llama2_70b_vocabulary_about_216k() -> None:
    # Tao et al. 2024 abstract: Llama2-70B's optimal vocabulary "should have been at least
    # 216K"; the three approaches at N_nv = 70B, width 8192 (docs/laws.md §16)
    v1 = isoflop_vocab_params(70e9) / 8192
    v2 = derivative_vocab_params(70e9) / 8192
    v3 = parametric_vocab_params(70e9, 8192) / 8192
    assert (round(v1, -3), round(v2, -3), round(v3, -3)) == (212e3, 231e3, 218e3)
    assert (v1 + v2 + v3) / 3 == pytest.approx(216e3, rel=0.03)
    answer = optimal_vocabulary(70e9, 8192)
    assert answer.parametric == int(v3) and answer.warnings  # 70B is beyond the fitted 2.87B


def test_tao_vocabulary_grows_slower_than_the_model() -> None:
    # paper §4: gamma < 1 (0.83 to 0.84): ten times the model, about 6.8 times the vocabulary
    ratio = derivative_vocab_params(7e10) / derivative_vocab_params(7e9)
    assert ratio == pytest.approx(10**0.8354, rel=1e-4)
    small = optimal_vocabulary(3e8, 1024)
    assert not small.warnings and 10_000 < small.parametric < 30_000


def test_parametric_vocabulary_shrinks_when_data_is_scarce() -> None:
    # the paper: with fewer tokens the best vocabulary shrinks (16K -> 10K at N_nv = 302M)
    optimal = parametric_vocab_params(3e8, 1024)
    assert parametric_vocab_params(3e8, 1024, flops=1e19) < optimal
