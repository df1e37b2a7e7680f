"""Exact parameter and FLOP counts against the papers' own numbers."""

from __future__ import annotations

import csv
import json
import math

import pytest

from flopwise.fitting.catalogue import PORIAN_FAMILY
from flopwise.fitting.counting import ArchFamily, ArchSpec, block_matmul_params, count
from flopwise.fitting.flops import deepseek_model_scale, flops_per_token, kaplan_flops_per_token
from tests.pins import BROWN, DEEPSEEK, GEMSTONES_REPO, MCLEISH, PORIAN, RADFORD, published
from tests.shared_data import BUNDLED, gemstones_wandb_files

GEMSTONES_COUNTER = (
    f"{MCLEISH}, App. M (arXiv App. G): the authors' FLOP counter, V 50,304, s 2,048 "
    "(docs/laws.md §8.4)"
)
COUNTER_DERIVED = "the counter's formula of docs/laws.md §8.4, evaluated independently of flopwise"
PARAMS_1024X28 = published(
    543_482_880,
    f"{MCLEISH}: params_active_precise of 1024 x 28 in {GEMSTONES_REPO} wandb_dfs/ "
    "(docs/laws.md §8.4)",
)


def test_gemstones_1024x28_params_and_flops() -> None:
    # docs/laws.md §11 row 15: exact.
    per_token, ratio = published(
        (3.578e9, 1.097), GEMSTONES_COUNTER, derived=f"{COUNTER_DERIVED}; ratio to 6N"
    )
    spec = ArchSpec.gemstones(1024, 28)
    assert count(spec).total == PARAMS_1024X28
    assert flops_per_token(spec)["gemstones"] == pytest.approx(per_token, rel=5e-4)
    assert flops_per_token(spec)["gemstones"] / (6 * PARAMS_1024X28) == pytest.approx(
        ratio, abs=5e-4
    )


@pytest.mark.parametrize(
    ("width", "depth", "expected", "ratio"),
    published(
        [
            (256, 80, 9.967e8, 1.591),
            (3072, 12, 1.1925e10, 0.990),
            (768, 3, 4.414e8, 0.709),
            (2048, 27, 1.2019e10, 1.052),
        ],
        GEMSTONES_COUNTER,
        derived=f"{COUNTER_DERIVED}; ratio to 6N with the authors' parameter counter",
    ),
)
def test_gemstones_flops_per_token_table(
    width: int, depth: int, expected: float, ratio: float
) -> None:
    spec = ArchSpec.gemstones(width, depth)
    per_token = flops_per_token(spec)
    assert per_token["gemstones"] == pytest.approx(expected, rel=5e-4)
    assert per_token["gemstones"] / per_token["6N"] == pytest.approx(ratio, abs=1e-3)


def test_every_gemstones_params_active_precise() -> None:
    checked = 0
    for path in gemstones_wandb_files():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            if "width" not in row:
                continue  # the slim_chinchilla files hold interpolated sizes, no shapes
            assert (
                count(ArchSpec.gemstones(row["width"], row["depth"])).total
                == row["params_active_precise"]
            )
            checked += 1
    assert checked > 10_000


DEEPSEEK_TABLE3 = f"{DEEPSEEK}, Table 3 (vocabulary 102,400, sequence 4,096; docs/laws.md §5.2)"


@pytest.mark.parametrize(
    ("depth", "width", "n1", "n2", "m", "r1", "r2"),
    published(
        [
            (8, 512, 25.2e6, 77.6e6, 352e6, 0.43, 1.32),
            (12, 768, 84.9e6, 164e6, 963e6, 0.53, 1.02),
            (24, 1024, 302e6, 407e6, 3.02e9, 0.60, 0.81),
            (24, 2048, 1.21e9, 1.42e9, 9.66e9, 0.75, 0.88),
            (32, 4096, 6.44e9, 6.86e9, 45.1e9, 0.85, 0.91),
            (40, 5120, 12.6e9, 13.1e9, 85.6e9, 0.88, 0.92),
            (80, 8192, 64.4e9, 65.3e9, 419e9, 0.92, 0.94),
        ],
        DEEPSEEK_TABLE3,
    ),
)
def test_deepseek_table3(
    depth: int, width: int, n1: float, n2: float, m: float, r1: float, r2: float
) -> None:
    # DeepSeek LLM Table 3 (vocab 102400, sequence 4096): 6N1 = 72 l d^2, 6N2 adds 6 V d.
    model_scale = deepseek_model_scale(width, depth, 4096)
    six_n1 = 72 * depth * width**2
    six_n2 = six_n1 + 6 * 102400 * width
    assert model_scale == pytest.approx(m, rel=6e-3)
    assert six_n1 / 6 == pytest.approx(n1, rel=6e-3)
    assert six_n2 / 6 == pytest.approx(n2, rel=6e-3)
    assert six_n1 / model_scale == pytest.approx(r1, abs=0.01)  # Table 3 prints two digits
    assert six_n2 / model_scale == pytest.approx(r2, abs=0.01)


def test_deepseek_model_scale_exact() -> None:
    # docs/laws.md §11 row 8: 24 layers x 2048 at 4096, and the 7B of §5.4.
    m_24x2048 = published(9.66e9, DEEPSEEK_TABLE3)
    m_7b = published(
        4.228e10,
        f"{DEEPSEEK}, Eq. 2 for the 7B of Table 2 (30 layers, d 4096)",
        derived="72·30·4096² + 12·30·4096·4096",
    )
    assert deepseek_model_scale(2048, 24, 4096) == 72 * 24 * 2048**2 + 12 * 24 * 2048 * 4096
    assert deepseek_model_scale(2048, 24, 4096) == pytest.approx(m_24x2048, rel=1e-3)
    assert deepseek_model_scale(4096, 30, 4096) == pytest.approx(m_7b, rel=1e-3)


@pytest.mark.parametrize(
    ("width", "depth", "total"),
    published(
        [
            (768, 12, 124_439_808),
            (1024, 24, 354_823_168),
            (1280, 36, 774_030_080),
            (1600, 48, 1_557_611_200),
        ],
        f"{RADFORD}: the four released checkpoints (the paper's Table 2 rounds them to 117M, "
        "345M, 762M and 1542M)",
        derived="the checkpoints' tensor shapes summed: vocabulary 50,257, context 1,024, tied "
        "embeddings, learned positions, LayerNorm and biases",
    ),
)
def test_gpt2_parameter_counts(width: int, depth: int, total: int) -> None:
    assert count(ArchSpec.gpt(width, depth)).total == total


@pytest.mark.parametrize(
    ("width", "depth", "nominal"),
    published(
        [
            (768, 12, 125e6),
            (1024, 24, 350e6),
            (1536, 24, 760e6),
            (2048, 24, 1.3e9),
            (2560, 32, 2.7e9),
            (4096, 32, 6.7e9),
            (12288, 96, 175e9),
        ],
        f"{BROWN}, Table 2.1 (context 2,048)",
    ),
)
def test_gpt3_table_2_1_sizes(width: int, depth: int, nominal: float) -> None:
    # The paper rounds, so 3%.
    spec = ArchSpec.gpt(width, depth, seq_len=2048)
    assert count(spec).total == pytest.approx(nominal, rel=0.03)
    # Kaplan Eq. 2.1: N ~ 12 n_layer d_model^2 non-embedding.
    assert count(spec).non_embedding == pytest.approx(12 * depth * width**2, rel=0.01)


def test_kaplan_forward_flops_table1() -> None:
    spec = ArchSpec.gpt(768, 12)
    n = count(spec).non_embedding
    assert kaplan_flops_per_token(n, 12, 768, 1024) == 3 * (2 * n + 2 * 12 * 1024 * 768)
    # d_model >> n_ctx / 12 makes the context term small: 6N to within 3% at GPT-3 scale.
    big = ArchSpec.gpt(12288, 96, seq_len=2048)
    assert flops_per_token(big)["kaplan"] / flops_per_token(big)[
        "6N_non_embedding"
    ] == pytest.approx(1.0, abs=0.03)


def test_chinchilla_appendix_f_matches_its_formula() -> None:
    # App. F forward per sequence for the 73M-like config (MHA, 4x FFN, vocab 32k, seq 2048):
    spec = ArchSpec(
        width=640,
        depth=10,
        n_heads=10,
        n_kv_heads=10,
        head_dim=64,
        gated_ffn=False,
        vocab_size=32000,
        seq_len=2048,
    )
    s, d, v, kh, ff, h = 2048, 640, 32000, 640, 2560, 10
    forward = (
        2 * s * v * d
        + 10
        * (
            2 * 3 * s * d * kh
            + 2 * s * s * kh
            + 3 * h * s * s
            + 2 * s * s * kh
            + 2 * s * kh * d
            + 2 * s * (d * ff + d * ff)
        )
        + 2 * s * d * v
    )
    assert flops_per_token(spec)["chinchilla"] == pytest.approx(3 * forward / s, rel=1e-12)


def test_porian_counts_reproduce_their_data() -> None:
    # Porian et al. data.py: N = (4w + 3 d_ff) w depth + V w ("standard"), and without the head
    # ("kaplan"); every model size in their isoFLOP data is one of our exact counts.
    rows = list(
        csv.DictReader((BUNDLED / "porian2024_isoflop_points.csv").read_text().splitlines())
    )
    standard = {int(float(r["n"])) for r in rows if r["param_count"] == "standard"}
    kaplan = {int(float(r["n"])) for r in rows if r["param_count"] == "kaplan"}
    with_head, blocks = set(), set()
    for width in range(16, 2049, 16):
        for depth in range(1, 41):
            spec = ArchSpec(
                width=width,
                depth=depth,
                n_heads=1,
                n_kv_heads=1,
                head_dim=width,
                ffn_size=256 * math.ceil(8 * width / 3 / 256),
                vocab_size=50432,
            )
            with_head.add(count(spec).with_head)
            blocks.add(depth * block_matmul_params(width, 1, 1, width, spec.ffn_size, True))
    assert standard <= with_head and len(standard) >= 16
    assert kaplan <= blocks and len(kaplan) >= 16


def test_family_spec_and_counts_agree() -> None:
    spec = PORIAN_FAMILY.spec(1024, 16)
    ffn = published(
        2816,
        f"{PORIAN}: d_ff = 256·ceil((8w/3)/256) in their data.py (docs/laws.md §4)",
        derived="256 x ceil(8 x 1024 / 3 / 256)",
    )
    assert spec.ffn_size == ffn
    assert spec.n_heads == 16 and spec.n_kv_heads == 16
    assert ArchFamily().spec(1024, 28) == ArchSpec.gemstones(1024, 28)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"width": 0, "depth": 2}, "width"),
        ({"width": 256, "depth": -1}, "depth"),
        ({"width": 64, "depth": 2}, "head_dim"),
        ({"width": 512, "depth": 2, "n_kv_heads": 3}, "n_kv_heads"),
        ({"width": 512, "depth": 2, "positions": "alibi"}, "positions"),
    ],
)
def test_bad_specs_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ArchSpec(**kwargs)


def test_family_rejects_widths_that_break_heads() -> None:
    with pytest.raises(ValueError, match="kv_group"):
        ArchFamily().spec(384, 4)  # 3 heads cannot form groups of 2
