"""Approach 3 end to end: validate runs, fit the parametric law, diagnose, bootstrap."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.fit.approach3 import fit_lse, polish, solve
from flopwise.fitting.fit.bootstrap import interval_table, map_chunks, resample_counts
from flopwise.fitting.fit.common import build_law, c_definition_for, family_for, run_flops
from flopwise.fitting.fit.diagnostics import (
    NO_OPTIMUM,
    bound_warnings,
    holdout_masks,
    loss_errors,
    optimum_warnings,
)
from flopwise.fitting.fit.intervals import default_budgets, frontier_intervals
from flopwise.fitting.fit.lse import LogData, log_predict
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.parametric import LseSpec, default_bounds, grid_rows, grid_size, spec_for
from flopwise.fitting.fit.report import FitReport, ParametricResult
from flopwise.fitting.fit.validate import check_runs
from flopwise.fitting.laws import FORM_CONSTANTS, CDefinition, Form, Law
from flopwise.fitting.runs import Runs
from flopwise.fitting.uncertainty import (
    PredictiveError,
    draw_warning,
    estimate_spread,
    rows_at_bound,
    screen_draws,
    spread_warnings,
)

__all__ = ["fit_approach3"]

_EXTRAPOLATION_STARTS = 64
"""Grid rows added to the full-data optimum as starts of the hold-out refit."""


@dataclass(frozen=True, eq=False)
class _Problem:
    """One Approach-3 fit's fixed inputs, shared by its stages."""

    spec: LseSpec
    runs: Runs
    delta: float
    bounds: tuple[np.ndarray, np.ndarray]
    options: FitOptions
    rng: np.random.Generator


def _refit(p: _Problem, train: np.ndarray, theta_hat: np.ndarray) -> np.ndarray:
    """Theta refitted on the ``train`` observations, warm-started at the full fit."""
    spec, runs, delta, bounds = p.spec, p.runs, p.delta, p.bounds
    data = LogData(spec.log_inputs(runs)[train], np.log(runs.loss[train]))
    n_grid = grid_size(spec.k)
    index = p.rng.choice(n_grid, size=min(_EXTRAPOLATION_STARTS, n_grid), replace=False)
    starts = np.vstack([theta_hat, grid_rows(spec.k, index)])
    first = solve(data, starts, delta, bounds)
    best = first.x[int(np.argmin(first.fun))]
    refit = polish(data, best, delta, bounds)
    return refit.x[0] if refit.fun[0] <= first.fun.min() else best


def _extrapolation(p: _Problem, flops: np.ndarray, theta_hat: np.ndarray) -> dict[str, Any]:
    """Refit without the largest models (warm-started), predict their losses."""
    split = holdout_masks(p.runs, flops, p.options.holdout)
    if split is None:
        return {"skipped": "too few model sizes to hold any out"}
    train, test, n_models = split
    theta = _refit(p, train, theta_hat)
    predicted = np.exp(log_predict(theta[None, :], p.spec.log_inputs(p.runs)[test])[0])
    return {
        "held_out_models": int(n_models),
        "held_out_points": int(test.sum()),
        "held_out_min_flops": float(flops[test].min()),
        "train_max_flops": float(flops[train].max()),
        **loss_errors(predicted, p.runs.loss[test]),
        "refit_constants": p.spec.constants(theta),
    }


def _spread(p: _Problem, result: ParametricResult) -> PredictiveError:
    """Noise and extrapolation growth for predictive intervals (``fitting.uncertainty``)."""
    log_x = p.spec.log_inputs(p.runs)

    def refit(train: np.ndarray) -> np.ndarray | None:
        if not p.options.extrapolation:
            return None
        return log_predict(_refit(p, train, result.theta)[None, :], log_x)[0]

    return estimate_spread(
        np.log10(np.stack([p.runs.params, p.runs.tokens], axis=1)),
        np.log(p.runs.loss),
        p.runs.params,
        result.residuals,
        len(result.theta),
        refit,
    )


def _degenerate(spec: LseSpec, theta: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]) -> str:
    """Why the law cannot be trusted to allocate compute, or ``""``: its tokens term or
    every size term vanished (exponent or log coefficient at the lower bound), or an
    exponent ran to its upper bound (a step fitted to a few points, not a power law)."""
    k = spec.k
    tol = 1e-6 * (1.0 + np.abs(theta))  # as ``approach3._at_bound`` tests
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


def _bootstrap_chunk(
    log_x: np.ndarray,
    log_loss: np.ndarray,
    weights: np.ndarray,
    theta: np.ndarray,
    delta: float,
    bounds: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Refit each resample (a row of ``weights``) from the full-data optimum."""
    data = LogData(log_x, log_loss, weights)
    starts = np.repeat(theta[None, :], len(weights), axis=0)
    with np.errstate(all="ignore"):  # runs in a worker process: set its own state
        res = solve(data, starts, delta, bounds, ftol=1e-13, gtol=1e-9)
    return res.x, np.isfinite(res.fun)


def bootstrap_lse(p: _Problem, theta: np.ndarray, n_draws: int) -> np.ndarray:
    """``(n_draws, 2k+1)`` refits on run-level resamples (non-finite ones dropped)."""
    weights = resample_counts(p.runs.run, n_draws, p.rng)
    log_x, log_loss = p.spec.log_inputs(p.runs), np.log(p.runs.loss)
    n_chunks = min(n_draws, 8)  # fixed, so draws do not depend on the worker count
    chunks = [
        (log_x, log_loss, w, theta, p.delta, p.bounds)
        for w in np.array_split(weights, n_chunks)
        if len(w)
    ]
    parts = map_chunks(
        _bootstrap_chunk, chunks, workers=p.options.workers, progress=p.options.progress
    )
    thetas = np.concatenate([part[0] for part in parts])
    ok = np.concatenate([part[1] for part in parts])
    return thetas[ok]


def _bootstrap(
    p: _Problem, result: ParametricResult, n_draws: int, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Draws of the law's constants, degenerate ones dropped, and their summary."""
    thetas = bootstrap_lse(p, result.theta, n_draws)
    names = FORM_CONSTANTS[p.spec.form]
    screened = screen_draws(
        p.spec.draws(thetas),
        names,
        result.constants.get("E"),
        rows_at_bound(thetas, *p.bounds),
    )
    draws = screened.draws
    intervals = interval_table(names, draws, p.options.level)
    summary = {
        "draws": len(draws),
        "requested": n_draws,
        "seed": seed,
        "level": p.options.level,
        "intervals": intervals,
    }
    return draws, {**summary, "screened": screened.summary(), **draw_warning(screened)}


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


def _verdict(
    spec: LseSpec,
    result: ParametricResult,
    bounds: tuple[np.ndarray, np.ndarray],
    optimum: list[str],
) -> tuple[bool, str]:
    """A converged fit still fails when its law cannot allocate compute."""
    if not result.success:
        return False, result.message
    why = _degenerate(spec, result.theta, bounds)
    if not why and optimum and optimum[0].startswith(NO_OPTIMUM):
        why = optimum[0]
    return (False, f"the fit converged but {why}") if why else (True, result.message)


def _solve(p: _Problem, seed: int) -> ParametricResult:
    o = p.options
    return fit_lse(
        p.spec,
        p.runs,
        delta=p.delta,
        grid=o.grid,
        search=o.search,
        bounds=p.bounds,
        max_iter=o.max_iter,
        seed=seed,
    )


def _law(
    p: _Problem,
    law_id: str,
    result: ParametricResult,
    flops: np.ndarray,
    c_def: CDefinition,
    draws: np.ndarray | None,
) -> Law:
    return build_law(
        law_id,
        p.spec.form,
        result.constants,
        runs=p.runs,
        flops=flops,
        method="approach3",
        options=p.options,
        c_definition=c_def,
        draws=draws if draws is not None and len(draws) > 1 else None,
    )


def fit_approach3(
    runs: Runs,
    form: Form,
    *,
    law_id: str,
    delta: float,
    bootstrap: int,
    seed: int,
    options: FitOptions,
) -> FitReport:
    """Approach 3 for the LSE forms (Chinchilla, width-depth, width-depth-alt)."""
    spec = spec_for(form)
    need = tuple(c for c in spec.inputs if c in ("width", "depth"))
    runs, warnings = check_runs(runs, n_params=2 * spec.k + 1, need=need)
    bounds = options.bounds if options.bounds is not None else default_bounds(spec.k)
    p = _Problem(spec, runs, delta, bounds, options, np.random.default_rng(seed))
    result = _solve(p, seed)
    c_def = c_definition_for(form, runs, options)
    flops = run_flops(runs, c_def, family_for(options))
    warnings += bound_warnings(result.at_bound)
    diagnostics = _summary(spec, result, delta)
    if options.extrapolation:
        diagnostics["extrapolation"] = _extrapolation(p, flops, result.theta)
    draws = None
    if bootstrap and result.success:
        draws, diagnostics["bootstrap"] = _bootstrap(p, result, bootstrap, seed)
        warnings += diagnostics["bootstrap"].pop("warnings", [])
    spread = _spread(p, result)
    warnings += spread_warnings(len(runs), len(result.theta), spread)
    diagnostics["predictive_error"] = spread.to_dict()
    law = _law(p, law_id, result, flops, c_def, draws).evolve(spread=spread)
    more, info = optimum_warnings(law)
    warnings += more
    diagnostics.update(info)
    success, message = _verdict(spec, result, bounds, more)
    if success and law.draws is not None:
        budgets = options.budgets or default_budgets(law)
        diagnostics["frontier_intervals"] = frontier_intervals(law, budgets, options.level)
    diagnostics["warnings"] = list(warnings)
    law_out = law.evolve(diagnostics=diagnostics) if success else None
    return FitReport(
        success,
        message,
        law_out,
        "approach3",
        str(form),
        result.objective,
        len(runs),
        tuple(warnings),
        diagnostics,
    )
