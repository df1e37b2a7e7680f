"""Muennighoff et al. 2023 (data-constrained scaling): effective data D' and
effective parameters N' that discount repeated epochs (Eq. 5, 6), the loss over them
(Eq. 7), and the optimum at a budget with a cap on unique tokens. The
``data-constrained`` form uses them, and a plain Chinchilla law borrows them (with the
paper's C4 decay constants) when asked about repeated data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from flopwise.fitting.forms.base import Num, Optimum
from flopwise.fitting.forms.hoffmann import CORE, chinchilla_g, chinchilla_optimal
from flopwise.fitting.laws import Law
from flopwise.fitting.stats import golden_min

__all__ = [
    "MUENNIGHOFF_R_D",
    "MUENNIGHOFF_R_N",
    "data_constrained_loss",
    "effective_data",
    "effective_params",
    "repeated_data_optimum",
    "unique_params",
    "with_decay",
]

MUENNIGHOFF_R_N = 5.309743
MUENNIGHOFF_R_D = 15.387756
"""Repetition decay constants (Muennighoff et al. 2023, App. A), used when a plain
Chinchilla-form law is asked for a data-constrained optimum."""


def effective_data(unique_tokens: Num, tokens: Num, *, R_D: Num) -> Num:
    """Muennighoff et al. 2023, Eq. 5: ``D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*))``.

    ``U_D = min(unique, D)``, ``R_D = D / U_D - 1`` repeated epochs. The paper's
    toy: U = 1, 5 epochs, R_D* = 3 gives D' = 3.21 (docs/laws.md §11 row 11).

    >>> round(float(effective_data(1.0, 5.0, R_D=3.0)), 2)
    3.21
    """
    u = np.minimum(unique_tokens, tokens)
    repeats = tokens / u - 1.0
    return u + u * R_D * (1.0 - np.exp(-repeats / R_D))


def unique_params(unique_tokens: Num, params: Num, *, A: Num, B: Num, alpha: Num, beta: Num) -> Num:
    """Muennighoff et al. 2023, App. A: ``U_N = min{(U_D G)^(beta/alpha) G, N}``.

    The compute-optimal size for U_D unique tokens; with the C4 law U_N / U_D =
    G^2 = 0.0510 (docs/laws.md §11 row 12).
    """
    g = chinchilla_g(A=A, B=B, alpha=alpha, beta=beta)
    return np.minimum(np.power(unique_tokens * g, beta / alpha) * g, params)


def effective_params(u_params: Num, params: Num, *, R_N: Num) -> Num:
    """Muennighoff et al. 2023, Eq. 6: ``N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*))``,
    ``R_N = max(N / U_N - 1, 0)``."""
    repeats = np.maximum(params / u_params - 1.0, 0.0)
    return u_params + u_params * R_N * (1.0 - np.exp(-repeats / R_N))


def data_constrained_loss(
    params: Num,
    tokens: Num,
    unique_tokens: Num,
    *,
    E: Num,
    A: Num,
    B: Num,
    alpha: Num,
    beta: Num,
    R_N: Num,
    R_D: Num,
) -> Num:
    """Muennighoff et al. 2023, Eq. 7: ``L = E + A / N'^alpha + B / D'^beta``.

    C4 law, U_D = 1e11: N = 5.1e9, D = 4e11 gives 2.1891 (docs/laws.md §7.3).
    """
    u_d = np.minimum(unique_tokens, tokens)
    d_eff = effective_data(u_d, tokens, R_D=R_D)
    u_n = unique_params(u_d, params, A=A, B=B, alpha=alpha, beta=beta)
    n_eff = effective_params(u_n, params, R_N=R_N)
    return E + A / np.power(n_eff, alpha) + B / np.power(d_eff, beta)


def with_decay(k: Mapping[str, Any]) -> dict[str, Any]:
    out = {"R_N": MUENNIGHOFF_R_N, "R_D": MUENNIGHOFF_R_D, **k}
    return {name: out[name] for name in (*CORE, "R_N", "R_D")}


def repeated_data_optimum(law: Law, flops: np.ndarray, unique: float) -> Optimum:
    """Best (N, D) at each budget when only ``unique`` tokens exist (a Chinchilla law
    borrows Muennighoff et al.'s C4 decay constants)."""
    k = with_decay(law.constants)
    n0, _ = chinchilla_optimal(flops, A=k["A"], B=k["B"], alpha=k["alpha"], beta=k["beta"])

    def loss(log_n: np.ndarray) -> np.ndarray:
        n = np.exp(log_n)
        return data_constrained_loss(n, flops / (6 * n), unique, **k)

    n = np.exp(golden_min(loss, np.log(n0) - 7.0, np.log(n0) + 7.0))
    d = flops / (6 * n)
    return n, d, data_constrained_loss(n, d, unique, **k), None
