"""What the schedule-aware (loss-curve) forms share: a loss at every point of a run,
read from the run's learning-rate history (``fitting.curves``), with constants that are
power laws in the model size N (docs/laws.md §21).

A curve form predicts from a schedule (``schedule=`` when predicting, a run's ``lr``
column or ``schedule`` when fitting); it does not allocate compute: its answers are
losses of given runs, not a compute-optimal frontier. Approach 3 fits it on every
checkpoint (``fitting.fit.methods.curve``): summed Huber loss on log loss, as both
papers fit theirs, from the starts its :class:`~fitting.forms.numeric.NumericSpec`
lists, with the analytic Jacobian of :meth:`CurveForm.jacobian`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.curves import Curves, history_of
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm, Num, Optimum
from flopwise.fitting.forms.numeric import NumericSpec
from flopwise.fitting.laws import Law
from flopwise.fitting.schedules import Schedule
from flopwise.fitting.shape import ShapeConstraints

__all__ = [
    "AREA_BOUNDS",
    "POWER_LAW_IN_AREA",
    "CurveForm",
    "area_columns",
    "area_starts",
    "curve_spec",
    "curves_at",
    "row",
    "size_constants",
    "size_power",
    "term",
]

POWER_LAW_IN_AREA = ("E", "A_N", "nu", "A", "a", "alpha")
"""The constants both curve forms open with: ``L0 = E + A_N / N^nu`` and the power law
``A N^a x area^-alpha`` (their first two terms)."""
AREA_BOUNDS = {
    "E": (0.0, 10.0),
    "A_N": (-20.0, 20.0),
    "nu": (0.0, 2.0),
    "A": (-30.0, 30.0),
    "a": (-2.0, 2.0),
    "alpha": (0.0, 2.0),
}
"""Their bounds in theta (logs of A_N and A)."""


def size_power(coefficient: Num, exponent: Num, params: Num) -> Num:
    """A constant as a power law in N: ``coefficient x N^exponent`` (how the curve
    forms scale their per-run constants with model size, docs/laws.md §21.4).

    >>> round(float(size_power(2.0, 0.5, 1e8)), 1)
    20000.0
    """
    return coefficient * np.power(params, exponent)


def row(value: Num) -> np.ndarray:
    """A constant (scalar, or one per bootstrap draw) shaped to meet per-row arrays."""
    return np.asarray(value, dtype=float)[..., None]


def term(value: Num) -> np.ndarray:
    """A constant shaped to meet per-row, per-step arrays ``(n, K)``."""
    return np.asarray(value, dtype=float)[..., None, None]


def size_constants(k: Mapping[str, Any], params: Num) -> tuple[Num, Num]:
    """L0 = ``E + A_N / N^nu`` and the area coefficient ``A N^a`` at N = ``params``:
    what both curve forms scale with model size (docs/laws.md §21.4)."""
    n = np.asarray(params, dtype=float)
    L0 = row(k["E"]) + row(k["A_N"]) * np.power(n, -row(k["nu"]))
    return L0, size_power(row(k["A"]), row(k["a"]), n)


def area_columns(theta: np.ndarray, ln_n: np.ndarray, area: np.ndarray) -> list[np.ndarray]:
    """Derivatives of ``L0 + A N^a area^-alpha`` (:func:`size_constants`) by E, log A_N,
    nu, log A, a, alpha."""
    _, log_an, nu, log_a, a, alpha = theta[: len(POWER_LAW_IN_AREA)]
    size = np.exp(log_an - nu * ln_n)
    power = np.exp(log_a + a * ln_n) * np.power(area, -alpha)
    return [np.ones_like(ln_n), size, -size * ln_n, power, power * ln_n, -power * np.log(area)]


def curve_spec(bounds: Mapping[str, tuple[float, float]], logs: tuple[str, ...]) -> NumericSpec:
    """A curve form's constants as its fit sees them: the shared ones
    (:data:`POWER_LAW_IN_AREA`, :data:`AREA_BOUNDS`) then the form's own ``bounds``;
    ``logs`` names the form's constants fitted as logs (besides A_N and A)."""
    return NumericSpec(
        inputs=(),
        names=(*POWER_LAW_IN_AREA, *bounds),
        logs=("A_N", "A", *logs),
        bounds={**AREA_BOUNDS, **bounds},
        starts={},
    )


def area_starts(
    params: np.ndarray, area: np.ndarray, loss: np.ndarray, alpha: float
) -> list[float]:
    """A start for the shared constants, placed from the data: L0 near 40% of the lowest
    loss (half of it in ``A_N / N^0.2``), the area term a fifth of the median loss at
    the median area, no size exponent on ``A``."""
    floor = 0.4 * float(np.min(loss))
    scale = 0.2 * float(np.median(loss)) * float(np.median(area)) ** alpha
    return [floor, float(np.log(floor * float(np.median(params)) ** 0.2)), 0.2,
            float(np.log(scale)), 0.0, alpha]  # fmt: skip


def curves_at(schedule: Schedule, tokens: Num) -> Curves:
    """:class:`Curves` of points at ``tokens`` of a run following ``schedule`` (a
    schedule without an end is taken to end at the last point)."""
    t = np.atleast_1d(np.asarray(tokens, dtype=float))
    planned = schedule.with_total(float(t.max()))
    end = max(float(t.max()), planned.total_tokens or 0.0)
    return Curves.of_history(history_of(planned, np.array([end]), None), t)


class CurveForm(LawForm):
    """A loss at each point of a run from its LR history; constants scale with N."""

    allocates: ClassVar[bool] = False
    reads_schedule: ClassVar[bool] = True

    def curve_loss(self, k: Mapping[str, Any], params: Num, curves: Curves) -> Num:
        """Loss at each row of ``curves`` for a model of ``params`` (constants may be
        arrays over bootstrap draws: the result then has a leading draw axis)."""
        raise NotImplementedError

    def jacobian(self, theta: np.ndarray, params: np.ndarray, curves: Curves) -> np.ndarray:
        """``(n, p)`` derivatives of :meth:`curve_loss` by the fit's parameters
        ``theta`` (the :class:`NumericSpec` layout: logs where it says)."""
        raise NotImplementedError

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        """Loss after ``tokens`` under ``schedule`` (an input), or at the rows of
        ``curves`` when given."""
        curves = inputs.get("curves")
        if curves is None:
            schedule = inputs.get("schedule")
            if schedule is None:
                raise ArgumentError(
                    "schedule",
                    f"the {self.name} form predicts a loss under a learning-rate schedule: "
                    "give the run's schedule (kind, peak_lr, warmup_tokens, ...)",
                )
            curves = curves_at(schedule, tokens)
            out = np.asarray(self.curve_loss(k, params, curves), dtype=float)
            return out.reshape(out.shape[:-1] + np.shape(tokens)) if np.ndim(tokens) == 0 else out
        return self.curve_loss(k, params, curves)

    def curve_starts(self, params: np.ndarray, curves: Curves, loss: np.ndarray) -> np.ndarray:
        """``(S, p)`` starts in theta, placed from the data's own scales (a curve law's
        constants carry the units of LR x tokens, so no fixed grid suits every run)."""
        raise NotImplementedError

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        raise ArgumentError(
            "law",
            f"law {law.id} ({law.form}) predicts loss curves of given runs; it has no "
            "compute-optimal frontier (ask predict or forecast)",
        )
