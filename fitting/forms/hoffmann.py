"""Hoffmann et al. 2022 (Chinchilla): the loss of Eq. 2, the compute-optimal point of
Eq. 4, and the optima built on them (one pure function per equation). The
``chinchilla`` form (:mod:`fitting.forms.chinchilla`) and the forms with a Chinchilla
core (data-constrained, over-training) share these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from flopwise.fitting.forms.base import Num, Optimum
from flopwise.fitting.laws import Law
from flopwise.fitting.stats import golden_min

__all__ = [
    "CORE",
    "chinchilla_g",
    "chinchilla_loss",
    "chinchilla_optimal",
    "closed_form",
    "core",
    "inference_aware_optimum",
]

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
