"""Approach 3 for the data-constrained form: a base Chinchilla law plus Muennighoff
et al.'s decay constants R_N*, R_D* (fitted with the base held fixed, as they do)."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.fit.approach3 import fit_lse
from flopwise.fitting.fit.bootstrap import interval_table, resample_counts
from flopwise.fitting.fit.common import build_law, c_definition_for, family_for, run_flops
from flopwise.fitting.fit.decay import DecayData, decay_grid, decay_objective, decay_predict
from flopwise.fitting.fit.diagnostics import bound_warnings, holdout_masks, loss_errors
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.parametric import LSE_SPECS
from flopwise.fitting.fit.report import FitReport
from flopwise.fitting.fit.solver import CONVERGED, lbfgs_batch
from flopwise.fitting.fit.validate import check_runs
from flopwise.fitting.laws import FORM_CONSTANTS, Form, Law
from flopwise.fitting.runs import Runs
from flopwise.fitting.uncertainty import PredictiveError, estimate_spread, spread_warnings

__all__ = ["fit_data_constrained"]

_BOUNDS = (np.log([1e-2, 1e-2]), np.log([1e4, 1e4]))
"""R* between 0.01 (data worthless after one repeat) and 1e4 (no decay seen)."""
_BASE_NAMES = ("E", "A", "B", "alpha", "beta")


def _unique(runs: Runs, options: FitOptions) -> np.ndarray:
    if options.unique_tokens is None:
        raise ValueError(
            "unique_tokens: the data-constrained form needs the unique tokens of each run"
        )
    u = np.broadcast_to(np.asarray(options.unique_tokens, dtype=float), runs.tokens.shape).copy()
    if np.any(u <= 0):
        raise ValueError("unique_tokens: every value must be positive")
    return u


def _base(runs: Runs, unique: np.ndarray, delta: float, options: FitOptions) -> dict[str, float]:
    if options.base is not None:
        missing = [k for k in _BASE_NAMES if k not in options.base]
        if missing:
            raise ValueError(f"base: missing {', '.join(missing)}")
        return {k: float(options.base[k]) for k in _BASE_NAMES}
    single = runs.tokens <= unique
    if single.sum() <= 5 or len(np.unique(runs.params[single])) < 2:
        raise ValueError(
            "base: give base= constants, or single-epoch runs (tokens <= unique_tokens) "
            "at two or more sizes to fit them on"
        )
    fitted = fit_lse(LSE_SPECS[Form.CHINCHILLA], runs.subset(single), delta=delta)
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


def _extrapolation(
    data: DecayData,
    runs: Runs,
    flops: np.ndarray,
    theta: np.ndarray,
    delta: float,
    options: FitOptions,
) -> dict[str, Any]:
    """Refit the decay constants without the largest models; predict their losses."""
    split = holdout_masks(runs, flops, options.holdout)
    if split is None:
        return {"skipped": "too few model sizes to hold any out"}
    train, test, n_models = split
    part = data.subset(train)
    xs, _, _ = _solve(part, delta, theta[None, :])
    pred = decay_predict(data.subset(test), xs[0])
    return {"held_out_models": n_models, **loss_errors(pred, runs.loss[test])}


def _spread(
    data: DecayData, runs: Runs, theta: np.ndarray, delta: float, options: FitOptions
) -> PredictiveError:
    """Noise and extrapolation growth for predictive intervals (``fitting.uncertainty``);
    the refits keep the base law, as the fit does."""
    log_loss = np.log(runs.loss)

    def refit(train: np.ndarray) -> np.ndarray | None:
        if not options.extrapolation:
            return None
        xs, _, _ = _solve(data.subset(train), delta, theta[None, :])
        return np.log(decay_predict(data, xs[0]))

    residuals = log_loss - np.log(decay_predict(data, theta))
    nd = np.log10(np.stack([runs.params, runs.tokens], axis=1))
    return estimate_spread(nd, log_loss, runs.params, residuals, 7, refit)


def _bootstrap(
    data: DecayData, runs: Runs, theta: np.ndarray, delta: float, n_draws: int, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """Refit R_N*, R_D* on run-level resamples, all in one batched solve (two
    parameters: cheap enough not to need worker processes). The base law is held."""
    weighted = data.subset(np.arange(len(runs)))
    weighted.weights = resample_counts(runs.run, n_draws, np.random.default_rng(seed))
    xb, fb, _ = _solve(weighted, delta, np.repeat(theta[None, :], n_draws, axis=0))
    base_cols = np.tile([data.base[k] for k in _BASE_NAMES], (n_draws, 1))
    draws = np.concatenate([base_cols, np.exp(xb)], axis=1)[np.isfinite(fb)]
    intervals = interval_table(FORM_CONSTANTS[Form.DATA_CONSTRAINED], draws)
    return draws, {"draws": len(draws), "requested": n_draws, "seed": seed, "intervals": intervals}


def fit_data_constrained(
    runs: Runs, *, law_id: str, delta: float, bootstrap: int, seed: int, options: FitOptions
) -> FitReport:
    """Fit R_N*, R_D* (and the base law unless given) to runs with repeated data."""
    runs, warnings = check_runs(runs, n_params=2)
    unique = _unique(runs, options)
    base = _base(runs, unique, delta, options)
    data = DecayData(runs.params, runs.tokens, unique, runs.loss, base)
    x, fun, status = _solve(data, delta, decay_grid())
    i = int(np.argmin(fun))
    theta, objective = x[i], float(fun[i])
    constants = {**base, "R_N": float(np.exp(theta[0])), "R_D": float(np.exp(theta[1]))}
    at_bound = [
        n
        for n, v, lo, hi in zip(("R_N", "R_D"), theta, *_BOUNDS, strict=True)
        if abs(v - lo) < 1e-6 or abs(v - hi) < 1e-6
    ]
    warnings += bound_warnings(tuple(at_bound))
    diagnostics: dict[str, Any] = {
        "delta": delta,
        "base": base,
        "n_starts": len(fun),
        "n_converged": int(np.sum(status == CONVERGED)),
        "at_bound": at_bound,
    }
    c_def = c_definition_for(Form.DATA_CONSTRAINED, runs, options)
    flops = run_flops(runs, c_def, family_for(options))
    if options.extrapolation:
        diagnostics["extrapolation"] = _extrapolation(data, runs, flops, theta, delta, options)
    draws = None
    if bootstrap:
        draws, diagnostics["bootstrap"] = _bootstrap(data, runs, theta, delta, bootstrap, seed)
    spread = _spread(data, runs, theta, delta, options)
    warnings += spread_warnings(len(runs), 7, spread)
    diagnostics["predictive_error"] = spread.to_dict()
    law = build_law(
        law_id,
        Form.DATA_CONSTRAINED,
        constants,
        runs=runs,
        flops=flops,
        method="approach3",
        options=options,
        c_definition=c_def,
        draws=draws,
        diagnostics={**diagnostics, "warnings": list(warnings)},
    ).evolve(spread=spread)
    success = bool(status[i] == CONVERGED and np.isfinite(objective))
    message = f"decay constants R_N*={constants['R_N']:.4g}, R_D*={constants['R_D']:.4g}"
    out: Law | None = law
    if not success:
        out, message = None, "the decay fit did not converge"
    form = str(Form.DATA_CONSTRAINED)
    diagnostics["warnings"] = list(warnings)
    return FitReport(
        success, message, out, "approach3", form, objective, len(runs), tuple(warnings), diagnostics
    )
