"""Running many starts to convergence at once: every start advances together through the
batched L-BFGS of :mod:`fitting.fit.solver`, in chunks that bound memory.

:func:`solve_grid` is the fast path for a grid of starts: a float32 pass to find the
basins, then float64 for the starts that could still win. :func:`polish` continues
from given points with tight tolerances. Both work in the solver's (free) parameters.
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.fit.lse import LogData, objective, objective_and_grad
from flopwise.fitting.fit.solver import CONVERGED, BatchResult, lbfgs_batch

__all__ = ["FIRST_PASS_FTOL", "REFINE_MARGIN", "polish", "solve", "solve_grid"]

_SOLVE_CHUNK = 20_000
_POLISH = {"ftol": 1e-15, "gtol": 1e-12, "max_iter": 3000}
REFINE_MARGIN = 0.05
"""Float32 results within 5% of the best objective are continued in float64."""
FIRST_PASS_FTOL = 1e-8
"""Stopping rule of the float32 pass: it only has to find the basins (its objective
is good to about 1e-10 absolute); the float64 pass and the polish finish the job."""


def solve(
    data: LogData,
    starts: np.ndarray,
    delta: float,
    bounds: tuple[np.ndarray, np.ndarray],
    **options: float,
) -> BatchResult:
    """Run every start to convergence (in chunks that bound memory)."""
    results = []
    for lo in range(0, len(starts), _SOLVE_CHUNK):
        chunk = starts[lo : lo + _SOLVE_CHUNK]
        offset = lo

        def fg(
            x: np.ndarray, rows: np.ndarray, offset: int = offset
        ) -> tuple[np.ndarray, np.ndarray]:
            return objective_and_grad(x, data, delta, rows + offset)

        results.append(lbfgs_batch(fg, chunk, lower=bounds[0], upper=bounds[1], **options))  # type: ignore[arg-type]
    return BatchResult(
        np.concatenate([r.x for r in results]),
        np.concatenate([r.fun for r in results]),
        np.concatenate([r.status for r in results]),
        np.concatenate([r.nit for r in results]),
        sum(r.n_evaluations for r in results),
    )


def solve_grid(
    data: LogData,
    starts: np.ndarray,
    delta: float,
    bounds: tuple[np.ndarray, np.ndarray],
    max_iter: int = 15000,
) -> BatchResult:
    """Every start to convergence, fast: first in float32 (exponentials cost a quarter
    as much) to ``FIRST_PASS_FTOL``, then the starts that could still be best (within
    ``REFINE_MARGIN`` of the best objective, or not converged) continue in float64 with
    scipy's tolerances. Objectives are float64."""
    first = solve(
        data.as_type(np.float32), starts, delta, bounds, max_iter=max_iter, ftol=FIRST_PASS_FTOL
    )
    fun = objective(first.x, data, delta)
    finite = np.isfinite(fun)
    best = np.min(fun[finite]) if finite.any() else np.inf
    again = (first.status != CONVERGED) | ~finite | (fun <= best * (1.0 + REFINE_MARGIN))
    second = solve(data, first.x[again], delta, bounds, max_iter=max_iter)
    x, status, nit = first.x.copy(), first.status.copy(), first.nit.copy()
    x[again], fun[again], status[again] = second.x, second.fun, second.status
    nit[again] += second.nit
    n_eval = first.n_evaluations + len(starts) + second.n_evaluations
    return BatchResult(x, fun, status, nit, n_eval)


def polish(
    data: LogData, thetas: np.ndarray, delta: float, bounds: tuple[np.ndarray, np.ndarray]
) -> BatchResult:
    """Continue from ``thetas`` with tight tolerances (stops at machine precision)."""
    return solve(data, np.atleast_2d(thetas), delta, bounds, **_POLISH)
