"""The multi-start solver behind Approach 3 (Hoffmann et al. 2022, §3.3 and App. D.2).

Minimise the summed Huber loss (delta 1e-3 by default) between ``log L`` and the
LSE prediction, from a grid of starts, with L-BFGS. All starts run together in
:func:`fitting.fit.solver.lbfgs_batch`, first in float32 and then, for the starts
that could still win, in float64 (:func:`solve_grid`); large grids (the width-depth
law's 4 million starts) are screened first by :mod:`fitting.fit.search`. The best
few results are then polished with tight tolerances (and Levenberg-Marquardt), so
the reported optimum does not depend on where a loose stopping rule halted.
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.batch import polish, solve_grid
from flopwise.fitting.fit.constraints import ParamMap
from flopwise.fitting.fit.lse import LogData, log_predict
from flopwise.fitting.fit.newton import lm_polish
from flopwise.fitting.fit.parametric import LseSpec, chinchilla_grid, default_bounds, grid_size
from flopwise.fitting.fit.report import ParametricResult
from flopwise.fitting.fit.search import staged_search
from flopwise.fitting.fit.solver import CONVERGED, BatchResult
from flopwise.fitting.runs import Runs

__all__ = ["FULL_GRID_LIMIT", "N_POLISH", "fit_lse"]

FULL_GRID_LIMIT = 50_000
"""Grids up to this size are solved start by start (all together); larger ones are screened."""

N_POLISH = 5
"""Distinct best results polished to machine precision."""


def _distinct_best(x: np.ndarray, fun: np.ndarray, count: int) -> np.ndarray:
    """Indices of up to ``count`` best finite results, skipping near-duplicates."""
    order = [i for i in np.argsort(fun) if np.isfinite(fun[i])]
    chosen: list[int] = []
    for i in order:
        if all(np.max(np.abs(x[i] - x[j])) > 1e-4 for j in chosen):
            chosen.append(int(i))
        if len(chosen) == count:
            break
    return np.array(chosen, dtype=np.int64)


def _finish(
    data: LogData,
    result: BatchResult,
    best: np.ndarray,
    delta: float,
    bounds: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, float, bool]:
    """Polish the best distinct results (tight L-BFGS, then Levenberg-Marquardt) and
    return the best theta, its objective and whether its start had converged."""
    refined = polish(data, result.x[best], delta, bounds)
    candidates = [(float(result.fun[i]), result.x[i], i) for i in best]
    for j, i in enumerate(best):
        theta, value = lm_polish(refined.x[j], data, delta, bounds)
        candidates.append((value, theta, i))
    value, theta, i = min(candidates, key=lambda c: c[0])
    converged = bool(
        result.status[i] == CONVERGED or refined.status[list(best).index(i)] == CONVERGED
    )
    return theta, value, converged


def _at_bound(
    theta: np.ndarray, bounds: tuple[np.ndarray, np.ndarray], names: tuple[str, ...]
) -> tuple[str, ...]:
    lo, hi = bounds
    tol = 1e-6 * (1.0 + np.abs(theta))
    hit = (np.abs(theta - lo) <= tol) | (np.abs(theta - hi) <= tol)
    return tuple(name for name, h in zip(names, hit, strict=True) if h)


def _free_index(data: LogData) -> np.ndarray:
    n = 2 * data.k + 1
    return np.arange(n) if data.pmap is None else data.pmap.free_index


def fit_lse(
    spec: LseSpec,
    runs: Runs,
    *,
    delta: float = 1e-3,
    grid: np.ndarray | None = None,
    search: str = "auto",
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    max_iter: int = 15000,
    weights: np.ndarray | None = None,
    seed: int = 0,
    constraints: ParamMap | None = None,
    loss: str = "huber",
) -> ParametricResult:
    """Fit ``spec``'s LSE law to ``runs`` by multi-start Huber minimisation.

    ``grid``: starts ``(S, 2k+1)`` in theta layout; default the Chinchilla grid.
    ``search``: ``full`` solves every start, ``staged`` screens a large grid first
    (see :mod:`fitting.fit.search`), ``auto`` picks by grid size.
    ``constraints``: ties and fixed values (``constraints.param_map``); the solver
    works on the free parameters. ``loss``: the objective (``objectives.OBJECTIVES``).
    """
    k = spec.k
    pmap = None if constraints is None or constraints.identity else constraints
    data = LogData(spec.log_inputs(runs), np.log(runs.loss), weights, pmap=pmap, loss=loss)
    full_bounds = default_bounds(k) if bounds is None else bounds
    bounds = (data.free(full_bounds[0])[0], data.free(full_bounds[1])[0])
    n_grid = grid_size(k) if grid is None else len(grid)
    if search not in ("auto", "full", "staged"):
        raise ArgumentError("search", f"expected auto, full or staged, got {search!r}")
    if search == "full" or (search == "auto" and n_grid <= FULL_GRID_LIMIT):
        starts = chinchilla_grid(k) if grid is None else np.asarray(grid, dtype=float)
        if pmap is not None:  # constrained: distinct starts in the free parameters
            starts = np.unique(np.clip(data.free(starts), *bounds), axis=0)
        result = solve_grid(data, starts, delta, bounds, max_iter=max_iter)
    else:
        result = staged_search(data, delta, bounds, grid=grid, rng=np.random.default_rng(seed))
    best = _distinct_best(result.x, result.fun, N_POLISH)
    if len(best) == 0:
        raise ArgumentError("runs", "the objective is not finite at any start")
    free, value, converged = _finish(data, result, best, delta, bounds)
    theta = data.full(free)[0]
    residuals = data.log_loss - log_predict(theta[None, :], data.log_x)[0]
    n_converged = int(np.sum(result.status == CONVERGED))
    message = (
        f"best of {len(result.fun)} starts: Huber objective {value:.6g} "
        f"({n_converged} starts converged)"
        if converged
        else "the best start stopped at its iteration limit without converging"
    )
    return ParametricResult(
        theta=theta,
        constants=spec.constants(theta),
        objective=value,
        success=converged and bool(np.isfinite(value)),
        message=message,
        n_starts=len(result.fun),
        n_converged=n_converged,
        at_bound=_at_bound(free, bounds, tuple(spec.theta_names[i] for i in _free_index(data))),
        residuals=residuals,
        n_runs=len(runs),
        n_evaluations=result.n_evaluations,
        n_grid=n_grid,
    )
