"""Intervals on the compute-optimal path from a law's bootstrap draws."""

from __future__ import annotations

from typing import Any

import numpy as np

from flopwise.fitting.allocation import frontier
from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law
from flopwise.fitting.stats import interval

__all__ = ["default_budgets", "frontier_intervals"]


def default_budgets(law: Law) -> tuple[float, ...]:
    """The data's smallest and largest compute, and 10x beyond the largest."""
    if law.domain.flops is None:
        return ()
    lo, hi = law.domain.flops
    return (float(lo), float(hi), float(10.0 * hi))


def _interval(x: np.ndarray, level: float) -> list[float] | None:
    band = interval(x, level)
    return None if band is None else list(band)


def frontier_intervals(
    law: Law, budgets: tuple[float, ...], level: float = 0.95
) -> list[dict[str, Any]]:
    """N*(C), D*(C) and L*(C) at each budget, with percentile intervals over ``law.draws``.

    Each draw is a law of its own; draws whose optimum cannot be computed (a
    degenerate resample) are left out of the interval.
    """
    if not budgets:
        return []
    flops = np.asarray(budgets, dtype=float)
    point = frontier(law, flops)
    names = law_form(law).constants
    n_draws = 0 if law.draws is None else len(law.draws)
    samples = np.full((3, n_draws, len(flops)), np.nan)
    for i in range(n_draws):
        assert law.draws is not None
        constants = dict(law.constants)
        constants.update(zip(names, law.draws[i].tolist(), strict=True))
        try:
            with np.errstate(all="ignore"):
                path = frontier(law.evolve(constants=constants, draws=None), flops)
        except (ValueError, ArithmeticError):
            continue
        samples[0, i], samples[1, i] = path.params, path.tokens
        if path.loss is not None and law_form(law).loss_draws:
            samples[2, i] = path.loss  # a power law's draws leave its loss frontier fixed
    out = []
    for j, c in enumerate(flops):
        row: dict[str, Any] = {
            "flops": float(c),
            "params": float(point.params[j]),
            "tokens": float(point.tokens[j]),
            "loss": None if point.loss is None else float(point.loss[j]),
        }
        if n_draws:
            row["params_interval"] = _interval(samples[0, :, j], level)
            row["tokens_interval"] = _interval(samples[1, :, j], level)
            row["loss_interval"] = _interval(samples[2, :, j], level)
        out.append(row)
    return out
