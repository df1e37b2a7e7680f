"""Approach 3 for a form with no LSE layout (``LawForm.numeric``): summed Huber loss on
log loss over the form's own loss function, minimised from a grid of starts by the
batched L-BFGS (``fit.solver``), the gradient by central differences; bootstrap draws
refit run-level resamples from the optimum. As Krajewski et al. 2024 fit their MoE law
(§5.3: Huber loss, BFGS) and Hoffmann et al. 2022 §3.3 their own.

A mixture-of-experts law also records the design its runs had, for plain answers: the
median of the form's design column (granularity, sparsity) and of N_active / N
(``active_params`` over ``params``), as optional constants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.bootstrap import resample_counts
from flopwise.fitting.fit.diagnostics import holdout_masks, loss_errors
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.pipeline import Context, Method, Solution, at_bound
from flopwise.fitting.fit.solver import CONVERGED, lbfgs_batch
from flopwise.fitting.forms import LawForm
from flopwise.fitting.forms.numeric import NumericSpec

__all__ = ["NumericApproach3"]

_STEP = 1e-6
"""Central-difference step in theta."""


class _Data:
    """One fit's inputs: log losses, the loss's input columns and optional weights."""

    def __init__(
        self, form: LawForm, spec: NumericSpec, columns: dict[str, np.ndarray], log_loss: np.ndarray
    ) -> None:
        self.form, self.spec, self.columns, self.log_loss = form, spec, columns, log_loss
        self.weights: np.ndarray | None = None

    def subset(self, mask: np.ndarray) -> _Data:
        cols = {k: v[mask] for k, v in self.columns.items()}
        return _Data(self.form, self.spec, cols, self.log_loss[mask])

    def log_predict(self, theta: np.ndarray) -> np.ndarray:
        """``(S, n)`` predicted log losses of theta rows ``(S, p)``."""
        k = self.spec.constants(theta)
        cols = self.columns
        inputs = {name: cols[name] for name in self.spec.inputs}
        with np.errstate(all="ignore"):
            loss = self.form.loss(k, params=cols["params"], tokens=cols["tokens"], **inputs)
            return np.log(np.asarray(loss, dtype=float))

    def objective(self, theta: np.ndarray, rows: np.ndarray, delta: float) -> np.ndarray:
        r = self.log_predict(theta) - self.log_loss
        a = np.abs(r)
        h = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
        if self.weights is not None:
            h = h * self.weights[rows]
        f = h.sum(axis=1)
        return np.where(np.isfinite(f), f, np.inf)

    def fun_grad(
        self, theta: np.ndarray, rows: np.ndarray, delta: float
    ) -> tuple[np.ndarray, np.ndarray]:
        f = self.objective(theta, rows, delta)
        g = np.empty_like(theta)
        for j in range(theta.shape[1]):
            up, down = theta.copy(), theta.copy()
            up[:, j] += _STEP
            down[:, j] -= _STEP
            g[:, j] = (self.objective(up, rows, delta) - self.objective(down, rows, delta)) / (
                2 * _STEP
            )
        return f, np.where(np.isfinite(g), g, 0.0)


class NumericApproach3(Method):
    """Approach 3 for a form that declares a :class:`NumericSpec`."""

    name = "approach3"

    def __init__(self, form: LawForm, options: FitOptions) -> None:
        if form.numeric is None:
            raise ArgumentError("form", f"the {form.name} form has nothing to fit numerically")
        self.law_form = form
        self.form = form.name
        self.spec = form.numeric
        self.need = self.spec.inputs
        self.bounds = self.spec.lower_upper()

    def n_free(self, options: FitOptions) -> int:
        return len(self.spec.names)

    def _data(self, ctx: Context) -> _Data:
        runs = ctx.runs
        cols = {"params": runs.params, "tokens": runs.tokens}
        cols.update({name: np.asarray(getattr(runs, name)) for name in self.spec.inputs})
        return _Data(self.law_form, self.spec, cols, np.log(runs.loss))

    def _solve(self, data: _Data, starts: np.ndarray, delta: float) -> Any:
        return lbfgs_batch(
            lambda x, rows: data.fun_grad(x, rows, delta),
            starts,
            lower=self.bounds[0],
            upper=self.bounds[1],
            max_iter=2000,
            ftol=1e-12,
            gtol=1e-8,
        )

    def _constants(self, ctx: Context, theta: np.ndarray) -> dict[str, float]:
        k = {n: float(v[0, 0]) for n, v in self.spec.constants(theta[None, :]).items()}
        runs = ctx.runs
        for name in self.spec.inputs:
            k[name] = float(np.median(getattr(runs, name)))
        if runs.active_params is not None:
            k["active_ratio"] = float(np.median(runs.active_params / runs.params))
        return k

    def solve(self, ctx: Context) -> Solution:
        data = self._data(ctx)
        res = self._solve(data, self.spec.grid(), ctx.delta)
        i = int(np.argmin(res.fun))
        theta, objective = res.x[i], float(res.fun[i])
        success = bool(np.isfinite(objective) and res.status[i] == CONVERGED)
        bound = at_bound(theta, self.bounds, self.spec.names)
        residuals = data.log_predict(theta[None, :])[0] - data.log_loss
        return Solution(
            constants=self._constants(ctx, theta),
            objective=objective,
            success=success,
            message="converged" if success else "the numeric fit did not converge",
            at_bound=bound,
            diagnostics={
                "delta": ctx.delta,
                "n_starts": len(res.fun),
                "n_converged": int(np.sum(res.status == CONVERGED)),
                "theta": [float(v) for v in theta],
                "theta_names": list(self.spec.names),
                "residual_rms": float(np.sqrt(np.mean(residuals**2))),
            },
            state=theta,
        )

    def refit(self, ctx: Context, train: np.ndarray, solution: Solution) -> Mapping[str, float]:
        data = self._data(ctx).subset(train)
        res = self._solve(data, solution.state[None, :], ctx.delta)
        return self._constants(ctx, res.x[0])

    def extrapolation(self, ctx: Context, solution: Solution) -> dict[str, Any]:
        """Leave the largest models out, refit, predict them with their own designs."""
        split = holdout_masks(ctx.runs, ctx.flops, ctx.options.holdout)
        if split is None:
            return {"skipped": "too few model sizes to hold any out"}
        train, test, n_models = split
        data = self._data(ctx)
        res = self._solve(data.subset(train), solution.state[None, :], ctx.delta)
        predicted = np.exp(data.subset(test).log_predict(res.x[:1])[0])
        return {
            "held_out_models": int(n_models),
            "held_out_points": int(test.sum()),
            **loss_errors(predicted, ctx.runs.loss[test]),
        }

    def draws(self, ctx: Context, solution: Solution, n_draws: int) -> np.ndarray:
        """Refits on run-level resamples, all in one batched solve from the optimum."""
        data = self._data(ctx)
        data.weights = resample_counts(ctx.runs.run, n_draws, ctx.rng)
        res = self._solve(data, np.repeat(solution.state[None, :], n_draws, axis=0), ctx.delta)
        k = self.spec.constants(res.x)
        names = self.law_form.constants
        rows = np.concatenate([k[n] for n in names], axis=1)
        return rows[np.isfinite(res.fun) & np.all(np.isfinite(rows), axis=1)]
