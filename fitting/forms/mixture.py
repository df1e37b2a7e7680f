"""What the mixture-of-experts forms share: a loss in the total parameter count N, the
tokens D and one number of the MoE design (granularity, or sparsity), and compute spent on
the *active* parameters, C = 6 N_active D (Krajewski et al. 2024 §6.1; Abnar et al. 2025
§2).

A law of such a form may carry the design its plain answers assume: the MoE input itself
(``granularity`` or ``sparsity``) and ``active_ratio``, N_active / N as the law counts N.
An MoE plan (``fitting.moe_plan``) replaces both with its own exact shape's values; a
plain ``allocate`` answers at the reference design, with a dense stand-in shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.forms.base import LawForm, Num, Optimum
from flopwise.fitting.laws import Law, NDefinition
from flopwise.fitting.shape import ShapeConstraints
from flopwise.fitting.stats import golden_min

__all__ = ["MoEForm"]


class MoEForm(LawForm):
    """A loss in N (total non-embedding parameters), D and one MoE design number."""

    moe_input: ClassVar[str] = ""
    """The run column and law constant of the design number (``granularity``...)."""
    moe_default: ClassVar[float] = 1.0
    """The design number when neither the question nor the law gives one."""
    loss_params: ClassVar[NDefinition | None] = NDefinition.NON_EMBEDDING

    def moe_loss(self, k: Mapping[str, Any], params: Num, tokens: Num, design: Num) -> Num:
        """The loss at N = ``params``, D = ``tokens`` and the design number."""
        raise NotImplementedError

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        design = inputs.get(self.moe_input)
        if design is None:
            design = k.get(self.moe_input, self.moe_default)
        return self.moe_loss(k, params, tokens, design)

    def allocation_notes(self, law: Law) -> list[str]:
        ref = law.constants.get(self.moe_input, self.moe_default)
        return [
            f"{law.id} is a mixture-of-experts law: this answer assumes its reference design "
            f"({self.moe_input} {ref:g}, N_active/N {law.constants.get('active_ratio', 1.0):g}) "
            "and a dense stand-in shape; ask with experts and top_k for an MoE shape"
        ]

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        """The best N at each budget for the reference design, C = 6 r N D with
        r = ``active_ratio``, by golden-section search in log N."""
        k = law.constants
        ratio = float(k.get("active_ratio", 1.0))
        design = float(k.get(self.moe_input, self.moe_default))
        flops = np.asarray(flops, dtype=float)

        def loss(log_n: np.ndarray) -> np.ndarray:
            n = np.exp(log_n)
            return np.asarray(self.moe_loss(k, n, flops / (6.0 * ratio * n), design))

        centre = np.log(flops / ratio) / 2.0
        n = np.exp(golden_min(loss, centre - 14.0, centre + 10.0))
        d = flops / (6.0 * ratio * n)
        return n, d, loss(np.log(n)), None
