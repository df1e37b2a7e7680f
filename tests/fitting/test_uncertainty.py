"""Predictive intervals (fitting.uncertainty): the pure pieces, and a fit that recovers a
known noise level and covers fresh runs from the law that generated its data."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit import fit
from flopwise.fitting.fit.spread import (
    GROWTH_FLOOR,
    draw_warning,
    estimate_spread,
    growth_rate,
    holdout_counts,
    largest_out,
    noise_sd,
    rows_at_bound,
    screen_draws,
    spread_warnings,
)
from flopwise.fitting.forms import chinchilla_loss
from flopwise.fitting.laws import from_dict, to_dict
from flopwise.fitting.prediction import predict
from flopwise.fitting.runs import Runs
from flopwise.fitting.stats import check_level, t_score, z_score
from flopwise.fitting.uncertainty import (
    PredictiveError,
    Region,
    distance,
    new_run_error,
    predictive_band,
)
from tests.pins import HOFFMANN, published, regression_pin

TRUTH = published(
    {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
    f"{HOFFMANN}, Eq. 10 as printed (docs/laws.md §2.2)",
)
"""The law the synthetic runs are drawn from: both terms matter over the sizes fitted."""
NORMAL_QUANTILES = published(
    {0.9: 1.6449, 0.95: 1.9600},
    "the standard normal quantiles z(0.95) and z(0.975) of any statistical table",
    derived="scipy.stats.norm.ppf: 1.644854, 1.959964",
)
T_QUANTILES = published(
    {(0.9, 4): 2.1318, (0.95, 3): 3.1824},
    "Student's t quantiles t(0.95; 4) and t(0.975; 3) of any statistical table",
    derived="scipy.stats.t.ppf: 2.131847, 3.182446",
)
SIZES, TOKENS = np.geomspace(3e7, 1e9, 8), np.geomspace(1e9, 3e10, 6)
FRESH_SIZES, FRESH_TOKENS = np.geomspace(1.5e9, 6e9, 4), np.geomspace(3e10, 1.2e11, 4)
NOISE = 0.005
SEEDS = range(5)


def synthetic(sizes: np.ndarray, tokens: np.ndarray, noise: float, seed: int) -> Runs:
    rng = np.random.default_rng(seed)
    n, d = (a.ravel() for a in np.meshgrid(sizes, tokens, indexing="ij"))
    loss = chinchilla_loss(n, d, **TRUTH) * np.exp(rng.normal(0.0, noise, n.shape))
    return Runs.from_records(
        {"run": f"m{a:.3g}", "params": a, "tokens": b, "loss": c}
        for a, b, c in zip(n, d, loss, strict=True)
    )


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, math.nan, True, "0.9"])
def test_level_outside_the_open_unit_interval_names_level(bad: object) -> None:
    with pytest.raises(ArgumentError) as info:
        check_level(bad)
    assert info.value.name == "level"
    with pytest.raises(ArgumentError, match=r"^level"):
        predict(builtin("epoch-2024"), params=1e9, tokens=2e10, level=bad)  # type: ignore[arg-type]


def test_z_scores_are_the_normal_quantiles() -> None:
    for level, z in NORMAL_QUANTILES.items():
        assert z_score(level) == pytest.approx(z, abs=1e-4), level


def test_noise_sd_is_dof_corrected() -> None:
    assert noise_sd(np.array([0.1, -0.1, 0.1, -0.1]), 2) == pytest.approx(math.sqrt(0.04 / 2))


def test_growth_rate_recovers_a_known_slope() -> None:
    rng = np.random.default_rng(1)
    d = rng.uniform(0.0, 2.0, 20_000)
    errors = rng.normal(0.0, np.sqrt(0.004**2 + (0.03 * d) ** 2))
    assert growth_rate(d, errors, 0.004) == pytest.approx(0.03, rel=0.03)
    assert growth_rate(np.zeros(5), np.ones(5), 0.0) == 0.0  # nothing beyond the data


def test_distance_counts_decades_beyond_the_data_in_n_plus_d() -> None:
    top = Region(9.0, 11.0)
    assert distance(np.array([[8.0, 10.0], [10.0, 11.0], [10.0, 12.5]]), top).tolist() == [
        0.0,
        1.0,
        2.5,
    ]
    assert distance(np.array([10.0, 12.0]), Region(None, None)) == 0.0


def test_distance_counts_tokens_per_parameter_outside_the_fitted_ratios() -> None:
    region = Region(9.0, 11.0, 1.0, 2.0)  # fitted on 10 to 100 tokens per parameter
    points = np.array([[8.0, 8.5], [8.0, 10.5], [8.5, 10.0], [10.0, 10.5]])
    assert distance(points, region).tolist() == pytest.approx([0.5, 0.5, 0.0, 1.5])
    nd = np.array([[7.0, 8.0], [8.0, 10.0], [9.0, 9.5]])
    assert Region.of(nd) == Region(9.0, 10.0, 0.5, 2.0)


def test_growth_rate_weighs_every_held_out_point() -> None:
    """Maximum likelihood: large errors near the data raise the growth as much as
    far-away ones do (a least-squares slope on squared errors would hear only the far)."""
    d = np.array([0.1] * 10 + [2.0])
    errors = np.array([0.05, -0.05] * 5 + [0.0])
    assert growth_rate(d, errors, 0.001) == pytest.approx(0.5 / math.sqrt(11 / 10), rel=0.05)


def test_holdouts_keep_three_models_and_largest_out_takes_the_top_models() -> None:
    assert holdout_counts(20) == (1, 4, 8)
    assert holdout_counts(4) == (1,)
    assert holdout_counts(3) == ()
    models = np.array(["a", "a", "b", "c", "c"])
    log_c = np.array([1.0, 5.0, 4.0, 2.0, 3.0])
    assert largest_out(models, log_c, 1).tolist() == [True, True, False, False, False]
    assert largest_out(models, log_c, 2).tolist() == [True, True, True, False, False]


def test_predictive_band_widens_the_curve_band_in_quadrature() -> None:
    lo, hi = predictive_band(2.0, (1.99, 2.02), 0.01, 0.9)
    below, above = math.log(2.0) - math.log(lo), math.log(hi) - math.log(2.0)
    z = z_score(0.9)
    assert below == pytest.approx(math.hypot(math.log(2.0 / 1.99), z * 0.01))
    assert above == pytest.approx(math.hypot(math.log(2.02 / 2.0), z * 0.01))
    assert predictive_band(2.0, None, 0.0, 0.9) == pytest.approx((2.0, 2.0))


def test_t_score_is_students_quantile() -> None:
    for (level, dof), t in T_QUANTILES.items():
        assert t_score(level, dof) == pytest.approx(t, abs=1e-4), (level, dof)
    assert t_score(0.9, math.inf) == z_score(0.9)
    assert t_score(0.9, 1e6) == pytest.approx(z_score(0.9), rel=1e-5)
    with pytest.raises(ArgumentError, match="dof"):
        t_score(0.9, 0.0)


def test_new_run_dof_is_welch_satterthwaite_of_noise_and_growth() -> None:
    spread = PredictiveError(0.01, 0.05, 9.0, 11.0, n_refits=3, noise_dof=40)
    # inside the data only the noise counts: its own degrees of freedom
    assert new_run_error(spread, (8.0, 10.0))[1] == pytest.approx(40)
    # two decades beyond: noise 0.01^2, growth (0.05 x 2)^2
    v_n, v_g = 0.01**2, 0.1**2
    expected = (v_n + v_g) ** 2 / (v_n**2 / 40 + v_g**2 / 3)
    assert new_run_error(spread, (10.0, 12.0))[1] == pytest.approx(expected)
    assert 3 < expected < 3.1  # far out, the three refits decide
    # a default spread (assumed, not estimated) and unknown noise dof: the normal quantile
    assumed = PredictiveError(0.01, 0.05, 9.0, 11.0, source="default")
    assert new_run_error(assumed, (10.0, 12.0))[1] == math.inf


def test_a_few_refits_widen_the_interval_by_t_over_z() -> None:
    narrow = predictive_band(2.0, None, 0.05, 0.9)
    wide = predictive_band(2.0, None, 0.05, 0.9, dof=3.0)
    ratio = math.log(wide[1] / 2.0) / math.log(narrow[1] / 2.0)
    assert ratio == pytest.approx(t_score(0.9, 3) / z_score(0.9))
    old = PredictiveError(0.01, 0.05, 9.0, 11.0).to_dict()
    del old["noise_dof"]  # stored by an earlier version
    assert PredictiveError.from_dict(old).noise_dof is None


def test_new_run_sd_grows_only_beyond_the_fitted_range() -> None:
    spread = PredictiveError(0.01, 0.05, 9.0, 11.0)
    inside, beyond = (new_run_error(spread, point)[0] for point in ((8.0, 10.0), (10.0, 12.0)))
    assert inside == pytest.approx(0.01)
    assert beyond == pytest.approx(math.hypot(0.01, 0.1))


def test_screen_draws_drops_and_counts_degenerate_draws() -> None:
    names = ("E", "A", "B", "alpha", "beta")
    draws = np.array(
        [
            [1.8, 400, 2000, 0.34, 0.28],  # fine
            [1.8, 1e31, 2000, 4.0, 0.28],  # exponent above 2
            [1e-8, 400, 2000, 0.34, 0.28],  # E far below the fit's
            [1.8, 400, 2000, 0.34, 0.28],  # at a bound (flagged by the caller)
        ]
    )
    screened = screen_draws(draws, names, 1.8, np.array([False, False, False, True]))
    assert (screened.n_at_bound, screened.n_extreme, len(screened.draws)) == (1, 2, 1)
    assert screened.dropped_share == 0.75
    assert "3 of 4 bootstrap draws" in draw_warning(screened)["warnings"][0]
    assert draw_warning(screen_draws(draws[:1], names, 1.8, np.array([False]))) == {}


def test_rows_at_bound() -> None:
    lower, upper = np.zeros(2), np.ones(2)
    rows = np.array([[0.5, 0.5], [0.0, 0.5], [0.5, 1.0]])
    assert rows_at_bound(rows, lower, upper).tolist() == [False, True, True]


def test_estimate_spread_from_refits_that_err_by_a_known_amount() -> None:
    models = np.repeat(np.arange(10), 3)
    nd = np.stack([np.repeat(np.linspace(7, 9, 10), 3), np.tile([9.0, 10.0, 11.0], 10)], axis=1)
    log_loss = np.zeros(len(models))

    def refit(train: np.ndarray) -> np.ndarray:  # errs 0.1 per decade beyond its data
        return -0.1 * distance(nd, Region.of(nd[train]))

    spread = estimate_spread(nd, log_loss, models, np.zeros(len(models)), 5, refit)
    assert spread.growth == pytest.approx(math.hypot(0.1, GROWTH_FLOOR))
    assert (spread.n_refits, spread.max_held_out, spread.source) == (3, 4, "fit")
    assert (spread.log10_params_max, spread.log10_tokens_max) == (9.0, 11.0)
    assert (spread.log10_ratio_min, spread.log10_ratio_max) == (0.0, 4.0)
    assert PredictiveError.from_dict(spread.to_dict()) == spread
    failed = estimate_spread(nd, log_loss, models, np.zeros(len(models)), 5, lambda _: None)
    assert failed.source == "default" and failed.n_refits == 0


def test_spread_warnings() -> None:
    one_model = PredictiveError(0.01, 0.02, 9.0, 11.0, n_refits=1, max_held_out=1)
    out = spread_warnings(10, 5, one_model)
    assert any("fewer than 3 per constant" in w for w in out)
    assert any("single model" in w for w in out)
    assert spread_warnings(100, 5, PredictiveError(0.01, 0.02, 9.0, 11.0, max_held_out=3)) == []


@pytest.fixture(scope="module")
def fits() -> list[Any]:
    """Five fits of 48 runs (8 sizes x 6 token counts, 0.5% noise), one per seed."""
    return [
        fit(synthetic(SIZES, TOKENS, NOISE, seed), form="chinchilla", bootstrap=16, workers=1)
        for seed in SEEDS
    ]


def test_fits_recover_the_noise_and_intervals_cover_fresh_larger_runs(fits: list[Any]) -> None:
    """Fresh runs up to 6x the largest size and 4x the most tokens (about 1.4 decades of
    compute beyond the data): 90% intervals, pooled over five fits, cover 80-100%.
    One fit's error is shared by all its predictions, hence the pooling."""
    inside = []
    for seed, report in zip(SEEDS, fits, strict=True):
        law = report.law
        assert law.spread.noise_sd == pytest.approx(NOISE, rel=0.25)
        assert law.spread.growth >= GROWTH_FLOOR
        fresh = synthetic(FRESH_SIZES, FRESH_TOKENS, NOISE, seed=100 + seed)
        for n, d, loss in zip(fresh.params, fresh.tokens, fresh.loss, strict=True):
            p = predict(law, params=float(n), tokens=float(d), level=0.9)
            assert p.curve_interval is not None and p.loss_interval is not None
            lo, hi = p.loss_interval
            assert lo < p.curve_interval[0] < p.curve_interval[1] < hi
            inside.append(lo <= loss <= hi)
    assert 0.8 <= np.mean(inside) <= 1.0


def test_a_wider_level_gives_a_wider_interval(fits: list[Any]) -> None:
    law = fits[0].law
    narrow = predict(law, params=2e9, tokens=4e10, level=0.5).loss_interval
    wide = predict(law, params=2e9, tokens=4e10, level=0.99).loss_interval
    assert narrow is not None and wide is not None
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


def test_spread_travels_with_the_law_and_old_laws_still_load(fits: list[Any]) -> None:
    law = fits[0].law
    again = from_dict(to_dict(law))
    assert again.spread == law.spread
    old = to_dict(law)
    del old["spread"], old["caveats"]  # a law stored before intervals were predictive
    legacy = from_dict(old)
    assert legacy.spread is None and legacy.caveats == ()
    answer = predict(legacy, params=2e9, tokens=4e10)
    assert answer.loss_interval is not None
    assert any("default" in c for c in answer.caveats)


def test_builtin_laws_carry_bundled_spreads_and_caveats() -> None:
    epoch = builtin("epoch-2024")
    assert epoch.spread is not None and epoch.spread.source.startswith("bundled")
    assert builtin("gemstones-2025").spread is not None
    assert predict(epoch, params=1e9, tokens=2e10).caveats == ()
    muennighoff = predict(builtin("muennighoff-2023"), params=1e9, tokens=2e10, unique_tokens=1e10)
    assert any("10% low" in c for c in muennighoff.caveats)


def test_bundled_epoch_spread_is_reproducible() -> None:
    from flopwise.fitting.regenerate import estimate_spread_of

    stored = regression_pin(
        builtin("epoch-2024").spread,
        how="python -m flopwise.fitting.regenerate spreads (fitting/builtin/spreads.json)",
        why="every epoch-2024 loss interval is sized by it: a change of the estimation must "
        "show here and be regenerated on purpose",
    )
    assert estimate_spread_of(builtin("epoch-2024")) == stored


def test_a_fit_on_few_runs_says_they_barely_exceed_its_constants() -> None:
    runs = synthetic(np.geomspace(3e7, 3e8, 4), np.array([1e9, 4e9]), NOISE, seed=3)
    report = fit(runs, form="chinchilla", workers=1)
    assert any("fewer than 3 per constant" in w for w in report.warnings)
    assert any("single model" in w for w in report.warnings)  # 4 sizes: one held out
    assert report.law is None or report.law.spread is not None


def test_a_ratio_outside_the_fitted_ones_widens_the_interval_and_says_so() -> None:
    law = builtin("epoch-2024")  # fitted on about 0.46 to 340 tokens per parameter
    inside = predict(law, params=1e9, tokens=2e10)
    outside = predict(law, params=1e9, tokens=1e8)  # 0.1 tokens per parameter
    assert not any("tokens per parameter" in c for c in inside.caveats)
    assert any("0.1 tokens per parameter is outside" in c for c in outside.caveats)
    assert inside.loss_interval is not None and outside.loss_interval is not None
    width = [math.log(p[1] / p[0]) for p in (inside.loss_interval, outside.loss_interval)]
    assert width[1] > 2 * width[0]
