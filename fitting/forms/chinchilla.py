"""Hoffmann et al. 2022 (Chinchilla) Eq. 2: ``L(N, D) = E + A / N^alpha + B / D^beta``.

Fitted by Approach 3 as an LSE law over (params, tokens); its compute-optimal point
has a closed form (Eq. 4). Asked for repeated data it uses Muennighoff et al.'s decay
(``data_constrained``); asked for inference demand, Sardana et al.'s optimum.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms.base import LawForm, LseSpec, Num, Optimum, golden_min
from flopwise.fitting.forms.registry import register
from flopwise.fitting.laws import Law

if TYPE_CHECKING:
    from flopwise.fitting.shape import ShapeConstraints

__all__ = ["Chinchilla", "chinchilla_g", "chinchilla_loss", "chinchilla_optimal"]

CORE = ("E", "A", "B", "alpha", "beta")


def chinchilla_loss(n: Num, d: Num, *, E: Num, A: Num, B: Num, alpha: Num, beta: Num) -> Num:
    """Hoffmann et al. 2022, Eq. 2: ``L(N, D) = E + A / N^alpha + B / D^beta``.

    With the Epoch refit (docs/laws.md §3.3) N = 7.225e10, D = 1.329e12 gives 1.9744.

    >>> round(float(chinchilla_loss(7.225e10, 1.329e12, E=1.81686, A=482.006, B=2085.43,
    ...                              alpha=0.34781, beta=0.36585)), 4)
    1.974
    """
    return E + A / np.power(n, alpha) + B / np.power(d, beta)


def chinchilla_g(*, A: Num, B: Num, alpha: Num, beta: Num) -> Num:
    """Hoffmann et al. 2022, Eq. 4: ``G = (alpha A / (beta B))^(1 / (alpha + beta))``."""
    return np.power(alpha * A / (beta * B), 1.0 / (alpha + beta))


def chinchilla_optimal(c: Num, *, A: Num, B: Num, alpha: Num, beta: Num) -> tuple[Num, Num]:
    """Hoffmann et al. 2022, Eq. 4: the compute-optimal ``(N, D)`` for ``C = 6ND``.

    ``N = G (C/6)^a``, ``D = G^-1 (C/6)^b`` with ``a = beta/(alpha+beta)``,
    ``b = alpha/(alpha+beta)``. Unrounded Chinchilla constants at C = 5.76e23 give
    N = 4.04e10 ("~40B", Fig. 4; docs/laws.md §11 row 1).
    """
    g = chinchilla_g(A=A, B=B, alpha=alpha, beta=beta)
    a = beta / (alpha + beta)
    n = g * np.power(np.asarray(c, dtype=float) / 6.0, a)
    return n, np.asarray(c, dtype=float) / (6.0 * n)


def core(k: Mapping[str, Any]) -> dict[str, Any]:
    """E, A, B, alpha, beta of a law with a Chinchilla core."""
    return {name: k[name] for name in CORE}


def closed_form(law: Law, flops: np.ndarray) -> Optimum:
    """Eq. 4 optimum and its loss (Chinchilla core of ``law``)."""
    k = core(law.constants)
    n, d = chinchilla_optimal(flops, A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"])
    return n, d, chinchilla_loss(n, d, **k), None


def inference_aware_optimum(law: Law, flops: np.ndarray, d_inf: float) -> Optimum:
    """Best (N, D) when the budget must also pay 2 N D_inf inference FLOPs
    (Sardana et al. 2024), by golden-section search in log N."""
    k = core(law.constants)
    n0, _ = chinchilla_optimal(flops, A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"])
    n_max = flops / (2.0 * d_inf)

    def loss(log_n: np.ndarray) -> np.ndarray:
        n = np.exp(log_n)
        d = (flops - 2.0 * n * d_inf) / (6.0 * n)
        return np.where(d > 0, chinchilla_loss(n, np.maximum(d, 1e-300), **k), np.inf)

    hi = np.minimum(np.log(n0) + 1.0, np.log(n_max))
    n = np.exp(golden_min(loss, hi - 12.0, hi))
    d = (flops - 2.0 * n * d_inf) / (6.0 * n)
    return n, d, chinchilla_loss(n, d, **k), None


@lru_cache(maxsize=64)
def _eq4_draws(law: Law) -> tuple[np.ndarray, ...]:
    """Per draw: E, ln A, ln B, alpha, beta, ln G and a = beta / (alpha + beta) (Eq. 4)."""
    k = law.draw_constants()
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
        from flopwise.fitting.forms.data_constrained import repeated_data_optimum

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
