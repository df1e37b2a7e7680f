"""The one entry point, :func:`fit`: check the arguments, dispatch to a method."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit.methods import METHODS, method_for
from flopwise.fitting.fit.options import parse_options
from flopwise.fitting.fit.pipeline import run_pipeline
from flopwise.fitting.fit.report import FitReport
from flopwise.fitting.forms import LawForm, law_form
from flopwise.fitting.laws import Form
from flopwise.fitting.runs import Runs

__all__ = ["METHODS", "fit"]


def _check_scalars(delta: Any, bootstrap: Any, seed: Any, law_id: Any) -> None:
    if (
        isinstance(delta, bool)
        or not isinstance(delta, int | float)
        or not math.isfinite(delta)
        or delta <= 0
    ):
        raise ArgumentError("delta", f"expected a positive finite number, got {delta!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise ArgumentError("bootstrap", f"expected a non-negative integer, got {bootstrap!r}")
    if bootstrap == 1:
        raise ArgumentError("bootstrap", "one draw gives no interval; use 0 or at least 2")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ArgumentError("seed", f"expected a non-negative integer, got {seed!r}")
    if not isinstance(law_id, str) or not law_id.strip():
        raise ArgumentError("law_id", f"expected a non-empty string, got {law_id!r}")


def fit(
    runs: Runs,
    *,
    form: str | Form,
    method: str = "approach3",
    law_id: str = "fitted",
    delta: float = 1e-3,
    bootstrap: int = 0,
    seed: int = 0,
    **options: Any,
) -> FitReport:
    """Fit a scaling law to ``runs``; see :mod:`fitting.fit` for the contract.

    Parameters
    ----------
    runs : Runs
        Observations (params, tokens, loss, run ids; width/depth/flops as needed).
    form : str or Form
        A registered form's name (``fitting.forms``): ``chinchilla``, ``width-depth``,
        ``width-depth-alt``, ``overtraining`` or ``data-constrained`` for Approach 3;
        ``power-law`` for Approaches 1 and 2.
    method : str
        ``approach1`` (envelope), ``approach2`` (isoFLOP) or ``approach3`` (parametric).
    delta : float
        Huber delta on log loss (Approach 3; Approach 2's robust profile fit).
    bootstrap : int
        Resamples of whole runs for intervals (0: none).
    seed : int
        Seeds the ``np.random.Generator`` behind every random choice.
    **options
        See :class:`fitting.fit.options.FitOptions`.

    Raises
    ------
    ValueError
        Bad arguments or unusable runs (NaN, non-positive values, too few points,
        one model size), naming the problem.
    """
    law_form_ = law_form(form)
    with np.errstate(all="ignore"):  # non-finite values are checked where they matter
        return _dispatch(runs, law_form_, method, law_id, delta, bootstrap, seed, options)


def _dispatch(
    runs: Runs,
    form: LawForm,
    method: str,
    law_id: str,
    delta: float,
    bootstrap: int,
    seed: int,
    options: dict[str, Any],
) -> FitReport:
    if method not in METHODS:
        raise ArgumentError("method", f"expected one of {', '.join(METHODS)}, got {method!r}")
    _check_scalars(delta, bootstrap, seed, law_id)
    opts = parse_options(options)
    return run_pipeline(
        method_for(form, method, opts),
        runs,
        law_id=law_id,
        delta=float(delta),
        bootstrap=bootstrap,
        seed=seed,
        options=opts,
    )
