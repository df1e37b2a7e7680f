"""Hoffmann et al. 2022 (Chinchilla) Eq. 2: ``L(N, D) = E + A / N^alpha + B / D^beta``.

Fitted by Approach 3 as an LSE law over (params, tokens); its compute-optimal point
has a closed form (Eq. 4; the equations are in :mod:`fitting.forms.hoffmann`). Asked for
repeated data it uses Muennighoff et al.'s decay (:mod:`fitting.forms.muennighoff`);
asked for inference demand, Sardana et al.'s optimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm, LseSpec, Num, Optimum
from flopwise.fitting.forms.hoffmann import (
    CORE,
    chinchilla_g,
    chinchilla_loss,
    closed_form,
    core,
    inference_aware_optimum,
)
from flopwise.fitting.forms.muennighoff import repeated_data_optimum
from flopwise.fitting.forms.registry import draw_constants, register
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["Chinchilla"]


@lru_cache(maxsize=64)
def _eq4_draws(law: Law) -> tuple[np.ndarray, ...]:
    """Per draw: E, ln A, ln B, alpha, beta, ln G and a = beta / (alpha + beta) (Eq. 4)."""
    k = draw_constants(law)
    assert k is not None
    g = chinchilla_g(A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"])
    a = k["beta"] / (k["alpha"] + k["beta"])
    return k["E"], np.log(k["A"]), np.log(k["B"]), k["alpha"], k["beta"], np.log(g), a


@register
class Chinchilla(LawForm):
    """E + A/N^alpha + B/D^beta (Hoffmann et al. 2022 Eq. 2)."""

    name: ClassVar[str] = "chinchilla"
    constants: ClassVar[tuple[str, ...]] = CORE
    lse: ClassVar[LseSpec | None] = LseSpec(
        "chinchilla", ("params", "tokens"), ("alpha", "beta"), ("A", "B"), CORE
    )

    def chinchilla_constants(self, law: Law) -> dict[str, float] | None:
        return core(law.constants)

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        return chinchilla_loss(params, tokens, **core(k))

    def refuse_extras(self, law: Law, unique_tokens: Any, inference_tokens: Any) -> None:
        if unique_tokens is not None and inference_tokens is not None:
            raise ArgumentError("inference_tokens", "cannot be combined with unique_tokens")

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        return closed_form(law, flops)

    def repeated_optimum(self, law: Law, flops: np.ndarray, unique_tokens: float) -> Optimum:
        return repeated_data_optimum(law, flops, unique_tokens)

    def inference_optimum(self, law: Law, flops: np.ndarray, inference_tokens: float) -> Optimum:
        return inference_aware_optimum(law, flops, inference_tokens)

    def closed_form_draws(
        self, law: Law, flops: float, n: float, d: float
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Loss at (N, D) and log N* from Eq. 4 per draw, in logs."""
        e, log_a, log_b, alpha, beta, log_g, a = _eq4_draws(law)
        losses = e + np.exp(log_a - alpha * np.log(n)) + np.exp(log_b - beta * np.log(d))
        return losses, log_g + a * np.log(flops / 6.0)
