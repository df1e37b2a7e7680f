"""docs/laws.md §11: the papers' own worked numbers, reproduced through the public functions."""

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

GOPHER = 5.76e23


def test_row1_chinchilla_unrounded_frontier() -> None:
    result = allocate(builtin("chinchilla-2022"), GOPHER)
    assert result.params == pytest.approx(4.04e10, rel=0.01)  # "~40B", Fig. 4
    assert result.tokens == pytest.approx(2.38e12, rel=0.01)
    assert 6 * result.params * result.tokens == pytest.approx(GOPHER, rel=1e-12)


def test_row2_rounded_constants_move_the_optimum() -> None:
    assert allocate(builtin("chinchilla-2022-rounded"), GOPHER).params == pytest.approx(
        3.22e10, rel=0.01
    )


def test_row3_epoch_frontier() -> None:
    result = allocate(builtin("epoch-2024"), GOPHER)
    assert result.params == pytest.approx(7.225e10, rel=0.01)
    assert result.tokens == pytest.approx(1.329e12, rel=0.01)
    assert result.tokens_per_param == pytest.approx(18.4, rel=0.01)
    assert result.loss == pytest.approx(1.9744, abs=1e-3)


@pytest.mark.parametrize(
    ("flops", "n", "d", "loss"),
    [
        (1e21, 2.778e9, 5.999e10, 2.3055),
        (5.88e23, 7.302e10, 1.342e12, 1.9739),
        (1e24, 9.586e10, 1.739e12, 1.9597),
        (1e25, 3.121e11, 5.341e12, 1.9117),
        (1e26, 1.016e12, 1.641e13, 1.8799),
    ],
)
def test_epoch_implied_optimum_table(flops: float, n: float, d: float, loss: float) -> None:
    # docs/laws.md §3.3 table.
    result = allocate(builtin("epoch-2024"), flops)
    assert result.params == pytest.approx(n, rel=0.01)
    assert result.tokens == pytest.approx(d, rel=0.01)
    assert result.loss == pytest.approx(loss, abs=1e-3)


@pytest.mark.parametrize(
    ("n", "flops", "tokens"),
    [(1e9, 1.21e20, 20.2e9), (1e10, 1.23e22, 205.1e9), (175e9, 3.85e24, 3.7e12)],
)
def test_row5_chinchilla_table3_rows(n: float, flops: float, tokens: float) -> None:
    assert 6 * n * tokens == pytest.approx(flops, rel=0.01)
    result = allocate(builtin("chinchilla-2022-approach1"), flops)
    assert result.params == pytest.approx(n, rel=0.01)
    assert result.tokens == pytest.approx(tokens, rel=0.01)


def test_row6_kaplan_vs_chinchilla_at_1e21() -> None:
    kaplan = allocate(builtin("kaplan-2020"), 1e21)
    assert kaplan.params == pytest.approx(4.683e9, rel=0.005)  # "4.68B", Chinchilla App. D.4
    assert allocate(builtin("chinchilla-2022-approach1"), 1e21).params == pytest.approx(
        2.86e9, rel=0.005
    )


def test_row7_deepseek_hyperparameters_7b() -> None:
    compute = 4.228e10 * 2e12
    assert compute == pytest.approx(8.456e22)
    assert deepseek_batch_size(compute) == pytest.approx(9.22e6, rel=0.005)
    assert deepseek_learning_rate(compute) == pytest.approx(4.25e-4, rel=0.005)
    assert deepseek_batch_size(9.946e23) == pytest.approx(2.07e7, rel=0.005)
    assert deepseek_learning_rate(9.946e23) == pytest.approx(3.12e-4, rel=0.005)


@pytest.mark.parametrize(
    ("quality", "d_inf", "params", "ratio", "saving"),
    [
        (30e9, 1e13, 1.361e10, 2.845, 0.2799),
        (13e9, 2e12, 6.97e9, 2.17, 0.1745),
        (7e9, 1e11, 6.00e9, 1.176, 0.0085),
        (70e9, 2e12, 5.79e10, None, 0.0131),
        (70e9, 1e13, 4.155e10, None, 0.1195),
    ],
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
    result = inference_optimal_for_loss(law, quality_loss(law, 13e9), 2e12)
    assert result.chinchilla_total_flops - result.total_flops == pytest.approx(1.69e22, rel=0.01)
    assert result.chinchilla_total_flops == pytest.approx(9.70e22, rel=0.01)


def test_sardana_quality_uses_approach3_tokens() -> None:
    # docs/laws.md §6.1: 7B-quality means 276B tokens (39.5 per parameter), not 20 per parameter.
    law = builtin("sardana-2024")
    result = inference_optimal_for_loss(law, quality_loss(law, 7e9), 0.0)
    assert result.params == pytest.approx(7e9, rel=1e-9)
    assert result.tokens == pytest.approx(2.764e11, rel=0.005)


def test_row11_muennighoff_effective_data() -> None:
    assert forms.effective_data(1.0, 5.0, R_D=3.0) == pytest.approx(3.21, abs=0.01)
    geometric = sum(0.75**k for k in range(5))  # delta = 0.25, each epoch keeps 75% of the last
    assert geometric == pytest.approx(3.05, abs=0.01)
    assert forms.effective_data(1.0, 101.0, R_D=3.0) == pytest.approx(4.0, abs=0.01)


def test_row12_muennighoff_unique_params_ratio() -> None:
    k = builtin("muennighoff-2023").constants
    ratio = (
        forms.unique_params(1e11, 1e20, A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"]) / 1e11
    )
    assert ratio == pytest.approx(0.0510, abs=1e-3)


@pytest.mark.parametrize(
    ("epochs", "value"), [(2, 0.984), (4, 0.931), (8, 0.828), (16, 0.661), (40, 0.379)]
)
def test_muennighoff_value_of_repeated_data(epochs: int, value: float) -> None:
    assert forms.effective_data(1.0, float(epochs), R_D=15.387756) / epochs == pytest.approx(
        value, abs=1e-3
    )


@pytest.mark.parametrize(
    ("tokens", "loss", "unique_loss"), [(4e11, 2.1891, 2.1861), (1.6e12, 2.1511, 2.1395)]
)
def test_muennighoff_c4_worked_numbers(tokens: float, loss: float, unique_loss: float) -> None:
    law = builtin("muennighoff-2023")
    assert predict(law, params=5.1e9, tokens=tokens, unique_tokens=1e11).loss == pytest.approx(
        loss, abs=1e-4
    )
    assert predict(law, params=5.1e9, tokens=tokens).loss == pytest.approx(unique_loss, abs=1e-4)


@pytest.mark.parametrize(
    ("law_id", "exponent"), [("epoch-2024", 0.7805), ("chinchilla-2022", 0.7388)]
)
def test_row13_pearce_song_local_exponent(law_id: str, exponent: float) -> None:
    k = builtin(law_id).constants
    # Their script uses the constants as quoted in the paper (4 significant figures).
    rounded = {name: float(f"{value:.4g}") for name, value in k.items()}
    result = local_exponent_search(**rounded)
    assert result.exponent == pytest.approx(exponent, abs=0.001)
    assert round(result.exponent, 2) == {"epoch-2024": 0.78, "chinchilla-2022": 0.74}[law_id]


def test_pearce_song_analytic_limits() -> None:
    alpha, beta = 0.3478, 0.3658
    assert local_exponent_analytic(1e-6, alpha=alpha, beta=beta) == pytest.approx(
        beta / (alpha / 3 + beta), rel=1e-4
    )
    assert local_exponent_analytic(1e30, alpha=alpha, beta=beta) == pytest.approx(
        beta / (alpha + beta), rel=1e-4
    )
    assert local_exponent_analytic(1e7, alpha=alpha, beta=beta) == pytest.approx(0.853, abs=1e-3)


@pytest.mark.parametrize(
    ("law_id", "n_star"),
    [
        ("porian-2024-kaplan", 3.03e12),
        ("porian-2024-head-flops", 7.89e11),
        ("porian-2024-warmup", 2.92e11),
        ("porian-2024-cosine", 1.83e11),
        ("porian-2024", 7.69e10),
    ],
)
def test_row14_porian_pipeline(law_id: str, n_star: float) -> None:
    assert allocate(builtin(law_id), 5.88e23).params == pytest.approx(n_star, rel=0.01)


def test_porian_tokens_per_param() -> None:
    # docs/laws.md §4.1: D*/N* = 11.78 C^0.0062, about 16.5 at 5.76e23.
    assert allocate(builtin("porian-2024"), 5.76e23).tokens_per_param == pytest.approx(
        16.5, rel=0.01
    )


@pytest.mark.parametrize(
    ("width", "depth", "actual", "eq1", "wd"),
    [
        (1024, 28, 2.7034, 2.7326, 2.7081),
        (256, 80, 3.1185, 3.1231, 3.1142),
        (3072, 12, 2.5195, 2.5217, 2.5406),
    ],
)
def test_row16_gemstones_predictions(
    width: int, depth: int, actual: float, eq1: float, wd: float
) -> None:
    tokens = 3.5012e11
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
    assert forms.kaplan_loss_n(1e9, N_c=8.8e13, alpha_N=0.076) == pytest.approx(2.3756, abs=1e-4)
    assert forms.kaplan_loss_cmin(
        1.0, C_c_min=k["C_c_min"], alpha_C_min=k["alpha_C_min"]
    ) == pytest.approx(2.6581, abs=1e-4)
    assert forms.kaplan_batch_critical(2.5) == pytest.approx(2.547e6, rel=1e-3)
    assert forms.kaplan_batch_critical(2.5, B_star=2.1e8) == pytest.approx(2.675e6, rel=1e-3)
    assert predict(builtin("kaplan-2020"), params=1e9, tokens=1e10).loss == pytest.approx(
        2.4197, abs=1e-4
    )
    # C_min = C (not C/2) would give 7.77e9 at 1e21: the convention matters.
    assert forms.kaplan_n_opt(1e21 / forms.PF_DAY, N_e=1.3e9, p_N=0.73) == pytest.approx(
        7.77e9, rel=0.005
    )
    assert forms.PF_DAY == 8.64e19


def test_chinchilla_loss_exponent_on_frontier() -> None:
    # L* - E falls as C^(-alpha beta / (alpha + beta)): 0.1548 unrounded (docs/laws.md §2.2).
    law = builtin("chinchilla-2022")
    k = law.constants
    lo, hi = allocate(law, 1e21), allocate(law, 1e24)
    gamma = -math.log((hi.loss - k["E"]) / (lo.loss - k["E"])) / math.log(1e3)
    assert gamma == pytest.approx(0.1548, abs=5e-4)
