"""Kaplan et al. 2020: joint L(N, D) (Eq. 1.5), L(C_min) (Eq. 1.3), N_opt(C_min) (Table 6).

N counts non-embedding parameters; the optimum reads N_opt at C_min = C/2 (training at
the critical batch size, Eq. 6.7), with C in PF-days.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.forms.base import LawForm, Num, Optimum
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = [
    "PF_DAY",
    "Kaplan",
    "kaplan_batch_critical",
    "kaplan_loss_cmin",
    "kaplan_loss_n",
    "kaplan_loss_nd",
    "kaplan_n_opt",
]

PF_DAY = 1e15 * 86400.0
"""One petaflop/s-day in FLOPs (Kaplan et al. 2020, §1.3): 8.64e19."""


def kaplan_loss_nd(n: Num, d: Num, *, N_c: Num, D_c: Num, alpha_N: Num, alpha_D: Num) -> Num:
    """Kaplan et al. 2020, Eq. 1.5 / 4.1: ``L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D``.

    Table 2 constants, N = 1e9 non-embedding, D = 1e10 tokens: 2.4197 (docs/laws.md §1.5).

    >>> round(float(kaplan_loss_nd(1e9, 1e10, N_c=6.4e13, D_c=1.8e13,
    ...                            alpha_N=0.076, alpha_D=0.103)), 4)
    2.4197
    """
    return np.power(np.power(N_c / n, alpha_N / alpha_D) + D_c / d, alpha_D)


def kaplan_loss_n(n: Num, *, N_c: Num, alpha_N: Num) -> Num:
    """Kaplan et al. 2020, Eq. 1.1: converged loss ``(N_c / N)^alpha_N``; 1e9 -> 2.3756."""
    return np.power(N_c / n, alpha_N)


def kaplan_loss_cmin(c_min_pf_days: Num, *, C_c_min: Num, alpha_C_min: Num) -> Num:
    """Kaplan et al. 2020, Eq. 1.3: ``L(C_min) = (C_c^min / C_min)^alpha_C^min``, C in PF-days.

    One PF-day gives (3.1e8)^0.05 = 2.6581 (docs/laws.md §1.5).
    """
    return np.power(C_c_min / c_min_pf_days, alpha_C_min)


def kaplan_n_opt(c_min_pf_days: Num, *, N_e: Num, p_N: Num) -> Num:
    """Kaplan et al. 2020, App. A Table 6: ``N_opt = N_e C_min^p_N`` (N_e = 1.3e9, p_N = 0.73).

    C = 1e21 FLOPs with C_min = C/2 (5.787 PF-days) gives 4.683e9, the "4.68B"
    Chinchilla App. D.4 quotes (docs/laws.md §11 row 6).
    """
    return N_e * np.power(c_min_pf_days, p_N)


def kaplan_batch_critical(loss: Num, *, B_star: Num = 2e8, alpha_B: Num = 0.21) -> Num:
    """Kaplan et al. 2020, Eq. 1.4 / 5.3: ``B_crit(L) = B_* / L^(1/alpha_B)`` tokens.

    L = 2.5 gives 2.547e6 tokens (2.675e6 with Table 5's B_* = 2.1e8).
    """
    return B_star / np.power(loss, 1.0 / alpha_B)


@register
class Kaplan(LawForm):
    """Kaplan et al. 2020's joint law and compute-optimal rule."""

    name: ClassVar[str] = "kaplan"
    constants: ClassVar[tuple[str, ...]] = (
        "N_c",
        "D_c",
        "alpha_N",
        "alpha_D",
        "N_e",
        "p_N",
        "C_c_min",
        "alpha_C_min",
        "c_min_fraction",
    )
    methods: ClassVar[tuple[str, ...]] = ()

    def allocation_notes(self, law: Law) -> list[str]:
        return ["Kaplan's N_opt is read at C_min = C/2 (training at the critical batch, Eq. 6.7)"]

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        return kaplan_loss_nd(
            params, tokens, N_c=k["N_c"], D_c=k["D_c"], alpha_N=k["alpha_N"], alpha_D=k["alpha_D"]
        )

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        k = law.constants
        c_min = flops * k["c_min_fraction"] / PF_DAY
        n = kaplan_n_opt(c_min, N_e=k["N_e"], p_N=k["p_N"])
        loss = kaplan_loss_cmin(c_min, C_c_min=k["C_c_min"], alpha_C_min=k["alpha_C_min"])
        return n, flops / (6.0 * n), loss, None
