"""Luo, Wen, Hu et al. 2025, *A Multi-Power Law for Loss Curve Prediction Across Learning
Rate Schedules*, arXiv:2503.12811: the loss at step t of a run is

    L(t) = L0 + A (S1(t) + S_W)^-alpha - LD(t)
    LD(t) = B sum_k (eta_{k-1} - eta_k) G(eta_k^-gamma S_k(t)),  G(x) = 1 - (C x + 1)^-beta

with S1 + S_W the LR summed over every step so far (warmup included), S_k(t) the LR
summed from step k to t, and the sum over the steps after warmup (docs/laws.md §21.1).
The authors fit one model size at a time; flopwise scales L0, A and B with the model
size N as power laws (``L0 = E + A_N / N^nu``, ``A N^a``, ``B N^b``; §21.4) so one law
covers a ladder of sizes, and sums over tokens rather than steps (a run's steps have
one batch size, so the change of unit is a constant the coefficients absorb).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.curves import Curves
from flopwise.fitting.forms.base import Num
from flopwise.fitting.forms.curve import (
    POWER_LAW_IN_AREA,
    CurveForm,
    area_columns,
    area_starts,
    curve_spec,
    row,
    size_constants,
    size_power,
    term,
)
from flopwise.fitting.forms.numeric import NumericSpec
from flopwise.fitting.forms.registry import register

__all__ = ["MultiPower", "loss_reduction", "multi_power_loss"]

_NAMES = (*POWER_LAW_IN_AREA, "B", "b", "C", "beta", "gamma")
_LR_FLOOR = 1e-20
"""A step that decays to an LR of exactly 0 counts as decaying to this (G is then 1)."""


def multi_power_loss(area: Num, reduction: Num, *, L0: Num, A: Num, alpha: Num) -> Num:
    """Luo et al. 2025's multi-power law: ``L0 + A (S1 + S_W)^-alpha - LD``.

    With L0 = 2.5, A = 0.5, alpha = 0.5, an LR area of 4 and a loss reduction of 0.1:
    2.5 + 0.5 / 2 - 0.1 = 2.65.

    >>> round(float(multi_power_loss(4.0, 0.1, L0=2.5, A=0.5, alpha=0.5)), 6)
    2.65
    """
    return L0 + A * np.power(area, -alpha) - reduction


def loss_reduction(drop: Num, lr: Num, after: Num, *, B: Num, C: Num, beta: Num, gamma: Num) -> Num:
    """Luo et al. 2025's LD(t) = ``B sum_k drop_k (1 - (C lr_k^-gamma after_k + 1)^-beta)``
    over the last axis (steps k: LR drop, LR and LR area since the step).

    One drop of 2e-4 to an LR of 1e-4, with an area of 1 since, B = 500, C = 2,
    beta = gamma = 0.5: x = 2 x 100 x 1 = 200, G = 1 - 201^-0.5 = 0.92947, LD = 0.092947.

    >>> round(float(loss_reduction([2e-4], [1e-4], [1.0], B=500, C=2, beta=0.5, gamma=0.5)), 6)
    0.092947
    """
    x = C * np.power(np.maximum(lr, _LR_FLOOR), -gamma) * after
    return B * np.sum(drop * (1.0 - np.power(1.0 + x, -beta)), axis=-1)


@register
class MultiPower(CurveForm):
    """Luo et al. 2025's multi-power law with L0, A, B power laws in N (docs/laws.md §21)."""

    name: ClassVar[str] = "multi-power"
    constants: ClassVar[tuple[str, ...]] = _NAMES
    numeric: ClassVar[NumericSpec | None] = curve_spec(
        {"B": (-30.0, 40.0), "b": (-2.0, 2.0), "C": (-80.0, 60.0), "beta": (1e-3, 50.0),
         "gamma": (0.0, 4.0)},
        ("B", "C"),
    )  # fmt: skip

    def curve_loss(self, k: Mapping[str, Any], params: Num, curves: Curves) -> Num:
        """:func:`multi_power_loss` with L0 + A (S1 + S_W)^-alpha from
        :func:`~fitting.forms.curve.size_constants` and LD scaled by ``B N^b``."""
        ld = loss_reduction(
            curves.drop, curves.lr, curves.after,
            B=1.0, C=term(k["C"]), beta=term(k["beta"]), gamma=term(k["gamma"]),
        )  # fmt: skip
        scale = size_power(row(k["B"]), row(k["b"]), np.asarray(params, dtype=float))
        L0, A = size_constants(k, params)
        return multi_power_loss(curves.area, scale * ld, L0=L0, A=A, alpha=row(k["alpha"]))

    def jacobian(self, theta: np.ndarray, params: np.ndarray, curves: Curves) -> np.ndarray:
        log_b, b, log_c, beta, gamma = theta[len(POWER_LAW_IN_AREA) :]
        ln_n = np.log(params)
        scale = np.exp(log_b + b * ln_n)
        ln_lr = np.log(np.maximum(curves.lr, _LR_FLOOR))
        x = np.exp(log_c - gamma * ln_lr) * curves.after
        u = 1.0 + x
        ub = np.power(u, -beta)
        ld = np.sum(curves.drop * (1.0 - ub), axis=1)
        dx = curves.drop * beta * ub / u * x  # d G / d log C, per step
        return np.stack(
            [
                *area_columns(theta, ln_n, curves.area),
                -scale * ld,
                -scale * ld * ln_n,
                -scale * np.sum(dx, axis=1),
                -scale * np.sum(curves.drop * ub * np.log(u), axis=1),
                scale * np.sum(dx * ln_lr, axis=1),
            ],
            axis=1,
        )

    def curve_starts(self, params: np.ndarray, curves: Curves, loss: np.ndarray) -> np.ndarray:
        """The shared constants from :func:`~fitting.forms.curve.area_starts`; C such
        that G is half-saturated at the median decay step; B such that the largest total
        LR drop takes off 5% of the loss; beta 0.5, no size exponent on B; alpha and
        gamma each at two values."""
        steps = curves.drop > 0
        lr_med = float(np.median(curves.lr[steps])) if steps.any() else 1.0
        after_med = float(np.median(curves.after[steps])) if steps.any() else 1.0
        total_drop = float(np.max(np.sum(curves.drop, axis=1), initial=0.0)) or 1.0
        log_b = float(np.log(0.05 * float(np.median(loss)) / total_drop))
        return np.asarray(
            [
                [*area_starts(params, curves.area, loss, alpha), log_b, 0.0,
                 gamma * np.log(lr_med) - np.log(max(after_med, 1e-300)), 0.5, gamma]
                for alpha in (0.3, 0.6)
                for gamma in (0.5, 1.0)
            ],
            dtype=float,
        )  # fmt: skip
