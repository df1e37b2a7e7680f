"""Step 2 of a downstream chain: fit a link (``fitting.links``) from an intermediate loss
to a metric, with bootstrap draws over whole runs (docs/laws.md §20).

The rows a link is fitted on follow its paper (:func:`link_rows`): the ladder's sigmoid
reads every checkpoint but each run's first 10%, as a trailing 5-checkpoint mean of x
and y, plus the authors' helper point; Gadre's exponential reads each run's final
checkpoint. The fit is least squares in the metric (``scipy.optimize.least_squares``,
trust-region reflective within the link's bounds, which is what the authors'
``scipy.optimize.curve_fit`` runs with bounds), from the link's starts, keeping the
lowest cost. A bootstrap draw resamples runs with replacement (every checkpoint of a
drawn run, weighted by how often it was drawn) and refits from the point estimate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.bootstrap import resample_counts
from flopwise.fitting.fit.pipeline import at_bound
from flopwise.fitting.links import LinkKind, early_mask, link_kind, trailing_mean
from flopwise.fitting.stats import interval_table

__all__ = ["LinkFit", "fit_link", "link_rows", "solve_link"]

MIN_RUNS = 3
"""Runs a link needs (its bootstrap resamples runs)."""


@dataclass(frozen=True, eq=False)
class LinkFit:
    """A fitted link: constants, draws, the x it saw and how well it fits."""

    kind: str
    constants: dict[str, float]
    success: bool
    message: str
    objective: float
    x_range: tuple[float, float]
    noise_sd: float
    noise_dof: int
    draws: np.ndarray | None = None
    at_bound: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    diagnostics: dict[str, Any] = field(default_factory=dict)


def link_rows(
    kind: LinkKind, x: np.ndarray, y: np.ndarray, run: np.ndarray, tokens: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (x, y, run) rows ``kind`` is fitted on, each run in token order."""
    ok = np.isfinite(x) & np.isfinite(y)
    order = np.lexsort((tokens[ok], np.asarray(run[ok]).astype(str)))
    x, y, run = x[ok][order], y[ok][order], np.asarray(run[ok])[order]
    if kind.rows == "final":
        last = np.r_[run[1:] != run[:-1], True]
        return x[last], y[last], run[last]
    keep = early_mask(run)
    x, y, run = x[keep], y[keep], run[keep]
    return trailing_mean(x, run), trailing_mean(y, run), run


def _residuals(kind: LinkKind, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Any:
    def fun(theta: np.ndarray) -> np.ndarray:
        with np.errstate(all="ignore"):
            r = np.asarray(kind.predict(x, kind.values(theta)), dtype=float) - y
        return np.where(np.isfinite(r), r, 1e3) * w

    return fun


def solve_link(
    kind: LinkKind,
    x: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    starts: np.ndarray,
) -> tuple[np.ndarray, float, bool]:
    """Least squares of ``kind`` through (x, y) (plus its helper point) from each start:
    (best theta, its summed squared residuals, whether it converged)."""
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if kind.helper is not None:
        x, y, w = np.r_[x, kind.helper[0]], np.r_[y, kind.helper[1]], np.r_[w, 1.0]
    fun = _residuals(kind, x, y, np.sqrt(w))
    best: tuple[np.ndarray, float, bool] | None = None
    for start in np.atleast_2d(starts):
        res = least_squares(fun, start, bounds=(kind.lower, kind.upper), method="trf",
                            x_scale="jac", max_nfev=2000)  # fmt: skip
        cost = float(2.0 * res.cost)
        if best is None or cost < best[1]:
            best = (res.x, cost, bool(res.success))
    assert best is not None
    return best


def _draws(
    kind: LinkKind, x: np.ndarray, y: np.ndarray, run: np.ndarray, theta: np.ndarray,
    n_draws: int, seed: int,
) -> np.ndarray:  # fmt: skip
    """Refits on run-level resamples, from ``theta``; finite draws only."""
    weights = resample_counts(run, n_draws, np.random.default_rng(seed))
    rows = [solve_link(kind, x, y, weights=w, starts=theta)[0] for w in weights]
    draws = np.array(rows, dtype=float).reshape(len(rows), len(kind.constants))
    return draws[np.all(np.isfinite(draws), axis=1)]


def _warnings(kind: LinkKind, k: dict[str, float], bound: tuple[str, ...]) -> list[str]:
    """What to be wary of; the ladder's ceiling ``b`` at 1 is its helper point's doing."""
    expected = {"b"} if kind.helper is not None else set()
    out = [
        f"link constant {name} is at a bound of the {kind.name} link"
        for name in bound
        if name not in expected
    ]
    if kind.name == "exponential" and k["k"] * k["gamma"] <= 0:
        out.append("the fitted error does not fall as the loss falls (k * gamma <= 0)")
    if kind.name == "sigmoid" and k["k"] == 0:
        out.append("the fitted accuracy does not depend on the loss (k = 0)")
    return out


def _residual_summary(residual: np.ndarray) -> dict[str, float]:
    return {
        "residual_rms": float(math.sqrt(np.mean(residual**2))),
        "mean_abs_error": float(np.mean(np.abs(residual))),
        "max_abs_error": float(np.max(np.abs(residual))),
    }


def fit_link(
    link: str,
    x: np.ndarray,
    y: np.ndarray,
    run: np.ndarray,
    *,
    floor: float = 0.25,
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.9,
) -> LinkFit:
    """Fit ``link`` through rows already chosen by :func:`link_rows`; ``floor`` is the
    metric's chance level (where the ladder's start puts ``a + b``)."""
    kind = link_kind(link)
    x, y, run = (np.asarray(v) for v in (x, y, run))
    n_runs = len(np.unique(run.astype(str)))
    if n_runs < MIN_RUNS or len(x) <= len(kind.constants):
        raise ArgumentError("runs", f"a {kind.name} link needs {MIN_RUNS} runs, got {n_runs}")
    theta, cost, ok = solve_link(kind, x, y, starts=kind.starts(floor))
    constants = kind.values(theta)
    residual = y - np.asarray(kind.predict(x, constants), dtype=float)
    dof = max(len(x) - len(kind.constants), 1)
    bound = at_bound(theta, (np.array(kind.lower), np.array(kind.upper)), kind.constants)
    draws = _draws(kind, x, y, run, theta, bootstrap, seed) if bootstrap and ok else None
    diagnostics: dict[str, Any] = {
        "link": kind.name,
        "source": kind.source,
        "rows": kind.rows,
        "n_rows": len(x),
        "n_runs": n_runs,
        "objective": cost,
        **_residual_summary(residual),
        "at_bound": list(bound),
    }
    if draws is not None:
        info = {"draws": len(draws), "requested": bootstrap, "seed": seed, "level": level}
        diagnostics["bootstrap"] = {
            **info,
            "intervals": interval_table(kind.constants, draws, level),
        }
    return LinkFit(
        kind=kind.name,
        constants=constants,
        success=ok,
        message="converged" if ok else "least squares did not converge",
        objective=cost,
        x_range=(float(x.min()), float(x.max())),
        noise_sd=float(math.sqrt(np.sum(residual**2) / dof)),
        noise_dof=dof,
        draws=draws if draws is not None and len(draws) > 1 else None,
        at_bound=bound,
        warnings=tuple(_warnings(kind, constants, bound)),
        diagnostics=diagnostics,
    )
