"""Fit diagnostics: how far a law can be trusted beyond its data.

* Extrapolation error: leave out the largest models (by compute), refit, predict
  them, report the error (what a user scaling up actually relies on).
* Warnings: the compute-optimal size at the data's own budgets falls outside the
  sizes that were trained, parameters sit at a bound, few distinct sizes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.allocation import frontier
from flopwise.fitting.laws import Law
from flopwise.fitting.runs import Runs

__all__ = [
    "NO_OPTIMUM",
    "bound_warnings",
    "holdout_masks",
    "loss_errors",
    "optimum_warnings",
]

HOLDOUT_FRACTION = 0.2
"""Share of distinct model sizes held out for the extrapolation check by default."""
NO_OPTIMUM = "the fitted law has no finite compute-optimal allocation"
OPTIMUM_SLACK = 1.1
"""An optimum within 10% of the trained sizes is not called an extrapolation."""


def holdout_masks(
    runs: Runs, flops: np.ndarray, holdout: int = 0
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Masks (train, test) holding out the largest models ranked by their largest compute.

    A model is a distinct parameter count. ``holdout`` models are held out (0: about
    20%, at least one); ``None`` when fewer than three sizes would remain to fit.
    """
    sizes, inverse = np.unique(runs.params, return_inverse=True)
    n_models = len(sizes)
    top = np.full(n_models, -np.inf)
    np.maximum.at(top, inverse, flops)
    count = holdout or max(1, round(HOLDOUT_FRACTION * n_models))
    if n_models - count < 3:
        return None
    held = np.argsort(top)[n_models - count :]
    test = np.isin(inverse, held)
    return ~test, test, count


def loss_errors(predicted: np.ndarray, actual: np.ndarray) -> dict[str, float]:
    """Relative errors of predicted losses: mean and max absolute, and mean signed."""
    rel = np.asarray(predicted, dtype=float) / np.asarray(actual, dtype=float) - 1.0
    return {
        "mean_abs_relative_error": float(np.mean(np.abs(rel))),
        "max_abs_relative_error": float(np.max(np.abs(rel))),
        "mean_relative_error": float(np.mean(rel)),
    }


def bound_warnings(at_bound: tuple[str, ...]) -> list[str]:
    """One warning per parameter held at a bound."""
    return [
        f"parameter {name} is at a bound of the search: the data do not pin it down"
        for name in at_bound
    ]


def optimum_warnings(law: Law) -> tuple[list[str], dict[str, Any]]:
    """Warn when the compute-optimal N at the data's smallest or largest budget lies
    outside the range of model sizes trained; also return those optima.

    When the law has no finite optimum there (an exponent fitted to zero: loss
    does not fall with N or D), the info dict is empty and the one warning says so;
    callers treat that as a failed fit.
    """
    dom = law.domain
    if dom.flops is None or dom.params is None:
        return [], {}
    try:
        with np.errstate(all="ignore"):
            path = frontier(law, np.array(dom.flops))
        finite = np.all(np.isfinite(path.params)) and np.all(path.params > 0)
    except (ValueError, ArithmeticError) as exc:
        return [f"{NO_OPTIMUM}: {exc}"], {}
    if not finite:
        return [f"{NO_OPTIMUM} (an exponent is zero or the optimum diverges)"], {}
    warnings = []
    lo, hi = dom.params
    for c, n in zip(dom.flops, path.params, strict=True):
        if not lo / OPTIMUM_SLACK <= n <= hi * OPTIMUM_SLACK:
            warnings.append(
                f"compute-optimal N at C={c:.3g} is {n:.3g}, outside the fitted sizes "
                f"[{lo:.3g}, {hi:.3g}]: the optimum is an extrapolation"
            )
    info = {
        "optimum_at_fitted_flops": {
            "flops": [float(c) for c in dom.flops],
            "params": [float(n) for n in path.params],
            "tokens": [float(d) for d in path.tokens],
        }
    }
    return warnings, info
