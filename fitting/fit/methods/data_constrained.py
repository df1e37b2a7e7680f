"""Approach 3 for the data-constrained form (Muennighoff et al. 2023): a base
Chinchilla law plus the decay constants R_N*, R_D*, fitted with the base held fixed,
as the authors do (``fit.decay``)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.bootstrap import resample_counts
from flopwise.fitting.fit.decay import DecayData, decay_grid, decay_objective
from flopwise.fitting.fit.multistart import fit_lse
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.parametric import spec_for
from flopwise.fitting.fit.pipeline import Context, Method, Solution, at_bound
from flopwise.fitting.fit.solver import CONVERGED, lbfgs_batch
from flopwise.fitting.runs import Runs

__all__ = ["DataConstrainedMethod"]

_BOUNDS = (np.log([1e-2, 1e-2]), np.log([1e4, 1e4]))
"""R* between 0.01 (data worthless after one repeat) and 1e4 (no decay seen)."""
_BASE_NAMES = ("E", "A", "B", "alpha", "beta")


def _unique(runs: Runs, options: FitOptions) -> np.ndarray:
    if options.unique_tokens is None:
        raise ArgumentError(
            "unique_tokens", "the data-constrained form needs the unique tokens of each run"
        )
    u = np.broadcast_to(np.asarray(options.unique_tokens, dtype=float), runs.tokens.shape).copy()
    if np.any(u <= 0):
        raise ArgumentError("unique_tokens", "every value must be positive")
    return u


def _base(runs: Runs, unique: np.ndarray, delta: float, options: FitOptions) -> dict[str, float]:
    if options.base is not None:
        missing = [k for k in _BASE_NAMES if k not in options.base]
        if missing:
            raise ArgumentError("base", f"missing {', '.join(missing)}")
        return {k: float(options.base[k]) for k in _BASE_NAMES}
    single = runs.tokens <= unique
    if single.sum() <= 5 or len(np.unique(runs.params[single])) < 2:
        raise ArgumentError(
            "base",
            "give base= constants, or single-epoch runs (tokens <= unique_tokens) "
            "at two or more sizes to fit them on",
        )
    fitted = fit_lse(spec_for("chinchilla"), runs.subset(single), delta=delta)
    return dict(fitted.constants)


def _solve(
    data: DecayData, delta: float, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    res = lbfgs_batch(
        lambda x, rows: decay_objective(x, data, delta, rows),
        starts,
        lower=_BOUNDS[0],
        upper=_BOUNDS[1],
        ftol=1e-13,
        gtol=1e-10,
    )
    return res.x, res.fun, res.status


def _constants(base: Mapping[str, float], theta: np.ndarray) -> dict[str, float]:
    return {**base, "R_N": float(np.exp(theta[0])), "R_D": float(np.exp(theta[1]))}


class DataConstrainedMethod(Method):
    """R_N*, R_D* (and the base law unless given) from runs with repeated data."""

    name = "approach3"
    form = "data-constrained"
    predictive = True

    def n_free(self, options: FitOptions) -> int:
        return 2

    def _data(self, ctx: Context, base: Mapping[str, float]) -> DecayData:
        runs = ctx.runs
        return DecayData(runs.params, runs.tokens, _unique(runs, ctx.options), runs.loss, base)

    def solve(self, ctx: Context) -> Solution:
        base = _base(ctx.runs, _unique(ctx.runs, ctx.options), ctx.delta, ctx.options)
        data = self._data(ctx, base)
        x, fun, status = _solve(data, ctx.delta, decay_grid())
        i = int(np.argmin(fun))
        theta, objective = x[i], float(fun[i])
        constants = _constants(base, theta)
        success = bool(status[i] == CONVERGED and np.isfinite(objective))
        bound = at_bound(theta, _BOUNDS, ("R_N", "R_D"))
        return Solution(
            constants=constants,
            objective=objective,
            success=success,
            message=(
                f"decay constants R_N*={constants['R_N']:.4g}, R_D*={constants['R_D']:.4g}"
                if success
                else "the decay fit did not converge"
            ),
            at_bound=bound,
            diagnostics={
                "delta": ctx.delta,
                "base": base,
                "n_starts": len(fun),
                "n_converged": int(np.sum(status == CONVERGED)),
                "at_bound": list(bound),
            },
            state=(data, theta),
        )

    def refit(self, ctx: Context, train: np.ndarray, solution: Solution) -> Mapping[str, float]:
        data, theta = solution.state
        xs, _, _ = _solve(data.subset(train), ctx.delta, theta[None, :])
        return _constants(data.base, xs[0])

    def draws(self, ctx: Context, solution: Solution, n_draws: int) -> np.ndarray:
        """Refit R_N*, R_D* on run-level resamples, all in one batched solve (two
        parameters: cheap enough not to need worker processes). The base law is held."""
        data, theta = solution.state
        weighted = data.subset(np.arange(len(ctx.runs)))
        weighted.weights = resample_counts(ctx.runs.run, n_draws, ctx.rng)
        xb, fb, _ = _solve(weighted, ctx.delta, np.repeat(theta[None, :], n_draws, axis=0))
        base_cols = np.tile([data.base[k] for k in _BASE_NAMES], (n_draws, 1))
        return np.concatenate([base_cols, np.exp(xb)], axis=1)[np.isfinite(fb)]
