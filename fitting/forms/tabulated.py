"""Published (C, N*, D*) rows, interpolated log-log (Chinchilla Table 3)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm, Optimum, tokens_for
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["Tabulated", "interpolate_log_log"]


def interpolate_log_log(table: np.ndarray, flops: np.ndarray) -> np.ndarray:
    """N*(C) interpolated log-log between rows ``(C, N*, ...)``, extended by the end
    slopes (Hoffmann et al. 2022 Table 3 lists four budgets)."""
    logs = np.log(np.asarray(table, dtype=float))
    x, xs, ys = np.log(flops), logs[:, 0], logs[:, 1]
    y = np.interp(x, xs, ys)
    lo_slope = (ys[1] - ys[0]) / (xs[1] - xs[0])
    hi_slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2])
    y = np.where(x < xs[0], ys[0] + lo_slope * (x - xs[0]), y)
    return np.exp(np.where(x > xs[-1], ys[-1] + hi_slope * (x - xs[-1]), y))


@register
class Tabulated(LawForm):
    """A table of published optima; no constants, no loss."""

    name: ClassVar[str] = "tabulated"
    methods: ClassVar[tuple[str, ...]] = ()

    def check(self, law: Law) -> None:
        if len(law.table) < 2:
            raise ArgumentError("table", f"tabulated law {law.id!r} needs at least two rows")

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        n = interpolate_log_log(np.asarray(law.table, dtype=float), flops)
        return n, tokens_for(law, flops, n), None, None
