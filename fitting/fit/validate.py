"""Checks on runs before any fit: bad values are errors, doubtful data are warnings.

A fit must never return a silently bogus law. Non-finite or non-positive values,
too few observations, or every run at one size raise ``ValueError`` naming the
problem; exact duplicate rows are dropped with a warning (they would weigh a point
twice); few distinct sizes give a warning.
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.runs import Runs

__all__ = ["MIN_SIZES_WITHOUT_WARNING", "check_runs", "distinct_sizes"]

MIN_SIZES_WITHOUT_WARNING = 4
"""Fewer distinct model sizes than this earn a warning: exponents rest on few points."""

_COLUMNS = ("params", "tokens", "loss", "width", "depth", "flops")


def _check_column(name: str, col: np.ndarray) -> None:
    values = np.asarray(col, dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ArgumentError(
            name, f"{int(bad.sum())} value(s) are NaN or infinite (first at row {i}: {values[i]})"
        )
    bad = values <= 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ArgumentError(
            name, f"{int(bad.sum())} value(s) are zero or negative (first at row {i}: {values[i]})"
        )


def distinct_sizes(runs: Runs) -> int:
    """Number of distinct model sizes (params, or width x depth when params repeat)."""
    return len(np.unique(runs.params))


def _dedupe(runs: Runs) -> tuple[Runs, list[str]]:
    cols = [
        np.asarray(getattr(runs, c), dtype=float)
        for c in (*_COLUMNS, "lr")
        if getattr(runs, c) is not None
    ]
    table = np.stack(cols, axis=1)
    _, first = np.unique(table, axis=0, return_index=True)
    if len(first) == len(runs):
        return runs, []
    keep = np.sort(first)
    dropped = len(runs) - len(keep)
    return runs.subset(keep), [f"dropped {dropped} duplicate row(s) (identical in every column)"]


def check_runs(runs: Runs, *, n_params: int, need: tuple[str, ...] = ()) -> tuple[Runs, list[str]]:
    """Validate ``runs`` for a fit with ``n_params`` free parameters.

    ``need`` names optional columns the fit reads (``width``, ``depth``, ``flops``).
    Returns the runs with duplicates dropped and the warnings to report.
    """
    if not isinstance(runs, Runs):
        raise ArgumentError("runs", f"expected fitting.runs.Runs, got {type(runs).__name__}")
    if len(runs) == 0:
        raise ArgumentError("runs", "no observations given")
    for name in need:
        if getattr(runs, name) is None:
            raise ArgumentError(name, f"this fit needs a {name} value for every observation")
    for name in _COLUMNS:
        col = getattr(runs, name)
        if col is not None:
            _check_column(name, col)
    runs, warnings = _dedupe(runs)
    warnings += [
        f"every run has the same {name} ({col[0]:g}): the law's {name} term is not "
        f"determined by these runs, so its answers at another {name} are a guess "
        f"(sweep at least two {name} values)"
        for name in need
        if name not in ("width", "depth")
        and (col := getattr(runs, name)) is not None
        and np.ptp(col) == 0
    ]
    if np.ptp(np.log(runs.loss)) < 1e-12:
        raise ArgumentError(
            "loss", f"every observation has the same loss ({runs.loss[0]:.6g}): nothing to fit"
        )
    if len(runs) <= n_params:
        raise ArgumentError(
            "runs", f"{len(runs)} distinct observation(s) cannot determine {n_params} parameters"
        )
    sizes = distinct_sizes(runs)
    if sizes < 2:
        raise ArgumentError(
            "params",
            f"every run has the same size ({runs.params[0]:.4g}); "
            "a scaling law needs at least two model sizes",
        )
    if sizes < MIN_SIZES_WITHOUT_WARNING:
        warnings.append(
            f"only {sizes} distinct model sizes: the size exponent is poorly determined"
        )
    return runs, warnings
