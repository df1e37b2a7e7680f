"""Allocation rules ``N* = k_N C^a_N`` (Porian et al. 2024; Gemstones Approach 1;
DeepSeek Eq. 4), optionally with a loss frontier ``L* = E + A C^-gamma``.

A published D* regression (k_D, a_D) is kept for reference; D* itself spends the
budget at N*. Fitted by Approach 1 (envelope) or Approach 2 (isoFLOP profiles).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from flopwise.fitting.forms.base import LawForm, Num, Optimum, tokens_for
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["PowerLaw", "power_law", "saturating_power_law"]


def power_law(x: Num, *, k: Num, a: Num) -> Num:
    """``y = k x^a``: allocation rules N*(C) = k C^a (Porian et al. 2024; Gemstones
    Approach 1; DeepSeek Eq. 4; DeepSeek Eq. 1 for batch size and learning rate).

    >>> float(power_law(100.0, k=2.0, a=0.5))
    20.0
    """
    return k * np.power(x, a)


def saturating_power_law(x: Num, *, E: Num, A: Num, gamma: Num) -> Num:
    """``y = E + A x^-gamma``: loss on the compute-optimal frontier, L*(C)."""
    return E + A * np.power(x, -gamma)


@register
class PowerLaw(LawForm):
    """N* = k_N C^a_N, optionally L* = E + A C^-gamma."""

    name: ClassVar[str] = "power-law"
    constants: ClassVar[tuple[str, ...]] = ("k_N", "a_N")
    optional: ClassVar[tuple[str, ...]] = ("k_D", "a_D", "loss_E", "loss_A", "loss_gamma")
    methods: ClassVar[tuple[str, ...]] = ("approach1", "approach2")
    loss_draws: ClassVar[bool] = False

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        k = law.constants
        n = power_law(flops, k=k["k_N"], a=k["a_N"])
        loss = None
        if "loss_E" in k:
            loss = saturating_power_law(flops, E=k["loss_E"], A=k["loss_A"], gamma=k["loss_gamma"])
        return n, tokens_for(law, flops, n), loss, None
