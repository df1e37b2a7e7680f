"""Tissue, Wang, Wang 2024, *Scaling Law with Learning Rate Annealing*, arXiv:2408.11029:
the loss at step s of a run is

    L(s) = L0 + A S1^-alpha - C S2

with S1 the forward area (the LR summed over steps, warmup counted at the peak, their
§3.4) and S2 the annealing area, the sum of a momentum of LR decreases,
m_i = lambda m_{i-1} + (eta_{i-1} - eta_i) (their §3; lambda = 0.999 in their code).
flopwise sums over tokens: lambda per step becomes a decay time ``tau`` in tokens, fitted
with the other constants (lambda = exp(-batch / tau)), and L0, A and C scale with the
model size N as power laws (``L0 = E + A_N / N^nu``, ``A N^a``, ``C N^c``;
docs/laws.md §21.2, §21.4).
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

__all__ = ["Tissue", "annealing_area", "annealing_area_steps", "tissue_loss"]

_NAMES = (*POWER_LAW_IN_AREA, "C", "c", "tau")


def tissue_loss(S1: Num, S2: Num, *, L0: Num, A: Num, alpha: Num, C: Num) -> Num:
    """Tissue et al. 2024, Eq. 1: ``L = L0 + A S1^-alpha - C S2``.

    L0 = 2.8, A = 0.4, alpha = 0.5, S1 = 4, S2 = 0.05, C = 2: 2.8 + 0.2 - 0.1 = 2.9.

    >>> round(float(tissue_loss(4.0, 0.05, L0=2.8, A=0.4, alpha=0.5, C=2.0)), 6)
    2.9
    """
    return L0 + A * np.power(S1, -alpha) - C * S2


def annealing_area_steps(lr: Any, lam: float = 0.999) -> np.ndarray:
    """Tissue et al. 2024 §3's S2 after each step of an LR sequence ``eta_0, eta_1, ...``:
    ``m_i = lam m_{i-1} + (eta_{i-1} - eta_i)``, ``S2 = sum_i m_i``.

    One drop of 1e-4 followed by 1,000 steps at lambda 0.999: S2 = 1e-4 (1 - 0.999^1001)
    / 0.001 = 0.063267.

    >>> round(float(annealing_area_steps([2e-4] + [1e-4] * 1001)[-1]), 6)
    0.063267
    """
    eta = np.asarray(lr, dtype=float)
    m = np.zeros_like(eta)
    for i in range(1, len(eta)):
        m[i] = lam * m[i - 1] + (eta[i - 1] - eta[i])
    return np.cumsum(m)


def annealing_area(drop: Num, since: Num, tau: Num) -> Num:
    """S2 over tokens: ``sum_k drop_k tau (1 - exp(-since_k / tau))`` over the last axis,
    the continuous form of :func:`annealing_area_steps` with lambda = exp(-1 / tau) per
    token (the sum of lambda^j over the steps since a drop, as an integral).

    The drop of 1e-4 above followed by 1,000 tokens, one token a step, with tau =
    -1 / ln 0.999 = 999.5: 1e-4 x 999.5 x (1 - 0.999^1000) = 0.063199, 0.1% below the
    step sum (which also counts the drop's own step).

    >>> round(float(annealing_area([1e-4], [1000.0], -1 / np.log(0.999))), 6)
    0.063199
    """
    drop, since = np.asarray(drop, dtype=float), np.asarray(since, dtype=float)
    return np.sum(drop * tau * (1.0 - np.exp(-since / tau)), axis=-1)


@register
class Tissue(CurveForm):
    """Tissue et al. 2024's law with L0, A, C power laws in N (docs/laws.md §21)."""

    name: ClassVar[str] = "tissue"
    constants: ClassVar[tuple[str, ...]] = _NAMES
    numeric: ClassVar[NumericSpec | None] = curve_spec(
        {"C": (-60.0, 60.0), "c": (-2.0, 2.0), "tau": (0.0, 60.0)},
        ("C", "tau"),
    )  # fmt: skip

    def curve_loss(self, k: Mapping[str, Any], params: Num, curves: Curves) -> Num:
        """:func:`tissue_loss` with L0 + A S1^-alpha from
        :func:`~fitting.forms.curve.size_constants` (S1 with warmup at the peak) and C N^c."""
        S2 = annealing_area(curves.drop, curves.since, term(k["tau"]))
        C = size_power(row(k["C"]), row(k["c"]), np.asarray(params, dtype=float))
        L0, A = size_constants(k, params)
        return tissue_loss(curves.flat_area, S2, L0=L0, A=A, alpha=row(k["alpha"]), C=C)

    def jacobian(self, theta: np.ndarray, params: np.ndarray, curves: Curves) -> np.ndarray:
        log_c, c, log_tau = theta[len(POWER_LAW_IN_AREA) :]
        ln_n = np.log(params)
        scale = np.exp(log_c + c * ln_n)
        tau = np.exp(log_tau)
        decay = np.exp(-curves.since / tau)
        S2 = np.sum(curves.drop * tau * (1.0 - decay), axis=1)
        dS2 = np.sum(curves.drop * tau * ((1.0 - decay) - curves.since / tau * decay), axis=1)
        return np.stack(
            [
                *area_columns(theta, ln_n, curves.flat_area),
                -scale * S2,
                -scale * S2 * ln_n,
                -scale * dS2,
            ],
            axis=1,
        )

    def curve_starts(self, params: np.ndarray, curves: Curves, loss: np.ndarray) -> np.ndarray:
        """The shared constants from :func:`~fitting.forms.curve.area_starts` (S1 with
        warmup at the peak); tau at a tenth and at all of the median tokens since a
        decay step; C such that the largest S2 takes off 5% of the loss; alpha at two
        values."""
        steps = curves.drop > 0
        since = float(np.median(curves.since[steps])) if steps.any() else 1.0
        rows = []
        for alpha in (0.3, 0.6):
            for tau in (0.1 * since, since):
                s2 = float(np.max(annealing_area(curves.drop, curves.since, tau), initial=0.0))
                log_c = float(np.log(0.05 * float(np.median(loss)) / (s2 or 1.0)))
                start = area_starts(params, curves.flat_area, loss, alpha)
                rows.append([*start, log_c, 0.0, float(np.log(max(tau, 1e-300)))])
        return np.asarray(rows, dtype=float)
