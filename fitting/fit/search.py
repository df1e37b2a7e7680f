"""Searching huge start grids: screen cheaply, then solve the promising starts.

The Gemstones width-depth law has 9 parameters and the authors' grid 4,050,000
starts (5^4 x 6^4 x 5); as one scipy call per start that is days of CPU. Most of
those starts fall into a handful of basins, so a random sample of the grid is
screened by its objective alone (float32, no gradient, a few microseconds a start),
the best are solved together (``batch.solve_grid``), and ``multistart`` polishes
the best few. On Gemstones ``hot_100b+`` (delta 1e-4) this reaches a lower objective
than the authors' stored grid-search optimum in seconds (see bench/bench_fit.py).
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.fit.batch import solve_grid
from flopwise.fitting.fit.lse import LogData, objective
from flopwise.fitting.fit.parametric import grid_rows, grid_size
from flopwise.fitting.fit.solver import BatchResult

__all__ = ["N_REFINE", "N_SCREEN", "staged_search"]

N_SCREEN = 20_000
"""Grid rows whose objective is evaluated in the cheap pass."""
N_REFINE = 500
"""Best screened rows solved to convergence."""


def _screen_rows(n_grid: int, rng: np.random.Generator, n_screen: int) -> np.ndarray:
    if n_grid <= n_screen:
        return np.arange(n_grid)
    return np.sort(rng.choice(n_grid, size=n_screen, replace=False))


def staged_search(
    data: LogData,
    delta: float,
    bounds: tuple[np.ndarray, np.ndarray],
    *,
    grid: np.ndarray | None,
    rng: np.random.Generator,
    n_screen: int = N_SCREEN,
    n_refine: int = N_REFINE,
    max_iter: int = 15000,
) -> BatchResult:
    """Screen ``n_screen`` rows of ``grid`` (default: the k-term Chinchilla grid, decoded
    lazily, sampled with ``rng``) by objective, then solve the ``n_refine`` best."""
    k = data.k
    n_grid = grid_size(k) if grid is None else len(grid)
    rows = _screen_rows(n_grid, rng, n_screen)
    starts = grid_rows(k, rows) if grid is None else np.asarray(grid, dtype=float)[rows]
    starts = np.clip(data.free(starts), bounds[0], bounds[1])
    values = objective(starts, data.as_type(np.float32), delta)
    finite = np.flatnonzero(np.isfinite(values))
    best = finite[np.argsort(values[finite], kind="stable")[:n_refine]]
    return solve_grid(data, starts[best], delta, bounds, max_iter=max_iter)
