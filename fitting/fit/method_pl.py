"""Approaches 1 and 2 end to end: runs -> compute-optimal points -> a power-law law."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from flopwise.fitting.fit.approach1 import DEFAULT_BINS, binned_minimum, lower_hull
from flopwise.fitting.fit.approach2 import group_budgets, locate_minimum, minimum_spread
from flopwise.fitting.fit.bootstrap import interval_table
from flopwise.fitting.fit.common import build_law, c_definition_for, family_for, run_flops
from flopwise.fitting.fit.diagnostics import optimum_warnings
from flopwise.fitting.fit.intervals import default_budgets, frontier_intervals
from flopwise.fitting.fit.optima import (
    ALLOCATION_NAMES,
    Optima,
    bootstrap_optima,
    extrapolation_check,
    fit_optima,
)
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.report import FitReport
from flopwise.fitting.fit.validate import check_runs
from flopwise.fitting.laws import CDefinition, Law
from flopwise.fitting.runs import Runs

__all__ = ["envelope_optima", "fit_approach1", "fit_approach2", "isoflop_optima"]

_FORM = "power-law"


def envelope_optima(runs: Runs, flops: np.ndarray, *, envelope: str, n_bins: int) -> Optima:
    """Approach 1: the runs on the lowest-loss envelope of compute."""
    if envelope == "hull":
        index = lower_hull(flops, runs.loss)
    else:
        index = binned_minimum(flops, runs.loss, n_bins or DEFAULT_BINS)
    return Optima(flops[index], runs.params[index], runs.tokens[index], runs.loss[index])


def _floor(x: np.ndarray, loss: np.ndarray, profile: str) -> tuple[float, float]:
    where, value = locate_minimum(x, loss, profile)
    return float(where[0]), float(value[0])


def _budget_floor(
    sizes: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    profile: str,
    rng: np.random.Generator | None,
    sd_table: tuple[float, float] | None,
) -> tuple[float, float, float, float, float] | None:
    """(N*, D*, L*, sd log N*, sd log D*) of one budget, or ``None`` at an edge."""
    x_n, best = _floor(np.log(sizes), loss, profile)
    order = np.argsort(tokens)
    x_d, _ = _floor(np.log(tokens[order]), loss[order], profile)
    if not (np.isfinite(x_n) and np.isfinite(x_d)):
        return None
    if rng is not None:
        sd_n = minimum_spread(np.log(sizes), loss, profile, rng)
        sd_d = minimum_spread(np.log(tokens[order]), loss[order], profile, rng)
    else:
        sd_n, sd_d = sd_table or (1.0, 1.0)
    return float(np.exp(x_n)), float(np.exp(x_d)), best, sd_n, sd_d


def _isoflop_warnings(skipped: list[float], few: list[float]) -> tuple[str, ...]:
    warnings = tuple(
        f"isoFLOP profile at C={c:.3g} has its lowest loss at an edge (the optimum lies "
        "outside the sizes trained): budget skipped"
        for c in skipped
    )
    if few:
        warnings += (
            f"{len(few)} isoFLOP budget(s) between C={min(few):.3g} and {max(few):.3g} have "
            "fewer than three sizes: skipped (runs not on shared budgets? try grouping='binned')",
        )
    return warnings


def isoflop_optima(
    runs: Runs,
    flops: np.ndarray,
    *,
    grouping: str,
    n_bins: int,
    profile: str,
    rng: np.random.Generator | None = None,
    sd_table: tuple[float, float] | None = None,
) -> Optima:
    """Approach 2: one optimum per budget with an interior minimum.

    Per budget and size the lowest loss counts (repeats are seeds or schedules).
    With ``rng``, each budget's spread in log N* and log D* is measured under seed
    noise; otherwise ``sd_table`` (from the full-data fit) is used for every budget.
    """
    rows: list[tuple[float, ...]] = []
    skipped: list[float] = []
    few: list[float] = []
    for group in group_budgets(flops, grouping, n_bins):
        c = float(np.exp(np.mean(np.log(flops[group]))))
        sizes, inverse = np.unique(runs.params[group], return_inverse=True)
        if len(sizes) < 3:
            few.append(c)
            continue
        loss = np.full(len(sizes), np.inf)
        np.minimum.at(loss, inverse, runs.loss[group])
        tokens = np.full(len(sizes), np.inf)
        np.minimum.at(tokens, inverse, runs.tokens[group])
        floor = _budget_floor(sizes, tokens, loss, profile, rng, sd_table)
        if floor is None:
            skipped.append(c)
        else:
            rows.append((c, *floor))
    warnings = _isoflop_warnings(skipped, few)
    table = np.array(rows, dtype=float).reshape(-1, 6)
    cols = [np.ascontiguousarray(col) for col in table.T]
    return Optima(
        cols[0], cols[1], cols[2], cols[3], sd_params=cols[4], sd_tokens=cols[5], warnings=warnings
    )


def _unweighted_isoflop(runs: Runs, flops: np.ndarray, **kwargs: Any) -> Optima:
    opt = isoflop_optima(runs, flops, **kwargs)
    return Optima(opt.flops, opt.params, opt.tokens, opt.loss, warnings=opt.warnings)


@dataclass(frozen=True, eq=False)
class _Context:
    """What both power-law methods carry from the runs to the report."""

    method: str
    law_id: str
    runs: Runs
    flops: np.ndarray
    optima_fn: Any
    """``(runs, flops) -> Optima``, re-run on every bootstrap resample."""
    options: FitOptions
    rng: np.random.Generator


def _failure(ctx: _Context, opt: Optima, warnings: list[str], extra: dict[str, Any]) -> FitReport:
    message = f"{ctx.method}: only {len(opt)} compute-optimal point(s) found; need at least two"
    diagnostics = {"n_optima": len(opt), **extra, "warnings": warnings}
    return FitReport(
        False,
        message,
        None,
        ctx.method,
        _FORM,
        None,
        len(ctx.runs),
        tuple(warnings),
        diagnostics,
    )


def _bootstrap(ctx: _Context, n_draws: int) -> tuple[np.ndarray | None, dict[str, Any]]:
    o = ctx.options
    full = bootstrap_optima(
        ctx.optima_fn,
        ctx.runs,
        ctx.flops,
        n_draws=n_draws,
        rng=ctx.rng,
        workers=o.workers,
        progress=o.progress,
    )
    full = full[np.all(np.isfinite(full), axis=1)]
    intervals = interval_table(ALLOCATION_NAMES, full)
    draws = full[:, :2] if len(full) >= 2 else None
    return draws, {"draws": len(full), "requested": n_draws, "intervals": intervals}


def _law(
    ctx: _Context, constants: dict[str, float], c_def: CDefinition, draws: np.ndarray | None
) -> Law:
    return build_law(
        ctx.law_id,
        _FORM,
        constants,
        runs=ctx.runs,
        flops=ctx.flops,
        method=ctx.method,
        options=ctx.options,
        c_definition=c_def,
        draws=draws,
    )


def _report(
    ctx: _Context, opt: Optima, bootstrap: int, extra: dict[str, Any], warnings: list[str]
) -> FitReport:
    warnings = warnings + list(opt.warnings)
    if len(opt) < 2:
        return _failure(ctx, opt, warnings, extra)
    constants = fit_optima(opt)
    pred = constants["k_N"] * opt.flops ** constants["a_N"]
    objective = float(np.sum(np.log(opt.params / pred) ** 2))
    columns = ("flops", "params", "tokens", "loss")
    diagnostics: dict[str, Any] = {
        "n_optima": len(opt),
        "optima": {k: [float(v) for v in getattr(opt, k)] for k in columns},
        **extra,
    }
    if ctx.options.extrapolation:
        diagnostics["extrapolation"] = extrapolation_check(opt)
    draws = None
    if bootstrap:
        draws, diagnostics["bootstrap"] = _bootstrap(ctx, bootstrap)
    c_def = c_definition_for(_FORM, ctx.runs, ctx.options)
    law = _law(ctx, constants, c_def, draws)
    more, info = optimum_warnings(law)
    warnings += more
    diagnostics.update(info)
    if law.draws is not None:
        budgets = ctx.options.budgets or default_budgets(law)
        diagnostics["frontier_intervals"] = frontier_intervals(law, budgets)
    diagnostics["warnings"] = list(warnings)
    message = (
        f"{ctx.method}: N* = {constants['k_N']:.4g} C^{constants['a_N']:.4f} from {len(opt)} optima"
    )
    return FitReport(
        True,
        message,
        law.evolve(diagnostics=diagnostics),
        ctx.method,
        _FORM,
        objective,
        len(ctx.runs),
        tuple(warnings),
        diagnostics,
    )


def fit_approach1(
    runs: Runs, *, law_id: str, bootstrap: int, seed: int, options: FitOptions
) -> FitReport:
    """Approach 1: envelope (hull or binned minimum), then power laws."""
    runs, warnings = check_runs(runs, n_params=2)
    flops = run_flops(runs, c_definition_for(_FORM, runs, options), family_for(options))
    fn = partial(envelope_optima, envelope=options.envelope, n_bins=options.n_bins)
    opt = fn(runs, flops)
    extra = {"envelope": options.envelope}
    ctx = _Context("approach1", law_id, runs, flops, fn, options, np.random.default_rng(seed))
    return _report(ctx, opt, bootstrap, extra, warnings)


def fit_approach2(
    runs: Runs, *, law_id: str, delta: float, bootstrap: int, seed: int, options: FitOptions
) -> FitReport:
    """Approach 2: isoFLOP profiles, weighted power laws through their floors."""
    runs, warnings = check_runs(runs, n_params=2)
    flops = run_flops(runs, c_definition_for(_FORM, runs, options), family_for(options))
    rng = np.random.default_rng(seed)
    kwargs: dict[str, Any] = {
        "grouping": options.grouping,
        "n_bins": options.n_bins,
        "profile": options.profile,
    }
    extra: dict[str, Any] = {
        "grouping": options.grouping,
        "profile": options.profile,
        "weighted": options.weighted,
    }
    if options.weighted:
        # each floor's spread under seed noise weighs its budget (Porian et al.)
        opt = isoflop_optima(runs, flops, rng=rng, **kwargs)
        assert opt.sd_params is not None and opt.sd_tokens is not None
        extra["sd_log_params"] = [float(v) for v in opt.sd_params]
        table = (
            (float(np.median(opt.sd_params)), float(np.median(opt.sd_tokens))) if len(opt) else None
        )
        fn = partial(isoflop_optima, sd_table=table, **kwargs)
    else:
        fn = partial(_unweighted_isoflop, **kwargs)
        opt = _unweighted_isoflop(runs, flops, **kwargs)
    ctx = _Context("approach2", law_id, runs, flops, fn, options, rng)
    return _report(ctx, opt, bootstrap, extra, warnings)
