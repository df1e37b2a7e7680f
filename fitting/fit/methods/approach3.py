"""Approach 3 (Hoffmann et al. 2022 §3.3): a parametric law fitted to every run by
multi-start summed-Huber minimisation on log loss, in the LSE layout of the form
(``forms.LseSpec``), with ties and fixed constants mapped out of the solver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from flopwise.fitting.fit.batch import polish, solve
from flopwise.fitting.fit.bootstrap import map_chunks, resample_counts
from flopwise.fitting.fit.constraints import ParamMap, param_map
from flopwise.fitting.fit.lse import LogData
from flopwise.fitting.fit.multistart import fit_lse
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.parametric import LseSpec, default_bounds, grid_rows, grid_size
from flopwise.fitting.fit.pipeline import Context, Method, Solution
from flopwise.fitting.fit.report import ParametricResult
from flopwise.fitting.fit.spread import rows_at_bound

__all__ = ["Approach3"]

_EXTRAPOLATION_STARTS = 64
"""Grid rows added to the full-data optimum as starts of the hold-out refit."""


def _degenerate(spec: LseSpec, theta: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]) -> str:
    """Why the law cannot be trusted to allocate compute, or ``""``: its tokens term or
    every size term vanished (exponent or log coefficient at the lower bound), or an
    exponent ran to its upper bound (a step fitted to a few points, not a power law)."""
    k = spec.k
    tol = 1e-6 * (1.0 + np.abs(theta))  # the pipeline's at-bound test
    low, high = theta <= bounds[0] + tol, theta >= bounds[1] - tol
    gone = [spec.inputs[j] for j in range(k) if low[j] or low[k + j]]
    sizes = [c for c in spec.inputs if c != "tokens"]
    if "tokens" in gone:
        return "the tokens term vanished: the fitted loss does not fall with training tokens"
    if sizes and all(c in gone for c in sizes):
        return "every size term vanished: the fitted loss does not fall with model size"
    steep = [j for j in range(k) if high[j]]
    if steep:
        j = steep[0]
        return (
            f"exponent {spec.exponents[j]} ran to its upper bound {bounds[1][j]:g}: not a power law"
        )
    return ""


def _summary(spec: LseSpec, result: ParametricResult, delta: float) -> dict[str, Any]:
    """The JSON-ready core of an Approach-3 fit's diagnostics."""
    rel = np.expm1(-result.residuals)
    return {
        "delta": delta,
        "n_grid": result.n_grid,
        "n_starts": result.n_starts,
        "n_converged": result.n_converged,
        "n_evaluations": result.n_evaluations,
        "at_bound": list(result.at_bound),
        "theta": [float(v) for v in result.theta],
        "theta_names": list(spec.theta_names),
        "residual_rms": float(np.sqrt(np.mean(result.residuals**2))),
        "mean_abs_relative_error": float(np.mean(np.abs(rel))),
        "max_abs_relative_error": float(np.max(np.abs(rel))),
    }


def _bootstrap_chunk(
    data: LogData, theta: np.ndarray, delta: float, bounds: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Refit each resample (a row of ``data.weights``) from the full-data optimum."""
    assert data.weights is not None
    starts = np.repeat(data.free(theta), len(data.weights), axis=0)
    with np.errstate(all="ignore"):  # runs in a worker process: set its own state
        res = solve(data, starts, delta, bounds, ftol=1e-13, gtol=1e-9)
    return data.full(res.x), np.isfinite(res.fun)


class Approach3(Method):
    """Approach 3 for a form with an LSE layout."""

    name = "approach3"
    constrainable = True
    predictive = True

    def __init__(self, form: str, spec: LseSpec, options: FitOptions) -> None:
        self.form = form
        self.spec = spec
        self.pmap: ParamMap = param_map(spec, options.tie, options.fix)
        self.need = tuple(c for c in spec.inputs if c in ("width", "depth"))
        self.bounds = options.bounds if options.bounds is not None else default_bounds(spec.k)

    def n_free(self, options: FitOptions) -> int:
        return self.pmap.n_free

    def _data(self, ctx: Context, mask: Any = slice(None), weights: Any = None) -> LogData:
        pmap = None if self.pmap.identity else self.pmap
        log_x = self.spec.log_inputs(ctx.runs)[mask]
        log_loss = np.log(ctx.runs.loss[mask])
        return LogData(log_x, log_loss, weights, pmap=pmap, loss=ctx.options.objective)

    @property
    def free_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds on the solver's free parameters."""
        lower, upper = (np.atleast_2d(self.pmap.reduce(np.atleast_2d(b)))[0] for b in self.bounds)
        return lower, upper

    def solve(self, ctx: Context) -> Solution:
        o = ctx.options
        result = fit_lse(
            self.spec,
            ctx.runs,
            delta=ctx.delta,
            grid=o.grid,
            search=o.search,
            bounds=self.bounds,
            max_iter=o.max_iter,
            seed=ctx.seed,
            constraints=self.pmap,
            loss=o.objective,
        )
        return Solution(
            constants=result.constants,
            objective=result.objective,
            success=result.success,
            message=result.message,
            at_bound=result.at_bound,
            degenerate=_degenerate(self.spec, result.theta, self.bounds),
            diagnostics=_summary(self.spec, result, ctx.delta),
            state=result.theta,
        )

    def refit(self, ctx: Context, train: np.ndarray, solution: Solution) -> Mapping[str, float]:
        """Warm-started from the full-data optimum plus a few grid rows, then polished."""
        data = self._data(ctx, train)
        n_grid = grid_size(self.spec.k)
        index = ctx.rng.choice(n_grid, size=min(_EXTRAPOLATION_STARTS, n_grid), replace=False)
        bounds = self.free_bounds
        starts = np.vstack([solution.state, grid_rows(self.spec.k, index)])
        starts = np.clip(data.free(starts), *bounds)
        first = solve(data, starts, ctx.delta, bounds)
        best = first.x[int(np.argmin(first.fun))]
        again = polish(data, best, ctx.delta, bounds)
        theta = data.full(again.x[0] if again.fun[0] <= first.fun.min() else best)[0]
        return self.spec.constants(theta)

    def draws(self, ctx: Context, solution: Solution, n_draws: int) -> np.ndarray:
        """Refits on run-level resamples from the full-data optimum (worker processes)."""
        weights = resample_counts(ctx.runs.run, n_draws, ctx.rng)
        n_chunks = min(n_draws, 8)  # fixed, so draws do not depend on the worker count
        chunks = [
            (self._data(ctx, weights=w), solution.state, ctx.delta, self.free_bounds)
            for w in np.array_split(weights, n_chunks)
            if len(w)
        ]
        o = ctx.options
        parts = map_chunks(_bootstrap_chunk, chunks, workers=o.workers, progress=o.progress)
        thetas = np.concatenate([part[0] for part in parts])
        ok = np.concatenate([part[1] for part in parts])
        return self.spec.draws(thetas[ok])

    def draws_at_bound(self, ctx: Context, solution: Solution, draws: np.ndarray) -> np.ndarray:
        """Draws whose theta (exponents, log coefficients, log E) sits at a search bound."""
        spec, k = self.spec, self.spec.k
        col = {name: draws[:, j] for j, name in enumerate(spec.names)}
        with np.errstate(all="ignore"):
            thetas = np.stack(
                [col[a] for a in spec.exponents]
                + [np.log(col[c]) for c in spec.coefficients]
                + [np.log(col["E"])],
                axis=1,
            )
        assert thetas.shape[1] == 2 * k + 1
        return rows_at_bound(thetas, *self.bounds)
