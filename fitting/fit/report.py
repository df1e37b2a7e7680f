"""Fit results as values: what a fit found, how well, and what to be wary of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from flopwise.fitting.laws import Law

__all__ = ["FitReport", "ParametricResult"]


@dataclass(frozen=True)
class FitReport:
    """The answer of :func:`fitting.fit.fit` (see the package docstring for the contract)."""

    success: bool
    """Whether ``law`` is usable: the optimiser converged and the input made sense."""
    message: str
    """One line saying what happened (why it failed, when it did)."""
    law: Law | None
    """The fitted law (``version`` 1), or ``None`` when the fit failed."""
    method: str
    """``approach1``, ``approach2`` or ``approach3``."""
    form: str
    """The law's form (``power-law`` for approaches 1 and 2)."""
    objective: float | None
    """Final value of what was minimised (summed Huber loss; squared error for power laws)."""
    n_runs: int
    """Observations the fit used (after dropping exact duplicates)."""
    warnings: tuple[str, ...] = ()
    """Caveats a user should read: optimum outside the data, parameters at a bound, ..."""
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    """JSON-ready details: starts, convergence, extrapolation error, intervals."""


@dataclass(frozen=True, eq=False)
class ParametricResult:
    """Outcome of one Approach-3 fit (a multi-start Huber minimisation)."""

    theta: np.ndarray
    """Best parameters in LSE layout ``(a_1..a_k, c_1..c_k, e)``."""
    constants: Mapping[str, float]
    """The same as named law constants (``E``, ``A``, ``alpha``, ...)."""
    objective: float
    """Summed Huber loss at ``theta``."""
    success: bool
    """The best start converged (rather than stopping at an iteration limit)."""
    message: str
    n_starts: int
    """Starts the search began from (after any cheap screening)."""
    n_converged: int
    """Starts that met a convergence test."""
    at_bound: tuple[str, ...]
    """Names of parameters sitting at one of their bounds."""
    residuals: np.ndarray
    """``log L - log L_hat`` per observation at ``theta``."""
    n_runs: int
    """Observations fitted."""
    n_evaluations: int = 0
    """Objective evaluations summed over starts (a cost measure)."""
    n_grid: int = 0
    """Size of the start grid the search covered (screened or solved)."""
