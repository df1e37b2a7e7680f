"""Gadre et al. 2024 ("Language models scale reliably with over-training"): the
Chinchilla form with one exponent for parameters and tokens,
``L(N, D) = E + A / N^eta + B / D^eta`` (docs/laws.md §10.4).

With the token multiplier ``M = D / N`` and ``C = 6 N D`` the same law reads
``L(C, M) = E + (a M^(eta/2) + b M^(-eta/2)) C^(-eta/2)``, ``a = A 6^(eta/2)``,
``b = B 6^(eta/2)`` (the paper's exponent is ``eta/2`` here), so over-training a
model M times past the optimum costs a fixed factor in loss at every scale. Four
constants: a tied fit needs fewer runs than the five of Chinchilla's Eq. 2. The paper's
fitted constants are not reproduced here, so no built-in law uses this form yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from flopwise.fitting.forms.base import LawForm, LseSpec, Num, Optimum
from flopwise.fitting.forms.hoffmann import chinchilla_loss, chinchilla_optimal
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["Overtraining", "overtraining_loss", "overtraining_loss_cm"]

_NAMES = ("E", "A", "B", "eta")


def overtraining_loss(n: Num, d: Num, *, E: Num, A: Num, B: Num, eta: Num) -> Num:
    """Gadre et al. 2024, the tied-exponent law: ``L = E + A / N^eta + B / D^eta``.

    >>> round(float(overtraining_loss(1e9, 2e10, E=1.8, A=400.0, B=400.0, eta=0.3)), 4)
    2.923
    """
    return chinchilla_loss(n, d, E=E, A=A, B=B, alpha=eta, beta=eta)


def overtraining_loss_cm(c: Num, m: Num, *, E: Num, A: Num, B: Num, eta: Num) -> Num:
    """Gadre et al. 2024, the same law in compute and token multiplier ``M = D/N``:
    ``L = E + (A 6^h M^h + B 6^h M^-h) C^-h`` with ``h = eta / 2`` (``C = 6ND``).

    >>> c, m = 6 * 1e9 * 2e10, 20.0
    >>> round(float(overtraining_loss_cm(c, m, E=1.8, A=400.0, B=400.0, eta=0.3)), 4)
    2.923
    """
    h = np.asarray(eta) / 2.0
    six = np.power(6.0, h)
    return E + (A * six * np.power(m, h) + B * six * np.power(m, -h)) * np.power(c, -h)


@register
class Overtraining(LawForm):
    """E + A/N^eta + B/D^eta (Gadre et al. 2024): Chinchilla with tied exponents."""

    name: ClassVar[str] = "overtraining"
    constants: ClassVar[tuple[str, ...]] = _NAMES
    lse: ClassVar[LseSpec | None] = LseSpec(
        "overtraining", ("params", "tokens"), ("eta", "eta"), ("A", "B"), _NAMES
    )

    def chinchilla_constants(self, law: Law) -> dict[str, float] | None:
        k = law.constants
        return {"E": k["E"], "A": k["A"], "B": k["B"], "alpha": k["eta"], "beta": k["eta"]}

    def loss(self, k: Mapping[str, Any], *, params: Num, tokens: Num, **inputs: Num) -> Num:
        return overtraining_loss(params, tokens, E=k["E"], A=k["A"], B=k["B"], eta=k["eta"])

    def frontier(self, law: Law, flops: np.ndarray, constraints: ShapeConstraints) -> Optimum:
        """Hoffmann et al. Eq. 4 with alpha = beta = eta: N* = sqrt(A/B) sqrt(C/6)."""
        k = law.constants
        n, d = chinchilla_optimal(flops, A=k["A"], B=k["B"], alpha=k["eta"], beta=k["eta"])
        return n, d, self.loss(k, params=n, tokens=d), None
