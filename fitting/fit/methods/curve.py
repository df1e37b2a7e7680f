"""Approach 3 for a loss-curve form (``fitting.forms.curve``): every checkpoint of every
run is an observation, read with its LR history (``fitting.curves``), and the form's
constants minimise the summed Huber loss on log loss (delta 1e-3 by default), as Tissue
et al. 2024 and Luo et al. 2025 fit theirs. scipy's trust-region least squares with the
Huber loss minimises exactly that sum, from the form's data-placed starts
(``CurveForm.curve_starts``) with its analytic Jacobian, within its bounds.

Bootstrap draws resample whole runs (a curve's checkpoints are not independent) and
refit from the optimum; leave-largest-out refits without the largest models and
predicts every checkpoint of theirs, and their final points apart (what a forecast
is asked for); the predictive error of a curve law is estimated from these as for any
other law (``fitting.fit.spread``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from flopwise.fitting.curves import Curves, curves_of
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.bootstrap import resample_counts
from flopwise.fitting.fit.diagnostics import loss_errors
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.pipeline import Context, Method, Solution, at_bound, predictive_error
from flopwise.fitting.forms import LawForm
from flopwise.fitting.forms.curve import CurveForm
from flopwise.fitting.uncertainty import PredictiveError

__all__ = ["CurveApproach3", "last_points"]

MAX_EVALUATIONS = 3000
"""Jacobian evaluations one solve may spend."""


def last_points(run_ids: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Mask of each run's last observation (its final loss so far)."""
    ids = np.asarray(run_ids).astype(str)
    last = np.zeros(len(ids), dtype=bool)
    for name in np.unique(ids):
        rows = np.flatnonzero(ids == name)
        last[rows[np.argmax(tokens[rows])]] = True
    return last


class _Data:
    """One fit's rows: sizes, LR-history sums and log losses."""

    def __init__(self, params: np.ndarray, curves: Curves, log_loss: np.ndarray) -> None:
        self.params, self.curves, self.log_loss = params, curves, log_loss

    def rows(self, index: np.ndarray) -> _Data:
        return _Data(self.params[index], self.curves.subset(index), self.log_loss[index])


class CurveApproach3(Method):
    """Approach 3 for a form with a loss curve (``CurveForm``)."""

    name = "approach3"

    def __init__(self, form: LawForm, options: FitOptions) -> None:
        if not isinstance(form, CurveForm) or form.numeric is None:
            raise ArgumentError("form", f"the {form.name} form is no loss-curve form")
        self.law_form: CurveForm = form
        self.form = form.name
        self.spec = form.numeric
        self.bounds = self.spec.lower_upper()
        self._cache: tuple[int, _Data] | None = None

    def n_free(self, options: FitOptions) -> int:
        return len(self.spec.names)

    def _data(self, ctx: Context) -> _Data:
        if self._cache is None or self._cache[0] != id(ctx.runs):
            runs = ctx.runs
            self._cache = (id(runs), _Data(runs.params, curves_of(runs), np.log(runs.loss)))
        return self._cache[1]

    def _constants(self, theta: np.ndarray) -> dict[str, float]:
        k = self.spec.constants(np.asarray(theta, dtype=float)[None, :])
        return {name: float(v[0, 0]) for name, v in k.items()}

    def _solve(self, data: _Data, start: np.ndarray, delta: float) -> Any:
        form, lo, hi = self.law_form, *self.bounds
        span = hi - lo

        def residuals(theta: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                pred = form.curve_loss(self._constants(theta), data.params, data.curves)
                r = np.log(np.maximum(pred, 1e-12)) - data.log_loss
            return np.where(np.isfinite(r), r, 1e3)

        def jacobian(theta: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                pred = form.curve_loss(self._constants(theta), data.params, data.curves)
                jac = (
                    form.jacobian(theta, data.params, data.curves)
                    / np.maximum(pred, 1e-12)[:, None]
                )
            return np.where(np.isfinite(jac), jac, 0.0)

        x0 = np.clip(start, lo + 1e-6 * span, hi - 1e-6 * span)
        return least_squares(
            residuals, x0, jac=jacobian, bounds=(lo, hi), loss="huber", f_scale=delta,
            x_scale="jac", max_nfev=MAX_EVALUATIONS, ftol=1e-12, xtol=1e-12, gtol=1e-10,
        )  # fmt: skip

    def solve(self, ctx: Context) -> Solution:
        data = self._data(ctx)
        starts = self.law_form.curve_starts(data.params, data.curves, ctx.runs.loss)
        results = [self._solve(data, s, ctx.delta) for s in starts]
        best = min(results, key=lambda r: r.cost)
        success = bool(best.status > 0 and np.isfinite(best.cost))
        return Solution(
            constants=self._constants(best.x),
            objective=float(best.cost),
            success=success,
            message="converged" if success else "the curve fit did not converge",
            at_bound=at_bound(best.x, self.bounds, self.spec.names),
            diagnostics={
                "delta": ctx.delta,
                "n_starts": len(results),
                "n_converged": int(sum(r.status > 0 for r in results)),
                "theta": [float(v) for v in best.x],
                "theta_names": list(self.spec.names),
                "residual_rms": float(np.sqrt(np.mean(best.fun**2))),
                "runs": len(np.unique(ctx.runs.run.astype(str))),
            },
            state=best.x,
        )

    def refit(self, ctx: Context, train: np.ndarray, solution: Solution) -> Mapping[str, float]:
        data = self._data(ctx).rows(np.flatnonzero(train))
        return self._constants(self._solve(data, solution.state, ctx.delta).x)

    def predict_rows(
        self, ctx: Context, constants: Mapping[str, float], mask: np.ndarray
    ) -> np.ndarray:
        """Losses at the checkpoints in ``mask``, each with its run's LR history."""
        data = self._data(ctx).rows(np.flatnonzero(mask))
        with np.errstate(all="ignore"):
            return np.asarray(self.law_form.curve_loss(constants, data.params, data.curves))

    def held_out_extra(
        self, ctx: Context, test: np.ndarray, predicted: np.ndarray
    ) -> dict[str, Any]:
        """The held-out runs' last points apart (what a forecast is asked for)."""
        final = last_points(ctx.runs.run, ctx.runs.tokens)[test]
        return {"final": loss_errors(predicted[final], ctx.runs.loss[test][final])}

    def draws(self, ctx: Context, solution: Solution, n_draws: int) -> np.ndarray:
        """Refits on run-level resamples (observations repeated as often as their run
        was drawn), each from the optimum."""
        data = self._data(ctx)
        counts = resample_counts(ctx.runs.run, n_draws, ctx.rng).astype(np.int64)
        rows = []
        for weights in counts:
            index = np.repeat(np.arange(len(weights)), weights)
            res = self._solve(data.rows(index), solution.state, ctx.delta)
            if np.isfinite(res.cost):
                k = self._constants(res.x)
                rows.append([k[n] for n in self.law_form.constants])
        return np.asarray(rows, dtype=float).reshape(-1, len(self.law_form.constants))

    def spread(self, ctx: Context, solution: Solution) -> PredictiveError | None:
        """Noise from the residuals about the curves, growth from leave-largest-out
        refits, as for every law that predicts loss (``fit.pipeline.predictive_error``)."""
        return predictive_error(self, ctx, solution)
