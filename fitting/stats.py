"""Statistics every other module shares: percentile intervals, Student t and normal
quantiles, and a vectorised golden-section search.

One implementation of each: the percentile interval is ``np.percentile``'s (linear
interpolation between order statistics) computed from one partial sort, because
answers carry intervals on a hot path. Numpy and the standard library only: scipy is
not imported here, so answering from a law never pays for loading it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError

__all__ = [
    "DEFAULT_LEVEL",
    "Band",
    "check_level",
    "golden_min",
    "interval",
    "interval_table",
    "intervals",
    "t_score",
    "z_score",
]

DEFAULT_LEVEL = 0.9
"""Coverage of intervals when no ``level`` is given."""

Band = tuple[float, float] | None
"""A central interval ``(low, high)``, or ``None`` where there is none."""


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


# -- percentile intervals -------------------------------------------------------------


def interval(samples: Any, level: float = 0.95) -> Band:
    """Central percentile interval of the finite ``samples``; ``None`` if fewer than two.

    The same values as ``np.percentile(samples, [50 (1 - level), 50 (1 + level)])``:

    >>> interval(np.arange(101.0), 0.5)
    (25.0, 75.0)
    """
    return intervals(np.atleast_2d(np.asarray(samples, dtype=float)), level)[0]


def intervals(rows: np.ndarray, level: float = 0.95) -> list[Band]:
    """:func:`interval` of each row of a 2-D array, with one partial sort when every
    value is finite."""
    rows = np.asarray(rows, dtype=float)
    if not np.all(np.isfinite(rows)):
        return [_interval_of(row[np.isfinite(row)], level) for row in rows]
    return _interval_of(rows, level) if rows.shape[1] >= 2 else [None] * rows.shape[0]


def interval_table(
    names: Sequence[str], draws: np.ndarray, level: float = 0.95
) -> dict[str, list[float] | None]:
    """:func:`interval` of each column of ``draws``, keyed by ``names``, as lists."""
    columns = intervals(np.asarray(draws, dtype=float).T, level)
    return {
        name: None if band is None else list(band)
        for name, band in zip(names, columns, strict=True)
    }


@functools.lru_cache(maxsize=64)
def _order_statistics(n: int, level: float) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """For ``n`` samples at ``level``: the ranks to partition on, the ranks just below and
    above each end's position, and each end's fraction between them (``np.percentile``'s
    linear interpolation)."""
    positions = np.array([(1.0 - level) / 2.0 * (n - 1), (1.0 + level) / 2.0 * (n - 1)])
    below = positions.astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    return sorted({*below.tolist(), *above.tolist()}), below, above, positions - below


def _interval_of(values: np.ndarray, level: float) -> Any:
    n = values.shape[-1]
    if n < 2:
        return None
    kth, below, above, frac = _order_statistics(n, level)
    part = np.partition(values, kth, axis=-1)
    low = part[..., below]
    ends = (low + frac * (part[..., above] - low)).tolist()
    if values.ndim == 1:
        return tuple(ends)
    return [tuple(row) for row in ends]


# -- quantiles --------------------------------------------------------------------------


def z_score(level: float) -> float:
    """Two-sided standard normal quantile: 1.645 at 0.9, 1.960 at 0.95.

    >>> round(z_score(0.95), 3)
    1.96
    """
    return NormalDist().inv_cdf(0.5 + check_level(level) / 2.0)


def t_score(level: float, dof: float) -> float:
    """Two-sided Student t quantile with ``dof`` degrees of freedom; :func:`z_score`
    when ``dof`` is infinite.

    Solved from the t distribution's CDF (:func:`t_cdf`) by Newton's method from the
    Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5), which alone is used from
    1,000 degrees of freedom on, where its error is below 1e-10; agrees with
    ``scipy.special.stdtrit`` to 1e-10 (``tests/fitting/test_stats.py``).

    >>> round(t_score(0.9, 4), 3)
    2.132
    """
    level = check_level(level)
    if not dof < math.inf:
        return z_score(level)
    if not dof > 0:
        raise ArgumentError("dof", f"must be positive, got {dof!r}")
    return _t_quantile(0.5 + level / 2.0, float(dof))


@functools.lru_cache(maxsize=4096)
def _t_quantile(p: float, dof: float) -> float:
    """The ``p`` quantile (p > 0.5) of Student's t with ``dof`` degrees of freedom."""
    z = NormalDist().inv_cdf(p)
    # Cornish-Fisher expansion (Abramowitz & Stegun 26.7.5) as the starting point
    g1 = (z**3 + z) / 4.0
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96.0
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384.0
    t = z + g1 / dof + g2 / dof**2 + g3 / dof**3
    if dof >= 1e3:  # the expansion's error, O(dof^-4), is below 1e-10 here
        return t
    if not math.isfinite(t) or t <= 0:
        t = z
    lo, hi = 0.0, math.inf
    for _ in range(100):
        f = t_cdf(t, dof) - p
        if f == 0.0:
            return t
        if f > 0:
            hi = t
        else:
            lo = t
        nxt = t - f / t_pdf(t, dof)
        if not lo <= nxt <= hi:  # Newton left the bracket: bisect (or double)
            nxt = (lo + hi) / 2.0 if hi < math.inf else 2.0 * t
        if abs(nxt - t) <= 1e-15 * abs(t):
            return nxt
        t = nxt
    return t


def t_pdf(t: float, dof: float) -> float:
    """Density of Student's t with ``dof`` degrees of freedom at ``t``."""
    log_c = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    return math.exp(log_c - (dof + 1) / 2 * math.log1p(t * t / dof))


def t_cdf(t: float, dof: float) -> float:
    """CDF of Student's t: ``1 - I_x(dof/2, 1/2) / 2`` with ``x = dof / (dof + t^2)``
    for ``t >= 0`` (Abramowitz & Stegun 26.7.1), the regularised incomplete beta by
    its continued fraction."""
    x, y = dof / (dof + t * t), t * t / (dof + t * t)
    tail = 0.5 * _betainc(dof / 2.0, 0.5, x, y)
    return 1.0 - tail if t >= 0 else tail


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularised incomplete beta ``I_x(a, b)``, ``y = 1 - x`` given exactly
    (continued fraction, modified Lentz)."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):  # the fraction converges fast on the other side
        return 1.0 - _betainc(b, a, y, x)
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    )
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 4e-16:
            break
    return math.exp(log_front) * h / a


# -- search -----------------------------------------------------------------------------


def golden_min(
    f: Callable[[np.ndarray], np.ndarray], lo: np.ndarray, hi: np.ndarray, iters: int = 90
) -> np.ndarray:
    """Vectorised golden-section search for the minimiser of unimodal ``f`` on [lo, hi].

    >>> float(golden_min(lambda x: (x - 2.0) ** 2, np.array([0.0]), np.array([5.0]))[0])
    2.0
    """
    r = (math.sqrt(5.0) - 1.0) / 2.0
    a, b = lo.astype(float).copy(), hi.astype(float).copy()
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iters):
        left = fc < fd
        b = np.where(left, d, b)
        a = np.where(left, a, c)
        c_new = b - r * (b - a)
        d_new = a + r * (b - a)
        c, d = np.where(left, c_new, d), np.where(left, c, d_new)
        fc, fd = np.where(left, f(c), fd), np.where(left, fc, f(d))
    return (a + b) / 2.0
