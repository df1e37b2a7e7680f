"""Predictive intervals: where a new run's measured loss will fall, not only the mean curve.

A law's bootstrap draws give the *curve* band: how uncertain the mean loss curve is
because its constants were estimated from finitely many runs. A new run's measured
loss also scatters about that curve (seed, data order, evaluation noise), and the
curve itself errs more the further it is pushed beyond the compute it was fitted on.
The distance ``d`` of a point from the fitted data is counted in decades: of N
beyond the largest fitted N, plus of D beyond the largest fitted D (with C = 6ND,
exactly how much more compute the point costs than the data's corner when both grow;
a larger model at the same compute is still an extrapolation), plus of tokens per
parameter outside the fitted range (:class:`Region`, :func:`distance`). In log loss::

    sd_new(d)^2 = sd_curve^2 + noise_sd^2 + (growth * d)^2

``noise_sd`` is the fit's residual scatter (degrees-of-freedom corrected); ``growth``
is measured by the fit on itself: refit without the largest models (by compute),
predict them, and take the maximum-likelihood ``growth`` for their errors under the
formula above (:func:`growth_rate`). Both are estimates, so the interval's quantile is
Student's t rather than the normal's, with Welch-Satterthwaite degrees of freedom
(:func:`new_run_error`): ``noise_sd`` rests on n - p residuals, ``growth`` on a handful
of refits (one degree of freedom each: the models one refit holds out err together,
sharing that refit's error in the law). Near the data the noise dominates and the
quantile is the normal's; far beyond it the few refits make it wider. The same idea as
a prediction interval in regression (parameter variance plus residual variance), with an
extrapolation term estimated out of sample as in the leave-largest-out checks of
Hoffmann et al. 2022 and Besiroglu et al. 2024 (docs/laws.md §3).

Everything here is a pure function of arrays: numpy and scipy only, no ``Law``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import ndtri, stdtrit

from flopwise.fitting.errors import ArgumentError

__all__ = [
    "DEFAULT_GROWTH",
    "DEFAULT_LEVEL",
    "DEFAULT_NOISE_SD",
    "EXTREME_EXPONENT",
    "EXTREME_E_FRACTION",
    "GROWTH_FLOOR",
    "PredictiveError",
    "Region",
    "Screened",
    "check_level",
    "default_spread",
    "distance",
    "draw_warning",
    "estimate_spread",
    "growth_rate",
    "holdout_counts",
    "largest_out",
    "new_run_error",
    "noise_sd",
    "predictive_band",
    "rows_at_bound",
    "screen_draws",
    "spread_warnings",
    "t_score",
    "z_score",
]

DEFAULT_LEVEL = 0.9
"""Coverage of intervals when no ``level`` is given."""
DEFAULT_NOISE_SD = 0.015
"""Log-loss scatter assumed for a law that carries no estimate of its own: the largest
of the built-in laws' estimates on their bundled data (0.007-0.015,
``fitting/builtin/spreads.json``)."""
DEFAULT_GROWTH = 0.05
"""Extrapolation error (sd of log loss) per decade of compute assumed without an
estimate: mid-range of the built-in laws' estimates (0.036-0.071)."""
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


@dataclass(frozen=True)
class PredictiveError:
    """What a law needs, besides its draws, to say where a new run's loss will fall.

    All in natural-log loss units: 0.01 is about 1% of the loss.
    """

    noise_sd: float
    """Run-to-run scatter of log loss about the mean curve."""
    growth: float
    """Extra sd of log loss per decade of compute beyond ``log10_flops_max``."""
    log10_params_max: float | None
    """Largest N the law was fitted on (log10, the law's N); ``None``: unknown."""
    log10_tokens_max: float | None
    """Largest D the law was fitted on (log10 tokens); ``None``: unknown."""
    source: str = "fit"
    """``fit`` (estimated by the fit itself), ``bundled`` (estimated once from the
    law's own published data) or ``default`` (:data:`DEFAULT_NOISE_SD`,
    :data:`DEFAULT_GROWTH`)."""
    n_refits: int = 0
    """Leave-largest-out refits behind ``growth``."""
    max_held_out: int = 0
    """Most models held out by one refit."""
    log10_ratio_min: float | None = None
    """Fewest tokens per parameter (log10 D/N) the law was fitted on; ``None``: unknown."""
    log10_ratio_max: float | None = None
    """Most tokens per parameter (log10 D/N) the law was fitted on; ``None``: unknown."""
    noise_dof: int | None = None
    """Degrees of freedom behind ``noise_sd`` (observations minus free constants);
    ``None``: taken as known."""

    @property
    def region(self) -> Region:
        """The fitted data's extent, as :func:`distance` reads it."""
        return Region(
            self.log10_params_max,
            self.log10_tokens_max,
            self.log10_ratio_min,
            self.log10_ratio_max,
        )

    def __post_init__(self) -> None:
        for name in ("noise_sd", "growth"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ArgumentError(name, f"must be a non-negative finite number, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types."""
        return {
            "noise_sd": self.noise_sd,
            "growth": self.growth,
            "log10_params_max": self.log10_params_max,
            "log10_tokens_max": self.log10_tokens_max,
            "source": self.source,
            "n_refits": self.n_refits,
            "max_held_out": self.max_held_out,
            "log10_ratio_min": self.log10_ratio_min,
            "log10_ratio_max": self.log10_ratio_max,
            "noise_dof": self.noise_dof,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PredictiveError:
        """Inverse of :meth:`to_dict`."""
        return cls(**dict(data))


def default_spread(
    log10_params_max: float | None, log10_tokens_max: float | None
) -> PredictiveError:
    """The documented fallback for a law without its own estimate."""
    return PredictiveError(
        DEFAULT_NOISE_SD, DEFAULT_GROWTH, log10_params_max, log10_tokens_max, "default"
    )


@dataclass(frozen=True)
class Region:
    """Where a law's data lie, in log10 units: the largest N, the largest D, and the
    range of tokens per parameter D/N (``None``: unknown, counts nothing)."""

    params_max: float | None
    tokens_max: float | None
    ratio_min: float | None = None
    ratio_max: float | None = None

    @classmethod
    def of(cls, log10_nd: np.ndarray) -> Region:
        """The extent of ``(n, 2)`` log10 N, log10 D points."""
        x = np.asarray(log10_nd, dtype=float)
        ratio = x[:, 1] - x[:, 0]
        top = x.max(axis=0)
        return cls(float(top[0]), float(top[1]), float(ratio.min()), float(ratio.max()))


def distance(log10_nd: np.ndarray, region: Region) -> np.ndarray:
    """Decades of extrapolation of ``(..., 2)`` log10 N, log10 D points beyond
    ``region``: decades of N beyond its largest N, plus decades of D beyond its largest
    D, plus decades of tokens per parameter outside its range. A model larger than any
    fitted, or trained on more tokens, costs more compute than the data's corner (with
    C = 6ND the first two sum to those decades of compute when both grow); a ratio
    outside the fitted ones asks the law for a regime it never saw (Chinchilla-form laws
    err most far from the compute-optimal ratio: Porian et al. 2024's larger models under 3
    tokens per parameter sit up to ~50% above a law fitted to their smaller ones,
    ``bench/bench_coverage.py``)."""
    x = np.asarray(log10_nd, dtype=float)
    ratio = x[..., 1] - x[..., 0]
    out = np.zeros(x.shape[:-1])
    for value, bound, sign in (
        (x[..., 0], region.params_max, 1.0),
        (x[..., 1], region.tokens_max, 1.0),
        (ratio, region.ratio_max, 1.0),
        (ratio, region.ratio_min, -1.0),
    ):
        if bound is not None:
            out = out + np.maximum(sign * (value - float(bound)), 0.0)
    return out


def check_level(level: Any) -> float:
    """``level`` as a float in (0, 1), else :class:`ArgumentError` naming ``level``."""
    if (
        isinstance(level, bool)
        or not isinstance(level, int | float)
        or not math.isfinite(level)
        or not 0 < level < 1
    ):
        raise ArgumentError("level", f"must be a number in (0, 1), got {level!r}")
    return float(level)


def z_score(level: float) -> float:
    """Two-sided standard normal quantile: 1.645 at 0.9, 1.960 at 0.95."""
    return float(ndtri(0.5 + check_level(level) / 2.0))


def t_score(level: float, dof: float) -> float:
    """Two-sided Student t quantile with ``dof`` degrees of freedom (2.132 at 0.9 with 4);
    :func:`z_score` when ``dof`` is infinite."""
    if not dof < math.inf:
        return z_score(level)
    if not dof > 0:
        raise ArgumentError("dof", f"must be positive, got {dof!r}")
    return float(stdtrit(dof, 0.5 + check_level(level) / 2.0))


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


def new_run_error(
    spread: PredictiveError, log10_nd: np.ndarray | Sequence[float]
) -> tuple[float, float]:
    """Log-loss sd a new run at one point adds to the curve's, ``sqrt(noise_sd^2 +
    (growth d)^2)``, and its Welch-Satterthwaite degrees of freedom: ``noise_sd`` has
    ``noise_dof``; ``growth`` has one per leave-largest-out refit behind it
    (``n_refits``: the models one refit holds out share its error in the law, so they
    are one observation of it, not several), and the documented default is taken as
    known. The degrees of freedom are infinite when both are known."""
    d = float(distance(np.asarray(log10_nd, dtype=float), spread.region))
    parts = (
        (spread.noise_sd**2, spread.noise_dof),
        ((spread.growth * d) ** 2, spread.n_refits if spread.source != "default" else None),
    )
    total = sum(v for v, _ in parts)
    spread_of_total = sum(v * v / dof for v, dof in parts if dof)
    return math.sqrt(total), total * total / spread_of_total if spread_of_total > 0 else math.inf


def predictive_band(
    loss: float,
    curve: tuple[float, float] | None,
    extra: float,
    level: float,
    dof: float = math.inf,
) -> tuple[float, float]:
    """Interval for a new run's loss: each side of the curve band (in log loss, so an
    asymmetric bootstrap band stays asymmetric) widened in quadrature by ``extra``, an
    sd with ``dof`` degrees of freedom (:func:`new_run_error`)."""
    z = t_score(level, dof)
    centre = math.log(loss)
    below = centre - math.log(curve[0]) if curve is not None else 0.0
    above = math.log(curve[1]) - centre if curve is not None else 0.0
    widen = z * extra
    lo = centre - math.hypot(max(below, 0.0), widen)
    hi = centre + math.hypot(max(above, 0.0), widen)
    return math.exp(lo), math.exp(hi)


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
