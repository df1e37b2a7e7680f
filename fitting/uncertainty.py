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

Here: the value a law carries (:class:`PredictiveError`) and the interval it gives
(:func:`new_run_error`, :func:`predictive_band`), pure functions of arrays with no
``Law``; numpy only. Estimating it from a fit is the fit engine's job
(:mod:`fitting.fit.spread`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.stats import t_score

__all__ = [
    "DEFAULT_GROWTH",
    "DEFAULT_NOISE_SD",
    "PredictiveError",
    "Region",
    "default_spread",
    "distance",
    "new_run_error",
    "predictive_band",
]

DEFAULT_NOISE_SD = 0.015
"""Log-loss scatter assumed for a law that carries no estimate of its own: the largest
of the built-in laws' estimates on their bundled data (0.007-0.015,
``fitting/builtin/spreads.json``)."""
DEFAULT_GROWTH = 0.05
"""Extrapolation error (sd of log loss) per decade of compute assumed without an
estimate: mid-range of the built-in laws' estimates (0.036-0.071)."""


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
