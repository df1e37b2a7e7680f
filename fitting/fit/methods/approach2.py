"""Approach 2 (Hoffmann et al. 2022 §3.2): one optimum per isoFLOP profile (the floor of
loss against log N within a budget, ``fit.isoflop``), optionally weighted by each
floor's spread under seed noise (Porian et al. 2024)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from flopwise.fitting.fit.isoflop import group_budgets, locate_minimum, minimum_spread
from flopwise.fitting.fit.methods.power_law import PowerLawMethod
from flopwise.fitting.fit.optima import Optima
from flopwise.fitting.fit.pipeline import Context
from flopwise.fitting.runs import Runs

__all__ = ["Approach2", "isoflop_optima"]


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


class Approach2(PowerLawMethod):
    """isoFLOP floors, then (optionally weighted) power laws."""

    name = "approach2"

    def find(self, ctx: Context) -> tuple[Optima, Callable[[Any, np.ndarray], Optima]]:
        o = ctx.options
        kwargs: dict[str, Any] = {"grouping": o.grouping, "n_bins": o.n_bins, "profile": o.profile}
        self.extra = {"grouping": o.grouping, "profile": o.profile, "weighted": o.weighted}
        if not o.weighted:
            return _unweighted_isoflop(ctx.runs, ctx.flops, **kwargs), partial(
                _unweighted_isoflop, **kwargs
            )
        # each floor's spread under seed noise weighs its budget (Porian et al.)
        opt = isoflop_optima(ctx.runs, ctx.flops, rng=ctx.rng, **kwargs)
        assert opt.sd_params is not None and opt.sd_tokens is not None
        self.extra["sd_log_params"] = [float(v) for v in opt.sd_params]
        table = (
            (float(np.median(opt.sd_params)), float(np.median(opt.sd_tokens))) if len(opt) else None
        )
        return opt, partial(isoflop_optima, sd_table=table, **kwargs)
