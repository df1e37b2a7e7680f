"""Muennighoff et al. 2023 (data-constrained scaling): the Chinchilla form over
effective parameters N' and effective data D' that discount repeated epochs (Eq. 5-7,
in :mod:`fitting.forms.muennighoff`).

Fitted as Muennighoff et al. do: a Chinchilla base law on single-epoch runs, then the
decay constants R_N*, R_D* with the base held (the fit engine's ``data-constrained``
method). The optimum at a budget with a cap on unique tokens is a golden-section search
in log N.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm, Num, Optimum
from flopwise.fitting.forms.hoffmann import CORE, closed_form
from flopwise.fitting.forms.muennighoff import (
    data_constrained_loss,
    repeated_data_optimum,
    with_decay,
)
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["DataConstrained"]


@register
class DataConstrained(LawForm):
    """Chinchilla form over effective N', D' (Muennighoff et al. 2023 Eq. 7)."""

    name: ClassVar[str] = "data-constrained"
    constants: ClassVar[tuple[str, ...]] = (*CORE, "R_N", "R_D")
    repeated_data: ClassVar[bool] = True

    def chinchilla_constants(self, law: Law) -> dict[str, float] | None:
        return {name: law.constants[name] for name in CORE}

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        unique = inputs.get("unique_tokens")
        unique = tokens if unique is None else unique
        return data_constrained_loss(params, tokens, unique, **with_decay(k))

    def refuse_extras(self, law: Law, unique_tokens: Any, inference_tokens: Any) -> None:
        if inference_tokens is not None:
            raise ArgumentError("inference_tokens", "cannot be combined with unique_tokens")

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        return closed_form(law, flops)

    def repeated_optimum(self, law: Law, flops: np.ndarray, unique_tokens: float) -> Optimum:
        return repeated_data_optimum(law, flops, unique_tokens)
