"""docs/laws.md §11: the papers' own worked numbers, reproduced through the public functions.

Every expected number is labelled (``tests/pins.py``): ``published`` with its source, and
``derived=`` where the paper prints the constants but not the number (docs/laws.md's [C],
recomputed from them without flopwise); ``regression_pin`` where the number is what
flopwise's own search printed.
"""

from __future__ import annotations

import math

import pytest

from flopwise.fitting import forms
from flopwise.fitting.allocation import allocate
from flopwise.fitting.catalogue import builtin
from flopwise.fitting.hyperparams import deepseek_batch_size, deepseek_learning_rate
from flopwise.fitting.inference import inference_optimal_for_loss, quality_loss
from flopwise.fitting.prediction import predict
from flopwise.fitting.reconcile import local_exponent_analytic, local_exponent_search
from tests.pins import (
    BESIROGLU,
    DEEPSEEK,
    GEMSTONES_REPO,
    HOFFMANN,
    KAPLAN,
    MCLEISH,
    MUENNIGHOFF,
    PEARCE_SONG,
    PORIAN,
    PORIAN_REPO,
    SARDANA,
    published,
    regression_pin,
)

GOPHER = published(5.76e23, f"{HOFFMANN}, Table 3: Gopher's budget (the 67B row)")
EQ4 = "Chinchilla Eq. 4: N* = G (C/6)^(β/(α+β)), G = (αA/(βB))^(1/(α+β)); D* = C/(6N*)"
SARDANA_SOLVED = (
    "the first-order condition of docs/laws.md §6.1 solved for D_tr (Brent's method in "
    "log D_tr, independently of flopwise) with the released code's α 0.336, β 0.283 and "
    "Chinchilla's printed A 406.4, B 410.7, E 1.69"
)


def test_row1_chinchilla_unrounded_frontier() -> None:
    n, d = published(
        (4.04e10, 2.38e12),
        f"{HOFFMANN}, Fig. 4 ('about 40B'); constants of the TeX source (docs/laws.md §2.2)",
        derived=f"{EQ4}, unrounded A 406.401, B 410.7228, α 0.33917084, β 0.2849083",
    )
    result = allocate(builtin("chinchilla-2022"), GOPHER)
    assert result.params == pytest.approx(n, rel=0.01)
    assert result.tokens == pytest.approx(d, rel=0.01)
    assert 6 * result.params * result.tokens == pytest.approx(GOPHER, rel=1e-12)


def test_row2_rounded_constants_move_the_optimum() -> None:
    n = published(
        3.22e10,
        f"{HOFFMANN}, Eq. 10 as printed (A 406.4, B 410.7, α 0.34, β 0.28; docs/laws.md §2.2)",
        derived=EQ4,
    )
    assert allocate(builtin("chinchilla-2022-rounded"), GOPHER).params == pytest.approx(n, rel=0.01)


EPOCH_SOURCE = (
    f"{BESIROGLU}, the estimates A 482.01, B 2085.43, α 0.3478, β 0.3658 (docs/laws.md §3.1)"
)
EPOCH_DERIVED = (
    f"{EQ4}; L* = E + A/N*^α + B/D*^β with E = 1.8172, the summed-Huber refit's E (the "
    "table of docs/laws.md §3.3 does not name its E; 1.8172 reproduces its L* column, the "
    "headline 1.81686 gives L* 3e-4 lower)"
)


def test_row3_epoch_frontier() -> None:
    n, d, ratio, loss = published(
        (7.225e10, 1.329e12, 18.4, 1.9744), EPOCH_SOURCE, derived=EPOCH_DERIVED
    )
    result = allocate(builtin("epoch-2024"), GOPHER)
    assert result.params == pytest.approx(n, rel=0.01)
    assert result.tokens == pytest.approx(d, rel=0.01)
    assert result.tokens_per_param == pytest.approx(ratio, rel=0.01)
    assert result.loss == pytest.approx(loss, abs=1e-3)


@pytest.mark.parametrize(
    ("flops", "n", "d", "loss"),
    published(
        [
            (1e21, 2.778e9, 5.999e10, 2.3055),
            (5.88e23, 7.302e10, 1.342e12, 1.9739),
            (1e24, 9.586e10, 1.739e12, 1.9597),
            (1e25, 3.121e11, 5.341e12, 1.9117),
            (1e26, 1.016e12, 1.641e13, 1.8799),
        ],
        EPOCH_SOURCE,
        derived=EPOCH_DERIVED,
    ),
)
def test_epoch_implied_optimum_table(flops: float, n: float, d: float, loss: float) -> None:
    result = allocate(builtin("epoch-2024"), flops)
    assert result.params == pytest.approx(n, rel=0.01)
    assert result.tokens == pytest.approx(d, rel=0.01)
    assert result.loss == pytest.approx(loss, abs=1e-3)


@pytest.mark.parametrize(
    ("n", "flops", "tokens"),
    published(
        [(1e9, 1.21e20, 20.2e9), (1e10, 1.23e22, 205.1e9), (175e9, 3.85e24, 3.7e12)],
        f"{HOFFMANN}, Table 3 (Approach 1 projections; docs/laws.md §2.3)",
    ),
)
def test_row5_chinchilla_table3_rows(n: float, flops: float, tokens: float) -> None:
    assert 6 * n * tokens == pytest.approx(flops, rel=0.01)
    result = allocate(builtin("chinchilla-2022-approach1"), flops)
    assert result.params == pytest.approx(n, rel=0.01)
    assert result.tokens == pytest.approx(tokens, rel=0.01)


def test_row6_kaplan_vs_chinchilla_at_1e21() -> None:
    kaplan_n = published(
        4.683e9,
        f"{HOFFMANN}, App. D.4: Kaplan's 4.68B at 1e21 FLOPs",
        derived=f"{KAPLAN} Table 6: 1.3e9 x C_min^0.73, C_min = C/2 = 5.787 PF-days",
    )
    table3_n = published(2.86e9, f"{HOFFMANN}, App. D.4: Approach 1 prescribes 2.86B at 1e21")
    kaplan = allocate(builtin("kaplan-2020"), 1e21)
    assert kaplan.params == pytest.approx(kaplan_n, rel=0.005)
    assert allocate(builtin("chinchilla-2022-approach1"), 1e21).params == pytest.approx(
        table3_n, rel=0.005
    )


def test_row7_deepseek_hyperparameters_7b() -> None:
    source = f"{DEEPSEEK}, §3.1 Eq. 1 at the budgets of the 7B and 67B models of Table 2"
    derived = "B = 0.2920 C^0.3271, η = 0.3118 C^-0.1250 (docs/laws.md §5.4)"
    m_7b = published(4.228e10, f"{DEEPSEEK}, Eq. 2", derived="M = 72·30·4096² + 12·30·4096·4096")
    compute = m_7b * 2e12  # the 2T tokens of Table 2
    assert compute == pytest.approx(8.456e22)
    batch_7b, lr_7b, c_67b, batch_67b, lr_67b = published(
        (9.22e6, 4.25e-4, 9.946e23, 2.07e7, 3.12e-4), source, derived=derived
    )
    assert deepseek_batch_size(compute) == pytest.approx(batch_7b, rel=0.005)
    assert deepseek_learning_rate(compute) == pytest.approx(lr_7b, rel=0.005)
    assert deepseek_batch_size(c_67b) == pytest.approx(batch_67b, rel=0.005)
    assert deepseek_learning_rate(c_67b) == pytest.approx(lr_67b, rel=0.005)


@pytest.mark.parametrize(
    ("quality", "d_inf", "params", "ratio", "saving"),
    published(
        [
            (30e9, 1e13, 1.361e10, 2.845, 0.2799),
            (13e9, 2e12, 6.97e9, 2.17, 0.1745),
            (7e9, 1e11, 6.00e9, 1.176, 0.0085),
            (70e9, 2e12, 5.79e10, None, 0.0131),
            (70e9, 1e13, 4.155e10, None, 0.1195),
        ],
        f"{SARDANA}: the abstract (30B quality: 13.6B on 2.84x the data, 28% fewer FLOPs), "
        "Fig. 1 (13B quality: a 7B model, 17%) and the paper's 7B and 70B cases (6B on 1.18x; "
        "a 1.3% gap); the 70B, D_inf = 1e13 figure is seen only in secondary material "
        "(docs/laws.md §6.3)",
        derived=SARDANA_SOLVED,
    ),
)
def test_rows9_10_sardana_inference_aware(
    quality: float, d_inf: float, params: float, ratio: float | None, saving: float
) -> None:
    law = builtin("sardana-2024")
    result = inference_optimal_for_loss(law, quality_loss(law, quality), d_inf)
    assert result.params == pytest.approx(params, rel=0.005)
    if ratio is not None:
        assert result.tokens / result.chinchilla_tokens == pytest.approx(ratio, rel=0.005)
    assert result.saving == pytest.approx(saving, abs=0.001)


def test_row10_sardana_saves_1_69e22_flops() -> None:
    law = builtin("sardana-2024")
    saved, total = published(
        (1.69e22, 9.70e22),
        f"{SARDANA}, Fig. 1: saving 1.7e22 FLOPs (docs/laws.md §6.3)",
        derived=SARDANA_SOLVED,
    )
    result = inference_optimal_for_loss(law, quality_loss(law, 13e9), 2e12)
    assert result.chinchilla_total_flops - result.total_flops == pytest.approx(saved, rel=0.01)
    assert result.chinchilla_total_flops == pytest.approx(total, rel=0.01)


def test_sardana_quality_uses_approach3_tokens() -> None:
    # 7B-quality means 276B tokens (39.5 per parameter), not 20 per parameter.
    tokens = published(
        2.764e11,
        f"{SARDANA}: 'X-Chinchilla-quality' is the loss at the Approach 3 optimum for N_X",
        derived=f"{EQ4} solved for C at N* = 7e9 with α 0.336, β 0.283, A 406.4, B 410.7 "
        "(docs/laws.md §6.1)",
    )
    law = builtin("sardana-2024")
    result = inference_optimal_for_loss(law, quality_loss(law, 7e9), 0.0)
    assert result.params == pytest.approx(7e9, rel=1e-9)
    assert result.tokens == pytest.approx(tokens, rel=0.005)


def test_row11_muennighoff_effective_data() -> None:
    exponential, geometric_value, limit = published(
        (3.21, 3.05, 4.0),
        f"{MUENNIGHOFF}: the paper's toy example for Eq. 5 (one unique unit, five epochs, "
        "R_D* = 3; the geometric series with δ = 0.25; the limit as R_D grows; "
        "docs/laws.md §7.3)",
    )
    assert forms.effective_data(1.0, 5.0, R_D=3.0) == pytest.approx(exponential, abs=0.01)
    geometric = sum(0.75**k for k in range(5))  # delta = 0.25, each epoch keeps 75% of the last
    assert geometric == pytest.approx(geometric_value, abs=0.01)
    assert forms.effective_data(1.0, 101.0, R_D=3.0) == pytest.approx(limit, abs=0.01)


def test_row12_muennighoff_unique_params_ratio() -> None:
    k = builtin("muennighoff-2023").constants
    ratio = (
        forms.unique_params(1e11, 1e20, A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"]) / 1e11
    )
    assert ratio == pytest.approx(
        published(
            0.0510,
            f"{MUENNIGHOFF}: the simplified form U_N = 0.051 U_D (docs/laws.md §7.2)",
            derived="G² = 0.050987 with the C4 constants, G = (αA/(βB))^(1/(α+β))",
        ),
        abs=1e-3,
    )


R_D_STAR = published(15.387756, f"{MUENNIGHOFF}, App. A: the fitted R_D* (docs/laws.md §7.2)")


@pytest.mark.parametrize(
    ("epochs", "value"),
    published(
        [(2, 0.984), (4, 0.931), (8, 0.828), (16, 0.661), (40, 0.379)],
        f"{MUENNIGHOFF}, Eq. 5 with the fitted R_D* (docs/laws.md §7.3)",
        derived="D'/D = (1 + R_D* (1 - exp(-(e - 1)/R_D*)))/e at e epochs",
    ),
)
def test_muennighoff_value_of_repeated_data(epochs: int, value: float) -> None:
    assert forms.effective_data(1.0, float(epochs), R_D=R_D_STAR) / epochs == pytest.approx(
        value, abs=1e-3
    )


@pytest.mark.parametrize(
    ("tokens", "loss", "unique_loss"),
    published(
        [(4e11, 2.1891, 2.1861), (1.6e12, 2.1511, 2.1395)],
        f"{MUENNIGHOFF}, App. A: the C4 base law and decay constants (docs/laws.md §7.2)",
        derived="Eq. 5 to 7 at N = 5.1e9, U_D = 1e11, and the plain Chinchilla form in N, D "
        "(docs/laws.md §7.3)",
    ),
)
def test_muennighoff_c4_worked_numbers(tokens: float, loss: float, unique_loss: float) -> None:
    law = builtin("muennighoff-2023")
    assert predict(law, params=5.1e9, tokens=tokens, unique_tokens=1e11).loss == pytest.approx(
        loss, abs=1e-4
    )
    assert predict(law, params=5.1e9, tokens=tokens).loss == pytest.approx(unique_loss, abs=1e-4)


PEARCE_SONG_G = published(
    {"epoch-2024": 0.78, "chinchilla-2022": 0.74},
    f"{PEARCE_SONG}, main result: g = 0.78 with Epoch's constants, 0.74 with Chinchilla's",
)


@pytest.mark.parametrize(
    ("law_id", "exponent"),
    regression_pin(
        [("epoch-2024", 0.7805), ("chinchilla-2022", 0.7388)],
        how="local_exponent_search(**constants at 4 significant figures) (docs/laws.md §9)",
        why="the paper prints two digits; the third and fourth guard the search itself",
    ),
)
def test_row13_pearce_song_local_exponent(law_id: str, exponent: float) -> None:
    k = builtin(law_id).constants
    # Their script uses the constants as quoted in the paper (4 significant figures).
    rounded = {name: float(f"{value:.4g}") for name, value in k.items()}
    result = local_exponent_search(**rounded)
    assert result.exponent == pytest.approx(exponent, abs=0.001)
    assert round(result.exponent, 2) == PEARCE_SONG_G[law_id]


def test_pearce_song_analytic_limits() -> None:
    # Eq. 20's limits: g -> β/(α/3 + β) for small models, β/(α + β) for large ones.
    alpha, beta = published((0.3478, 0.3658), f"{PEARCE_SONG}, Eq. 10 (Epoch's exponents)")
    assert local_exponent_analytic(1e-6, alpha=alpha, beta=beta) == pytest.approx(
        beta / (alpha / 3 + beta), rel=1e-4
    )
    assert local_exponent_analytic(1e30, alpha=alpha, beta=beta) == pytest.approx(
        beta / (alpha + beta), rel=1e-4
    )
    top = published(
        0.853,
        f"{PEARCE_SONG}, Eq. 20 with ω = 47,491 (Eq. 11; docs/laws.md §9)",
        derived="1/g = 1 - (N^(2/3) + ω/9)/(β(N^(2/3) + ω/3)) + (α+1)(N^(2/3) + ω/3)"
        "/(β(N^(2/3) + ω)) at N = 1e7",
    )
    assert local_exponent_analytic(1e7, alpha=alpha, beta=beta) == pytest.approx(top, abs=1e-3)


PORIAN_FITS = (
    f"{PORIAN}, the weighted fits N* = k C^a of each correction step (RefinedWeb), from "
    f"{PORIAN_REPO} data/summary_df*.pickle.xz (docs/laws.md §4.1)"
)


@pytest.mark.parametrize(
    ("law_id", "n_star"),
    published(
        [
            ("porian-2024-kaplan", 3.03e12),
            ("porian-2024-head-flops", 7.89e11),
            ("porian-2024-warmup", 2.92e11),
            ("porian-2024-cosine", 1.83e11),
            ("porian-2024", 7.69e10),
        ],
        PORIAN_FITS,
        derived="k C^a at C = 5.88e23 (e.g. 0.1189 x 5.88e23^0.4969 = 7.69e10)",
    ),
)
def test_row14_porian_pipeline(law_id: str, n_star: float) -> None:
    assert allocate(builtin(law_id), 5.88e23).params == pytest.approx(n_star, rel=0.01)


def test_porian_tokens_per_param() -> None:
    ratio = published(
        16.5, PORIAN_FITS, derived="D*/N* = C/(6 k² C^(2a)) = 11.78 C^0.0062 at C = 5.76e23"
    )
    assert allocate(builtin("porian-2024"), 5.76e23).tokens_per_param == pytest.approx(
        ratio, rel=0.01
    )


@pytest.mark.parametrize(
    ("width", "depth", "actual", "eq1", "wd"),
    published(
        [
            (1024, 28, 2.7034, 2.7326, 2.7081),
            (256, 80, 3.1185, 3.1231, 3.1142),
            (3072, 12, 2.5195, 2.5217, 2.5406),
        ],
        f"{MCLEISH}: measured loss at 350.12B tokens in {GEMSTONES_REPO} "
        "wandb_dfs/wandb_df_for_fitting_hot_100b+.jsonl; the fits in parameters_delta-4/ "
        "(docs/laws.md §8.3, §8.5)",
        derived="Eq. 1 and the width-depth law evaluated with the stored fits' constants, "
        "parameters by the authors' counter (docs/laws.md §8.4)",
    ),
)
def test_row16_gemstones_predictions(
    width: int, depth: int, actual: float, eq1: float, wd: float
) -> None:
    tokens = published(3.5012e11, f"{MCLEISH}: the last checkpoint, 350,119,526,400 tokens")
    from flopwise.fitting.counting import ArchSpec, count

    params = count(ArchSpec.gemstones(width, depth)).total
    assert predict(
        builtin("gemstones-2025"), width=width, depth=depth, tokens=tokens
    ).loss == pytest.approx(wd, abs=1e-4)
    assert predict(
        builtin("gemstones-2025-params"), params=params, tokens=tokens
    ).loss == pytest.approx(eq1, abs=1e-4)
    assert abs(wd - actual) < 0.03


def test_kaplan_worked_numbers() -> None:
    k = builtin("kaplan-2020").constants
    loss_n, loss_cmin, b_crit, b_crit_table, joint, n_opt_full_c = published(
        (2.3756, 2.6581, 2.547e6, 2.675e6, 2.4197, 7.77e9),
        f"{KAPLAN}, Table 5 (one-variable laws, B_* 2e8 in the text, 2.1e8 in the table), "
        "Table 2 (the joint law) and Table 6 (N_opt)",
        derived="(8.8e13/1e9)^0.076; (3.1e8)^0.05; B_*/2.5^(1/0.21); the joint law at "
        "N = 1e9, D = 1e10; 1.3e9 x (1e21/8.64e19)^0.73 (docs/laws.md §1.5)",
    )
    assert forms.kaplan_loss_n(1e9, N_c=8.8e13, alpha_N=0.076) == pytest.approx(loss_n, abs=1e-4)
    assert forms.kaplan_loss_cmin(
        1.0, C_c_min=k["C_c_min"], alpha_C_min=k["alpha_C_min"]
    ) == pytest.approx(loss_cmin, abs=1e-4)
    assert forms.kaplan_batch_critical(2.5) == pytest.approx(b_crit, rel=1e-3)
    assert forms.kaplan_batch_critical(2.5, B_star=2.1e8) == pytest.approx(b_crit_table, rel=1e-3)
    assert predict(builtin("kaplan-2020"), params=1e9, tokens=1e10).loss == pytest.approx(
        joint, abs=1e-4
    )
    # C_min = C (not C/2) would give 7.77e9 at 1e21: the convention matters.
    assert forms.kaplan_n_opt(1e21 / forms.PF_DAY, N_e=1.3e9, p_N=0.73) == pytest.approx(
        n_opt_full_c, rel=0.005
    )
    pf_day = published(8.64e19, f"{KAPLAN}, §1.3: a PF-day", derived="1e15 x 86,400")
    assert pf_day == forms.PF_DAY


def test_chinchilla_loss_exponent_on_frontier() -> None:
    # L* - E falls as C^(-alpha beta / (alpha + beta)) along the frontier.
    exponent = published(
        0.1548,
        f"{HOFFMANN}, Eq. 4 with the TeX source's α 0.33917084, β 0.2849083 (docs/laws.md §2.2)",
        derived="αβ/(α+β)",
    )
    law = builtin("chinchilla-2022")
    k = law.constants
    lo, hi = allocate(law, 1e21), allocate(law, 1e24)
    gamma = -math.log((hi.loss - k["E"]) / (lo.loss - k["E"])) / math.log(1e3)
    assert gamma == pytest.approx(exponent, abs=5e-4)
