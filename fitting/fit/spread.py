"""Estimating a fit's predictive error: run-to-run noise from its residuals, growth
of the extrapolation error from leave-largest-out refits, and screening of degenerate
bootstrap draws (the values and interval mathematics are in
:mod:`fitting.uncertainty`, whose docstring gives the model)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from flopwise.fitting.uncertainty import (
    DEFAULT_GROWTH,
    PredictiveError,
    Region,
    default_spread,
    distance,
)

__all__ = [
    "EXTREME_EXPONENT",
    "EXTREME_E_FRACTION",
    "GROWTH_FLOOR",
    "Screened",
    "draw_warning",
    "estimate_spread",
    "growth_rate",
    "holdout_counts",
    "largest_out",
    "noise_dof",
    "noise_sd",
    "rows_at_bound",
    "screen_draws",
    "spread_warnings",
]

EXTREME_EXPONENT = 2.0
"""A bootstrap draw with an exponent above this is degenerate (not a power law)."""
EXTREME_E_FRACTION = 0.1
"""A bootstrap draw with E below this fraction of the fitted E is degenerate."""
GROWTH_FLOOR = 0.02
"""Least extrapolation growth (sd of log loss per decade of compute) a fit is credited
with. Refits inside the data understate how a law errs beyond it: fitted on the
smaller half of the Epoch/Chinchilla runs, the refits measure 0.005 per decade while
the larger half shows 0.02-0.035; published extrapolations of Chinchilla-form laws
land within 1-3% (Hoffmann et al. 2022; Besiroglu et al. 2024)."""
HOLDOUT_SHARES = (0.0, 0.2, 0.4)
"""Leave-largest-out refits hold out one model, about 20% and about 40% of the models."""
MIN_MODELS_LEFT = 3
MAX_DROPPED_SHARE = 0.05
"""More degenerate bootstrap draws than this share earn a warning."""
RUNS_PER_CONSTANT = 3
"""Fewer observations per free constant than this earn a warning."""


def noise_dof(n_obs: int, n_free: int) -> int:
    """Degrees of freedom of :func:`noise_sd`: n - p, at least 1."""
    return max(n_obs - n_free, 1)


def noise_sd(residuals: np.ndarray, n_free: int) -> float:
    """Residual sd of log loss with ``n_free`` fitted constants: sqrt(RSS / (n - p))."""
    r = np.asarray(residuals, dtype=float)
    return float(np.sqrt(np.sum(r**2) / noise_dof(len(r), n_free)))


def growth_rate(distance: np.ndarray, error: np.ndarray, noise: float) -> float:
    """Maximum-likelihood ``g >= 0`` for held-out errors ``error ~ Normal(0, noise^2 +
    g^2 distance^2)`` (:func:`estimate_spread` adds :data:`GROWTH_FLOOR` in quadrature).

    ``distance``: decades of extrapolation beyond the refit's data (0 inside it);
    ``error``: log-loss error of the refit's prediction. Each held-out point counts
    once, near the data or far from it; points inside the data carry no information
    about ``g``; without any point beyond it the growth is 0.
    """
    d2 = np.asarray(distance, dtype=float) ** 2
    e2 = np.asarray(error, dtype=float) ** 2
    s2 = max(float(noise) ** 2, 1e-12)
    if not np.any(d2 > 0):
        return 0.0

    def negative_log_likelihood(log_g: float) -> float:
        var = s2 + math.exp(2.0 * log_g) * d2
        return float(np.sum(np.log(var) + e2 / var))

    # the likelihood is flat below the noise: search log g from noise/100 to 10
    grid = np.linspace(math.log(max(math.sqrt(s2), 1e-6) / 100.0), math.log(10.0), 200)
    values = [negative_log_likelihood(g) for g in grid]
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    found = minimize_scalar(negative_log_likelihood, bounds=(lo, hi), method="bounded")
    g = math.exp(float(found.x))
    return 0.0 if best == 0 and g <= math.exp(grid[1]) else g


def holdout_counts(n_models: int) -> tuple[int, ...]:
    """How many of the largest models each leave-largest-out refit holds out:
    one, about 20% and about 40%, keeping at least three models to fit."""
    counts = {max(1, round(share * n_models)) for share in HOLDOUT_SHARES}
    return tuple(sorted(c for c in counts if n_models - c >= MIN_MODELS_LEFT))


def largest_out(models: np.ndarray, log10_flops: np.ndarray, count: int) -> np.ndarray:
    """Mask of the observations of the ``count`` models with the largest compute
    (a model is ranked by its largest observation; ``log10_flops`` may be any
    monotone proxy, such as log10 N + log10 D)."""
    ids, inverse = np.unique(np.asarray(models), return_inverse=True)
    top = np.full(len(ids), -np.inf)
    np.maximum.at(top, inverse, log10_flops)
    held = np.argsort(top, kind="stable")[len(ids) - count :]
    return np.isin(inverse, held)


Refit = Callable[[np.ndarray], np.ndarray | None]
"""``refit(train_mask)``: log loss predicted at every observation by a law refitted on
the masked observations, or ``None`` when the refit failed."""


def estimate_spread(
    log10_nd: np.ndarray,
    log_loss: np.ndarray,
    models: np.ndarray,
    residuals: np.ndarray,
    n_free: int,
    refit: Refit,
) -> PredictiveError:
    """Noise from the full fit's residuals, growth from leave-largest-out refits.

    ``log10_nd``: ``(n, 2)`` log10 N and log10 D of each observation; ``models``:
    the model each belongs to (held out together).
    """
    nd = np.asarray(log10_nd, dtype=float)
    noise = noise_sd(residuals, n_free)
    counts = holdout_counts(len(np.unique(np.asarray(models))))
    distances, errors = [], []
    for count in counts:
        test = largest_out(models, nd.sum(axis=1), count)
        predicted = refit(~test)
        if predicted is None:
            continue
        distances.append(distance(nd[test], Region.of(nd[~test])))
        errors.append(np.asarray(log_loss)[test] - np.asarray(predicted)[test])
    extent = Region.of(nd)
    found = replace(
        default_spread(extent.params_max, extent.tokens_max),
        noise_sd=noise,
        noise_dof=noise_dof(len(np.asarray(residuals)), n_free),
        log10_ratio_min=extent.ratio_min,
        log10_ratio_max=extent.ratio_max,
    )
    if not errors:
        return found
    growth = growth_rate(np.concatenate(distances), np.concatenate(errors), noise)
    return replace(
        found,
        growth=math.hypot(growth, GROWTH_FLOOR),
        source="fit",
        n_refits=len(errors),
        max_held_out=max(counts),
    )


def rows_at_bound(thetas: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Per row of ``thetas``: does any parameter sit at its bound (relative 1e-6)?"""
    t = np.asarray(thetas, dtype=float)
    tol = 1e-6 * (1.0 + np.abs(t))
    return np.any((np.abs(t - lower) <= tol) | (np.abs(t - upper) <= tol), axis=1)


@dataclass(frozen=True, eq=False)
class Screened:
    """Bootstrap draws after dropping the degenerate ones."""

    draws: np.ndarray
    """The kept rows."""
    n_at_bound: int
    n_extreme: int
    """Draws with an exponent above :data:`EXTREME_EXPONENT`, E below
    :data:`EXTREME_E_FRACTION` x the fitted E, or a non-finite constant (not at a bound)."""
    n_total: int

    @property
    def dropped_share(self) -> float:
        return (self.n_at_bound + self.n_extreme) / self.n_total if self.n_total else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "kept": len(self.draws),
            "dropped_at_bound": self.n_at_bound,
            "dropped_extreme": self.n_extreme,
        }


def draw_warning(screened: Screened) -> dict[str, list[str]]:
    """``{"warnings": [...]}`` when more than 5% of the draws were degenerate."""
    if screened.dropped_share <= MAX_DROPPED_SHARE:
        return {}
    return {
        "warnings": [
            f"{screened.n_at_bound + screened.n_extreme} of {screened.n_total} bootstrap draws "
            f"were degenerate ({screened.n_at_bound} at a bound, {screened.n_extreme} extreme: "
            "an exponent above 2 or E under a tenth of the fit's) and were left out of the "
            "intervals: the data barely pin the law down"
        ]
    }


def spread_warnings(n_obs: int, n_free: int, spread: PredictiveError) -> list[str]:
    """Caveats on the predictive error: few runs per constant, a check on one model."""
    out = []
    if n_obs < RUNS_PER_CONSTANT * n_free:
        out.append(
            f"{n_obs} observations for {n_free} free constants (fewer than "
            f"{RUNS_PER_CONSTANT} per constant): the fit can match the runs without "
            "predicting beyond them"
        )
    if spread.source == "default":
        out.append(
            "no leave-largest-out refit (turned off, or too few model sizes): intervals use "
            "the default "
            f"extrapolation growth ({DEFAULT_GROWTH} per decade of compute)"
        )
    elif spread.max_held_out == 1:
        out.append(
            "the leave-largest-out check held out a single model: the extrapolation "
            "part of the intervals rests on one model"
        )
    return out


def screen_draws(
    draws: np.ndarray,
    names: Sequence[str],
    fitted_e: float | None,
    at_bound: np.ndarray,
) -> Screened:
    """Drop degenerate bootstrap draws (constants ``(n, len(names))``): at a bound of
    the search, an exponent (``alpha*``, ``beta*``) above 2, or E under a tenth of
    the fit's E. Such a resample fitted a step or a constant, not a power law."""
    d = np.asarray(draws, dtype=float)
    bound = np.asarray(at_bound, dtype=bool)
    extreme = ~np.all(np.isfinite(d), axis=1)
    for j, name in enumerate(names):
        if name.startswith(("alpha", "beta")):
            extreme |= d[:, j] > EXTREME_EXPONENT
        if name == "E" and fitted_e is not None:
            extreme |= d[:, j] < EXTREME_E_FRACTION * fitted_e
    extreme &= ~bound
    keep = ~bound & ~extreme
    return Screened(d[keep], int(bound.sum()), int(extreme.sum()), len(d))
