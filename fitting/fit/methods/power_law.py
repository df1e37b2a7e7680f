"""What Approaches 1 and 2 share: both find compute-optimal points (N*, D*, L*) in the
runs, then fit power laws N* = k C^a through them (``fit.optima``); they differ only in
how the optima are found. Bootstrap draws re-find the optima on run-level resamples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from flopwise.fitting.fit.optima import (
    ALLOCATION_NAMES,
    Optima,
    bootstrap_optima,
    extrapolation_check,
    fit_optima,
)
from flopwise.fitting.fit.options import FitOptions
from flopwise.fitting.fit.pipeline import Context, Method, Solution
from flopwise.fitting.stats import interval_table

__all__ = ["PowerLawMethod"]


class PowerLawMethod(Method):
    """A method that fits ``power-law`` laws through optima found by ``optima``."""

    form = "power-law"

    def __init__(self) -> None:
        self.extra: dict[str, Any] = {}
        """Method settings reported in the diagnostics."""
        self._full_draws: np.ndarray | None = None

    def n_free(self, options: FitOptions) -> int:
        return 2

    def find(self, ctx: Context) -> tuple[Optima, Callable[[Any, np.ndarray], Optima]]:
        """The optima of the runs, and how to find them again on a resample."""
        raise NotImplementedError

    def solve(self, ctx: Context) -> Solution:
        opt, again = self.find(ctx)
        if len(opt) < 2:
            return Solution(
                constants=None,
                objective=None,
                success=False,
                message=(
                    f"{self.name}: only {len(opt)} compute-optimal point(s) found; need at least two"
                ),
                warnings=opt.warnings,
                diagnostics={"n_optima": len(opt), **self.extra},
            )
        constants = fit_optima(opt)
        pred = constants["k_N"] * opt.flops ** constants["a_N"]
        columns = ("flops", "params", "tokens", "loss")
        return Solution(
            constants=constants,
            objective=float(np.sum(np.log(opt.params / pred) ** 2)),
            success=True,
            message=(
                f"{self.name}: N* = {constants['k_N']:.4g} C^{constants['a_N']:.4f} "
                f"from {len(opt)} optima"
            ),
            warnings=opt.warnings,
            diagnostics={
                "n_optima": len(opt),
                "optima": {k: [float(v) for v in getattr(opt, k)] for k in columns},
                **self.extra,
            },
            state=(opt, again),
        )

    def extrapolation(self, ctx: Context, solution: Solution) -> dict[str, Any]:
        """Leave the largest budgets' optima out, refit, predict their N* and D*."""
        return extrapolation_check(solution.state[0])

    def draws(self, ctx: Context, solution: Solution, n_draws: int) -> np.ndarray:
        o = ctx.options
        full = bootstrap_optima(
            solution.state[1],
            ctx.runs,
            ctx.flops,
            n_draws=n_draws,
            rng=ctx.rng,
            workers=o.workers,
            progress=o.progress,
        )
        self._full_draws = full[np.all(np.isfinite(full), axis=1)]
        return self._full_draws[:, :2]

    def bootstrap_info(
        self, draws: np.ndarray, n_draws: int, seed: int, level: float
    ) -> dict[str, Any]:
        full = self._full_draws if self._full_draws is not None else draws
        return {
            "draws": len(full),
            "requested": n_draws,
            "level": level,
            "intervals": interval_table(ALLOCATION_NAMES, full, level),
        }
