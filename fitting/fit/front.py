"""The one entry point, :func:`fit`: check the arguments, dispatch to a method."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from flopwise.fitting.fit.options import parse_options
from flopwise.fitting.fit.report import FitReport
from flopwise.fitting.laws import Form
from flopwise.fitting.runs import Runs

__all__ = ["METHODS", "fit"]

METHODS = ("approach1", "approach2", "approach3")
"""Hoffmann et al. 2022 §3.1 (envelope), §3.2 (isoFLOP profiles), §3.3 (parametric)."""


def _form(form: Any) -> Form:
    try:
        return Form(form)
    except ValueError:
        allowed = ", ".join(str(f) for f in Form)
        raise ValueError(f"form: expected one of {allowed}, got {form!r}") from None


def _check_scalars(delta: Any, bootstrap: Any, seed: Any, law_id: Any) -> None:
    if (
        isinstance(delta, bool)
        or not isinstance(delta, int | float)
        or not math.isfinite(delta)
        or delta <= 0
    ):
        raise ValueError(f"delta: expected a positive finite number, got {delta!r}")
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or bootstrap < 0:
        raise ValueError(f"bootstrap: expected a non-negative integer, got {bootstrap!r}")
    if bootstrap == 1:
        raise ValueError("bootstrap: one draw gives no interval; use 0 or at least 2")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    if not isinstance(law_id, str) or not law_id.strip():
        raise ValueError(f"law_id: expected a non-empty string, got {law_id!r}")


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
        ``chinchilla``, ``width-depth``, ``width-depth-alt`` or ``data-constrained``
        for Approach 3; ``power-law`` for Approaches 1 and 2.
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
    form = _form(form)
    with np.errstate(all="ignore"):  # non-finite values are checked where they matter
        return _dispatch(runs, form, method, law_id, delta, bootstrap, seed, options)


def _dispatch(
    runs: Runs,
    form: Form,
    method: str,
    law_id: str,
    delta: float,
    bootstrap: int,
    seed: int,
    options: dict[str, Any],
) -> FitReport:
    if method not in METHODS:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")
    _check_scalars(delta, bootstrap, seed, law_id)
    opts = parse_options(options)
    if method == "approach3":
        if form is Form.DATA_CONSTRAINED:
            from flopwise.fitting.fit.method_dc import fit_data_constrained

            return fit_data_constrained(
                runs,
                law_id=law_id,
                delta=float(delta),
                bootstrap=bootstrap,
                seed=seed,
                options=opts,
            )
        from flopwise.fitting.fit.method3 import fit_approach3

        return fit_approach3(
            runs,
            form,
            law_id=law_id,
            delta=float(delta),
            bootstrap=bootstrap,
            seed=seed,
            options=opts,
        )
    if form is not Form.POWER_LAW:
        raise ValueError(
            f"form: {method} fits allocation power laws; pass form='power-law', not {form}"
        )
    if method == "approach1":
        from flopwise.fitting.fit.method_pl import fit_approach1

        return fit_approach1(runs, law_id=law_id, bootstrap=bootstrap, seed=seed, options=opts)
    from flopwise.fitting.fit.method_pl import fit_approach2

    return fit_approach2(
        runs, law_id=law_id, delta=float(delta), bootstrap=bootstrap, seed=seed, options=opts
    )
