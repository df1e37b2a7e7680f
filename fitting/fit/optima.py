"""Compute-optimal points and the power laws through them (Approaches 1 and 2).

Both envelope and isoFLOP methods reduce runs to points (C, N*, D*, L*) on the
compute-optimal path; this module fits ``N* = k_N C^a_N``, ``D* = k_D C^a_D`` and
``L* = E + A C^-gamma`` through them, checks extrapolation on the largest budgets,
and bootstraps the whole pipeline over resampled runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.bootstrap import Progress, map_chunks
from flopwise.fitting.fit.diagnostics import HOLDOUT_FRACTION
from flopwise.fitting.fit.powerlaw import fit_loss_frontier, fit_power_law
from flopwise.fitting.runs import Runs

__all__ = ["ALLOCATION_NAMES", "Optima", "bootstrap_optima", "extrapolation_check", "fit_optima"]

ALLOCATION_NAMES = ("k_N", "a_N", "k_D", "a_D")


@dataclass(frozen=True, eq=False)
class Optima:
    """Points on the compute-optimal path, one per budget (or hull vertex)."""

    flops: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray
    sd_params: np.ndarray | None = None
    """sd of log N* per point: the regression weighs points by 1 / sd^2."""
    sd_tokens: np.ndarray | None = None
    warnings: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.flops)

    def take(self, index: np.ndarray) -> Optima:
        def cut(x: np.ndarray | None) -> np.ndarray | None:
            return None if x is None else x[index]

        return Optima(
            self.flops[index],
            self.params[index],
            self.tokens[index],
            self.loss[index],
            cut(self.sd_params),
            cut(self.sd_tokens),
            self.warnings,
        )


def _weights(sd: np.ndarray | None) -> np.ndarray | None:
    return None if sd is None else 1.0 / np.square(sd)


def fit_optima(opt: Optima, *, with_loss: bool = True) -> dict[str, float]:
    """``k_N, a_N, k_D, a_D`` (and ``loss_E, loss_A, loss_gamma`` when the loss
    frontier can be fitted) through the optimum points."""
    if len(opt) < 2:
        raise ArgumentError("optima", f"{len(opt)} compute-optimal point(s); a power law needs two")
    k_n, a_n = fit_power_law(opt.flops, opt.params, _weights(opt.sd_params))
    k_d, a_d = fit_power_law(opt.flops, opt.tokens, _weights(opt.sd_tokens))
    out = {"k_N": k_n, "a_N": a_n, "k_D": k_d, "a_D": a_d}
    if with_loss:
        out.update(fit_loss_frontier(opt.flops, opt.loss) or {})
    return out


def extrapolation_check(opt: Optima) -> dict[str, Any]:
    """Refit without the largest-compute optima (about 20%), predict their N* and D*."""
    count = max(1, round(HOLDOUT_FRACTION * len(opt)))
    if len(opt) - count < 3:
        return {"skipped": "too few compute-optimal points to hold any out"}
    order = np.argsort(opt.flops, kind="stable")
    train, test = opt.take(order[:-count]), opt.take(order[-count:])
    fitted = fit_optima(train, with_loss=False)
    n_hat = fitted["k_N"] * test.flops ** fitted["a_N"]
    d_hat = fitted["k_D"] * test.flops ** fitted["a_D"]
    return {
        "held_out_points": int(count),
        "held_out_min_flops": float(test.flops.min()),
        "params_mean_abs_log10_error": float(np.mean(np.abs(np.log10(n_hat / test.params)))),
        "tokens_mean_abs_log10_error": float(np.mean(np.abs(np.log10(d_hat / test.tokens)))),
        "refit_a_N": fitted["a_N"],
    }


OptimaFn = Callable[[Runs, np.ndarray], Optima]


def _draws_chunk(
    optima_fn: OptimaFn, runs: Runs, flops: np.ndarray, picks: np.ndarray
) -> np.ndarray:
    """Refit on each resample (a row of ``picks``: indices of drawn run ids)."""
    _, inverse = np.unique(runs.run.astype(str), return_inverse=True)
    out = np.full((len(picks), len(ALLOCATION_NAMES)), np.nan)
    for i, row in enumerate(picks):
        keep = np.isin(inverse, np.unique(row))
        try:
            with np.errstate(all="ignore"):  # runs in a worker process
                fitted = fit_optima(optima_fn(runs.subset(keep), flops[keep]), with_loss=False)
        except (ValueError, ArithmeticError):
            continue
        out[i] = [fitted[name] for name in ALLOCATION_NAMES]
    return out


def bootstrap_optima(
    optima_fn: OptimaFn,
    runs: Runs,
    flops: np.ndarray,
    *,
    n_draws: int,
    rng: np.random.Generator,
    workers: int = 0,
    progress: Progress | None = None,
) -> np.ndarray:
    """``(n_draws, 4)`` refits of (k_N, a_N, k_D, a_D) on run-level resamples
    (a run drawn twice adds nothing new to an envelope or a profile, so each
    resample is the set of runs drawn); failed resamples are NaN rows."""
    n_runs = len(np.unique(runs.run.astype(str)))
    picks = rng.integers(0, n_runs, size=(n_draws, n_runs))
    n_chunks = min(n_draws, 8)
    chunks = [(optima_fn, runs, flops, p) for p in np.array_split(picks, n_chunks) if len(p)]
    parts = map_chunks(_draws_chunk, chunks, workers=workers, progress=progress)
    return np.concatenate(parts)
