"""The one fit pipeline: validate -> solve -> leave-largest-out -> bootstrap -> law -> report.

A method (Approach 1, 2, 3, data-constrained; ``fit.methods``) supplies only its solve
step as a :class:`Method`: how many free constants it fits, how it solves, how it refits
on fewer runs, and how it draws bootstrap constants. Everything else is here, once:
the at-bound warnings, bootstrapping only a fit that succeeded, screening degenerate
draws, the predictive error of a law that predicts loss (``fitting.uncertainty``:
noise from the residuals, extrapolation growth from leave-largest-out refits), the
optimum warnings, the verdict, and the frontier intervals of every law with draws,
all at the fit's ``level``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.common import build_law, c_definition_for, family_for, run_flops
from flopwise.fitting.fit.diagnostics import (
    NO_OPTIMUM,
    bound_warnings,
    holdout_masks,
    loss_errors,
    optimum_warnings,
)
from flopwise.fitting.fit.intervals import default_budgets, frontier_intervals
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.report import FitReport
from flopwise.fitting.fit.spread import (
    draw_warning,
    estimate_spread,
    screen_draws,
    spread_warnings,
)
from flopwise.fitting.fit.validate import check_runs
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict_loss
from flopwise.fitting.runs import Runs
from flopwise.fitting.stats import interval_table
from flopwise.fitting.uncertainty import PredictiveError

__all__ = ["Method", "Solution", "at_bound", "predictive_error", "run_pipeline"]


def at_bound(
    values: np.ndarray, bounds: tuple[np.ndarray, np.ndarray], names: tuple[str, ...]
) -> tuple[str, ...]:
    """Names of parameters within ``1e-6 (1 + |value|)`` of a bound: the one test every
    method uses (relative, so large log coefficients are judged fairly)."""
    lo, hi = bounds
    tol = 1e-6 * (1.0 + np.abs(values))
    hit = (np.abs(values - lo) <= tol) | (np.abs(values - hi) <= tol)
    return tuple(name for name, h in zip(names, hit, strict=True) if h)


@dataclass(frozen=True, eq=False)
class Solution:
    """What a method's solve step found."""

    constants: Mapping[str, float] | None
    """The law's constants, or ``None`` when nothing could be fitted."""
    objective: float | None
    success: bool
    message: str
    at_bound: tuple[str, ...] = ()
    degenerate: str = ""
    """Why the converged law still cannot allocate compute (``""``: it can)."""
    warnings: tuple[str, ...] = ()
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    state: Any = None
    """Method-private: what its refit and bootstrap start from (e.g. theta)."""


@dataclass(frozen=True, eq=False)
class Context:
    """One fit's fixed inputs, shared by every stage."""

    runs: Runs
    flops: np.ndarray
    delta: float
    options: FitOptions
    rng: np.random.Generator
    seed: int


class Method(ABC):
    """A fitting method: the solve step of the pipeline."""

    name: str = ""
    form: str = ""
    need: tuple[str, ...] = ()
    """Optional run columns the method reads (``width``, ``depth``)."""
    constrainable: bool = False
    """The method honours ``tie``, ``fix`` and ``objective`` (Approach 3's LSE fit)."""
    predictive: bool = False
    """The method fits a loss surface and can :meth:`refit` it: the pipeline screens its
    bootstrap draws and estimates its laws' predictive error (:func:`predictive_error`)."""

    def check_options(self, options: FitOptions) -> None:
        """Refuse constraints and objectives this method would otherwise ignore."""
        if self.constrainable:
            return
        for name in ("tie", "fix"):
            if getattr(options, name):
                raise ArgumentError(
                    name, f"{self.name} does not fit the {self.form} form with {name}"
                )
        if options.objective != "huber":
            raise ArgumentError(
                "objective", f"{self.name} fits the {self.form} form with its own objective"
            )

    @abstractmethod
    def n_free(self, options: FitOptions) -> int:
        """Free constants (the runs must outnumber them)."""

    @abstractmethod
    def solve(self, ctx: Context) -> Solution:
        """Fit the runs."""

    def refit(self, ctx: Context, train: np.ndarray, solution: Solution) -> Mapping[str, float]:
        """Constants fitted on the runs in mask ``train`` (warm-started from ``solution``);
        needed by the default :meth:`extrapolation`."""
        raise NotImplementedError

    @abstractmethod
    def draws(self, ctx: Context, solution: Solution, n_draws: int) -> np.ndarray:
        """Bootstrap draws of the constants, rows in the form's order (finite only)."""

    def extrapolation(self, ctx: Context, solution: Solution) -> dict[str, Any]:
        """Leave the largest models out, refit, predict their losses."""
        runs = ctx.runs
        split = holdout_masks(runs, ctx.flops, ctx.options.holdout)
        if split is None:
            return {"skipped": "too few model sizes to hold any out"}
        train, test, n_models = split
        constants = dict(self.refit(ctx, train, solution))
        predicted = self.predict_rows(ctx, constants, test)
        return {
            "held_out_models": int(n_models),
            "held_out_points": int(test.sum()),
            "held_out_min_flops": float(ctx.flops[test].min()),
            "train_max_flops": float(ctx.flops[train].max()),
            **loss_errors(predicted, runs.loss[test]),
            **self.held_out_extra(ctx, test, predicted),
            "refit_constants": constants,
        }

    def predict_rows(
        self, ctx: Context, constants: Mapping[str, float], mask: np.ndarray
    ) -> np.ndarray:
        """Losses the constants predict at the observations in ``mask``."""
        probe = _probe_law(self.form, dict(constants), ctx.options)
        with np.errstate(all="ignore"):
            return np.asarray(predict_loss(probe, **_inputs(ctx, mask)), dtype=float)

    def held_out_extra(
        self, ctx: Context, test: np.ndarray, predicted: np.ndarray
    ) -> dict[str, Any]:
        """More leave-largest-out figures a method reports (default: none)."""
        return {}

    def spread(self, ctx: Context, solution: Solution) -> PredictiveError | None:
        """The law's predictive error: :func:`predictive_error` for a :attr:`predictive`
        method, else none (a method reading more than N and D supplies its own)."""
        return predictive_error(self, ctx, solution) if self.predictive else None

    def draws_at_bound(self, ctx: Context, solution: Solution, draws: np.ndarray) -> np.ndarray:
        """Per draw: did its resample's fit stop at a bound of the search? (Such a draw
        fitted a step, not a power law; default: none did.)"""
        return np.zeros(len(draws), dtype=bool)

    def bootstrap_info(
        self, draws: np.ndarray, n_draws: int, seed: int, level: float
    ) -> dict[str, Any]:
        names = law_form(self.form).constants
        return {
            "draws": len(draws),
            "requested": n_draws,
            "seed": seed,
            "level": level,
            "intervals": interval_table(names, draws, level),
        }


def predictive_error(method: Method, ctx: Context, solution: Solution) -> PredictiveError:
    """Noise from the fit's log-loss residuals, extrapolation growth from refits without
    the largest models (:func:`fitting.uncertainty.estimate_spread`), for any method
    that can :meth:`Method.refit`; without ``extrapolation`` the growth is the default."""
    assert solution.constants is not None
    runs, everything = ctx.runs, np.ones(len(ctx.runs), dtype=bool)
    log_loss = np.log(runs.loss)

    def log_predict(constants: Mapping[str, float]) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.log(method.predict_rows(ctx, constants, everything))

    def refit(train: np.ndarray) -> np.ndarray | None:
        if not ctx.options.extrapolation:
            return None
        predicted = log_predict(method.refit(ctx, train, solution))
        return predicted if np.all(np.isfinite(predicted)) else None

    return estimate_spread(
        np.log10(np.stack([runs.params, runs.tokens], axis=1)),
        log_loss,
        runs.params,
        log_loss - log_predict(solution.constants),
        len(law_form(method.form).constants),
        refit,
    )


def _bootstrap(
    method: Method, ctx: Context, solution: Solution, n_draws: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Bootstrap draws (degenerate ones dropped, for a predictive method) and their
    summary for the diagnostics."""
    draws = method.draws(ctx, solution, n_draws)
    level = ctx.options.level
    if not method.predictive:
        return draws, method.bootstrap_info(draws, n_draws, ctx.seed, level)
    assert solution.constants is not None
    names = law_form(method.form).constants
    screened = screen_draws(
        draws,
        names,
        solution.constants.get("E"),
        method.draws_at_bound(ctx, solution, draws),
    )
    info = method.bootstrap_info(screened.draws, n_draws, ctx.seed, level)
    return screened.draws, {**info, "screened": screened.summary(), **draw_warning(screened)}


def _probe_law(form: str, constants: dict[str, float], options: FitOptions) -> Law:
    return Law(id="probe", form=form, constants=constants, family=family_for(options))


def _inputs(ctx: Context, mask: np.ndarray) -> dict[str, Any]:
    """Predictor inputs of the runs in ``mask`` (unique tokens too, when given)."""
    runs = ctx.runs.subset(mask)
    unique = ctx.options.unique_tokens
    if unique is not None:
        unique = np.broadcast_to(np.asarray(unique, dtype=float), ctx.runs.tokens.shape)[mask]
    return {
        "params": runs.params,
        "tokens": runs.tokens,
        "width": runs.width,
        "depth": runs.depth,
        "unique_tokens": unique,
    }


def _verdict(solution: Solution, optimum: list[str]) -> tuple[bool, str]:
    """A converged fit still fails when its law cannot allocate compute."""
    if not solution.success:
        return False, solution.message
    why = solution.degenerate
    if not why and optimum and optimum[0].startswith(NO_OPTIMUM):
        why = optimum[0]
    return (False, f"the fit converged but {why}") if why else (True, solution.message)


def run_pipeline(
    method: Method,
    runs: Runs,
    *,
    law_id: str,
    delta: float,
    bootstrap: int,
    seed: int,
    options: FitOptions,
) -> FitReport:
    """Fit ``runs`` with ``method``; see :mod:`fitting.fit` for the report's contract."""
    method.check_options(options)
    runs, warnings = check_runs(runs, n_params=method.n_free(options), need=method.need)
    c_def = c_definition_for(method.form, runs, options)
    flops = run_flops(runs, c_def, family_for(options))
    ctx = Context(runs, flops, delta, options, np.random.default_rng(seed), seed)
    solution = method.solve(ctx)
    warnings += [*solution.warnings, *bound_warnings(solution.at_bound)]
    diagnostics = dict(solution.diagnostics)
    if solution.constants is None:
        diagnostics["warnings"] = list(warnings)
        return FitReport(
            False, solution.message, None, method.name, method.form, None, len(runs),
            tuple(warnings), diagnostics,
        )  # fmt: skip
    if options.extrapolation:
        diagnostics["extrapolation"] = method.extrapolation(ctx, solution)
    draws = None
    if bootstrap and solution.success:
        draws, diagnostics["bootstrap"] = _bootstrap(method, ctx, solution, bootstrap)
        warnings += diagnostics["bootstrap"].pop("warnings", [])
    spread = method.spread(ctx, solution)
    if spread is not None:
        warnings += spread_warnings(len(runs), len(law_form(method.form).constants), spread)
        diagnostics["predictive_error"] = spread.to_dict()
    law = build_law(
        law_id,
        method.form,
        solution.constants,
        runs=runs,
        flops=flops,
        method=method.name,
        options=options,
        c_definition=c_def,
        draws=draws if draws is not None and len(draws) > 1 else None,
    ).evolve(spread=spread)
    allocates = law_form(method.form).allocates
    more, info = optimum_warnings(law) if allocates else ([], {})
    warnings += more
    diagnostics.update(info)
    success, message = _verdict(solution, more)
    if success and law.draws is not None and allocates:
        diagnostics["frontier_intervals"] = frontier_intervals(
            law, options.budgets or default_budgets(law), options.level
        )
    diagnostics["warnings"] = list(warnings)
    return FitReport(
        success,
        message,
        law.evolve(diagnostics=diagnostics) if success else None,
        method.name,
        method.form,
        solution.objective,
        len(runs),
        tuple(warnings),
        diagnostics,
    )
