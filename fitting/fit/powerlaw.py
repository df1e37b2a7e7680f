"""Allocation power laws ``y = k C^a`` fitted in log space, and the saturating loss
frontier ``L*(C) = E + A C^-gamma`` (what Approaches 1 and 2 return)."""

from __future__ import annotations

import numpy as np

from flopwise.fitting.fit.batch import polish, solve
from flopwise.fitting.fit.lse import LogData
from flopwise.fitting.fit.parametric import chinchilla_grid, default_bounds

__all__ = ["fit_loss_frontier", "fit_power_law"]


def fit_power_law(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """(weighted) least squares of ``log y = log k + a log x``; returns ``(k, a)``.

    The regression Hoffmann et al. 2022 §3.1-3.2 and Porian et al. 2024
    (``power_law_fit``) use for N*(C) and D*(C).
    """
    lx, ly = np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float))
    w = np.ones_like(lx) if weights is None else np.asarray(weights, dtype=float)
    design = np.stack([np.ones_like(lx), lx], axis=1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(design, ly * np.sqrt(w), rcond=None)
    return float(np.exp(coef[0])), float(coef[1])


def fit_loss_frontier(
    flops: np.ndarray, loss: np.ndarray, delta: float = 1e-3
) -> dict[str, float] | None:
    """``L*(C) = E + A C^-gamma`` by the Approach-3 machinery with one input (Huber on
    log loss, Chinchilla-style grid); ``None`` with fewer than four points."""
    if len(flops) < 4:
        return None
    data = LogData(np.log(np.asarray(flops, dtype=float))[:, None], np.log(loss))
    starts = chinchilla_grid(1)
    starts[:, 0] *= 0.1  # loss falls with compute far more slowly than with N or D
    # centre each start's log coefficient on the data: c - gamma log C_median = c_grid
    starts[:, 1] += np.log(np.median(flops)) * starts[:, 0]
    bounds = default_bounds(1)
    bounds = (bounds[0], np.array([2.0, 400.0, bounds[1][2]]))
    first = solve(data, starts, delta, bounds)
    i = int(np.argmin(first.fun))
    best = polish(data, first.x[i], delta, bounds)
    theta = best.x[0] if best.fun[0] <= first.fun[i] else first.x[i]
    if not np.all(np.isfinite(theta)):
        return None
    return {
        "loss_E": float(np.exp(theta[2])),
        "loss_A": float(np.exp(theta[1])),
        "loss_gamma": float(theta[0]),
    }
