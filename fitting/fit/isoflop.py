"""Approach 2 (Hoffmann et al. 2022, §3.2): isoFLOP profiles.

Runs are grouped by compute budget (exact values, or log-spaced bins); within a
budget, loss against log N is a valley whose floor is the compute-optimal N*. The
floor is located per profile, then ``log N*`` and ``log D*`` are regressed on
``log C``. Profile models:

* ``akima`` (default) — Porian et al. 2024 (``analysis.py`` ``interpolation``):
  Akima interpolation of log L in log N, minimum on a grid 25x finer than the runs.
* ``parabola`` — Hoffmann et al.'s parabola in log N (of log L) through the lowest
  point and its two neighbours.
* ``robust`` — a parabola fitted with the Huber loss (IRLS, delta 2e-3 in log
  loss) to up to seven points around the minimum, started from the three-point
  parabola, so one diverged run cannot drag the floor.

Measured on Porian et al.'s RefinedWeb isoFLOP points (their weighted fits: 0.4969
tuned, 0.8353 Kaplan reproduction): akima 0.4970 / 0.8348, parabola 0.4957 / 0.8750,
robust 0.5036 / 0.8833 (a parabola cannot follow these skewed profiles far from the
floor; use robust only where runs may have diverged).
Profiles whose lowest point is at an edge have no interior minimum and are skipped.
Each budget's uncertainty in log N* comes from re-locating the floor under seeded
loss noise (Porian et al.'s ``add_seed_noise``: 0.005 nats), floored at a third of
the profile's grid spacing; with ``weighted`` the regression weighs budgets by
1 / sd^2 as Porian et al. do (akima weighted: 0.4982 / 0.8357; the spreads sit
mostly at their floor, so unweighted, the default, is as close and deterministic).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.interpolate import Akima1DInterpolator

from flopwise.fitting.errors import ArgumentError

__all__ = ["PROFILES", "group_budgets", "locate_minimum", "minimum_spread"]

SEED_NOISE = 0.005
"""Loss noise (nats) for the per-budget spread, as Porian et al. use below loss e^3."""
INTERP_FACTOR = 25
"""Akima grid points per interval between runs (Porian et al.'s interp_num_multiplier)."""
MIN_SD_FACTOR = 0.33
"""Floor of a budget's sd in log N*, as a fraction of its grid spacing."""


def group_budgets(flops: np.ndarray, grouping: str, n_bins: int = 0) -> list[np.ndarray]:
    """Index arrays of observations sharing a budget: equal to 1e-6 relative
    (``exact``) or in the same log-spaced bin (``binned``, default 4 bins a decade)."""
    log_c = np.log(np.asarray(flops, dtype=float))
    if grouping == "exact":
        key = np.round(log_c / 1e-6).astype(np.int64)
    elif grouping == "binned":
        span = log_c.max() - log_c.min()
        bins = n_bins or max(1, int(np.ceil(span / np.log(10.0) * 4)))
        edges = np.linspace(log_c.min(), log_c.max(), bins + 1)
        key = np.clip(np.searchsorted(edges, log_c, side="right") - 1, 0, bins - 1)
    else:
        raise ArgumentError("grouping", f"expected exact or binned, got {grouping!r}")
    return [np.flatnonzero(key == k) for k in np.unique(key)]


def _akima(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimiser and minimum per column of ``y (n, r)``; NaN on the grid's edge."""
    grid = np.linspace(x[0], x[-1], (len(x) - 1) * INTERP_FACTOR)
    values = Akima1DInterpolator(x, y, axis=0)(grid)
    j = np.argmin(values, axis=0)
    edge = (j == 0) | (j == len(grid) - 1)
    where = np.where(edge, np.nan, grid[j])
    return where, np.where(edge, np.nan, values[j, np.arange(y.shape[1])])


def _vertex(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertex (position, value) of parabolas ``p (3, r)``; NaN if not convex."""
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(p[0] > 0, -p[1] / (2.0 * p[0]), np.nan)
    return x, p[2] - p[0] * x * x


def _parabola(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i = np.argmin(y, axis=0)
    where, value = np.full(y.shape[1], np.nan), np.full(y.shape[1], np.nan)
    for col in np.unique(i):
        if 0 < col < len(x) - 1:
            sel = i == col
            p = np.polyfit(x[col - 1 : col + 2], y[col - 1 : col + 2][:, sel], 2)
            where[sel], value[sel] = _vertex(p)
    return where, value


def _robust(
    x: np.ndarray, y: np.ndarray, delta: float = 2e-3, iters: int = 30, width: int = 7
) -> tuple[np.ndarray, np.ndarray]:
    """Huber parabola (IRLS) over up to ``width`` points around the lowest, started
    from the three-point parabola so a diverged run cannot capture the start."""
    where, value = np.full(y.shape[1], np.nan), np.full(y.shape[1], np.nan)
    for r in range(y.shape[1]):
        i = int(np.argmin(y[:, r]))
        if not 0 < i < len(x) - 1:
            continue
        lo = max(0, min(i - width // 2, len(x) - width))
        xs, ys = x[lo : lo + width], y[lo : lo + width, r]
        p = np.polyfit(x[i - 1 : i + 2], y[i - 1 : i + 2, r], 2)
        for _ in range(iters):
            res = np.abs(ys - np.polyval(p, xs))
            w = np.where(res <= delta, 1.0, delta / np.maximum(res, 1e-300))
            p = np.polyfit(xs, ys, 2, w=np.sqrt(w))
        v = _vertex(p[:, None])
        where[r], value[r] = v[0][0], v[1][0]
    return where, value


PROFILES: dict[str, Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]] = {
    "akima": _akima,
    "parabola": _parabola,
    "robust": _robust,
}


def locate_minimum(
    log_x: np.ndarray, loss: np.ndarray, profile: str
) -> tuple[np.ndarray, np.ndarray]:
    """Floors of profiles ``loss (n, r)`` over sorted distinct ``log_x (n,)``: per
    column the minimising log_x and the minimum loss, NaN where the lowest point is
    at an edge (no interior minimum)."""
    y = np.log(np.asarray(loss, dtype=float))
    y = y[:, None] if y.ndim == 1 else y
    nan = np.full(y.shape[1], np.nan)
    if len(log_x) < 3:
        return nan, nan
    i = np.argmin(y, axis=0)
    where, value = PROFILES[profile](log_x, y)
    interior = (i > 0) & (i < len(log_x) - 1)
    return np.where(interior, where, np.nan), np.exp(np.where(interior, value, np.nan))


def minimum_spread(
    log_x: np.ndarray, loss: np.ndarray, profile: str, rng: np.random.Generator, n_rep: int = 200
) -> float:
    """sd of the located floor under seeded loss noise, floored at a third of the
    profile's median spacing in ``log_x``."""
    noisy = loss[:, None] + SEED_NOISE * rng.standard_normal((len(loss), n_rep))
    found, _ = locate_minimum(log_x, np.maximum(noisy, 1e-6), profile)
    found = found[np.isfinite(found)]
    floor = MIN_SD_FACTOR * float(np.median(np.diff(log_x)))
    if found.size < n_rep // 2:
        return np.inf
    return max(float(np.std(found)) * n_rep / found.size, floor)
