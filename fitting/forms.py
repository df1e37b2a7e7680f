"""The scaling-law formulas, one pure function each, citing its source equation.

All functions broadcast with numpy: inputs and constants may be arrays (a batch of
model sizes, or a batch of bootstrap draws of the constants).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "PF_DAY",
    "chinchilla_g",
    "chinchilla_loss",
    "chinchilla_optimal",
    "data_constrained_loss",
    "effective_data",
    "effective_params",
    "kaplan_batch_critical",
    "kaplan_loss_cmin",
    "kaplan_loss_n",
    "kaplan_loss_nd",
    "kaplan_n_opt",
    "power_law",
    "saturating_power_law",
    "unique_params",
    "width_depth_alt_loss",
    "width_depth_loss",
]

Num = Any  # float or numpy array

PF_DAY = 1e15 * 86400.0
"""One petaflop/s-day in FLOPs (Kaplan et al. 2020, §1.3): 8.64e19."""


def chinchilla_loss(n: Num, d: Num, *, E: Num, A: Num, B: Num, alpha: Num, beta: Num) -> Num:
    """Hoffmann et al. 2022, Eq. 2: ``L(N, D) = E + A / N^alpha + B / D^beta``.

    With the Epoch refit (docs/laws.md §3.3) N = 7.225e10, D = 1.329e12 gives 1.9744.
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


def kaplan_loss_nd(n: Num, d: Num, *, N_c: Num, D_c: Num, alpha_N: Num, alpha_D: Num) -> Num:
    """Kaplan et al. 2020, Eq. 1.5 / 4.1: ``L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D``.

    Table 2 constants, N = 1e9 non-embedding, D = 1e10 tokens: 2.4197 (docs/laws.md §1.5).
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


def width_depth_loss(
    width: Num,
    depth: Num,
    params: Num,
    tokens: Num,
    *,
    E: Num,
    A_w: Num,
    alpha_w: Num,
    A_d: Num,
    alpha_d: Num,
    A_p: Num,
    alpha_p: Num,
    B: Num,
    beta: Num,
) -> Num:
    """McLeish et al. 2025 (Gemstones), arXiv Eq. 2:
    ``L = E + A_w/w^alpha_w + A_d/d^alpha_d + A_p/p^alpha_p + B/T^beta``.

    Main fit (delta 1e-4, ``hot_100b+``) at 1024 x 28, T = 3.5012e11: 2.7081
    (docs/laws.md §8.5, §11 row 16).
    """
    return (
        E
        + A_w / np.power(width, alpha_w)
        + A_d / np.power(depth, alpha_d)
        + A_p / np.power(params, alpha_p)
        + B / np.power(tokens, beta)
    )


def width_depth_alt_loss(
    width: Num,
    depth: Num,
    tokens: Num,
    *,
    E: Num,
    A_w: Num,
    alpha_w: Num,
    A_d: Num,
    alpha_d: Num,
    B: Num,
    beta: Num,
) -> Num:
    """Gemstones arXiv Eq. 3 (three terms): ``L = E + A_w/w^alpha_w + A_d/d^alpha_d + B/T^beta``."""
    return (
        E
        + A_w / np.power(width, alpha_w)
        + A_d / np.power(depth, alpha_d)
        + B / np.power(tokens, beta)
    )


def effective_data(unique_tokens: Num, tokens: Num, *, R_D: Num) -> Num:
    """Muennighoff et al. 2023, Eq. 5: ``D' = U_D + U_D R_D* (1 - exp(-R_D / R_D*))``.

    ``U_D = min(unique, D)``, ``R_D = D / U_D - 1`` repeated epochs. The paper's
    toy: U = 1, 5 epochs, R_D* = 3 gives D' = 3.21 (§11 row 11).
    """
    u = np.minimum(unique_tokens, tokens)
    repeats = tokens / u - 1.0
    return u + u * R_D * (1.0 - np.exp(-repeats / R_D))


def unique_params(unique_tokens: Num, params: Num, *, A: Num, B: Num, alpha: Num, beta: Num) -> Num:
    """Muennighoff et al. 2023, App. A: ``U_N = min{(U_D G)^(beta/alpha) G, N}``.

    The compute-optimal size for U_D unique tokens; with the C4 law U_N / U_D =
    G^2 = 0.0510 (§11 row 12).
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


def power_law(x: Num, *, k: Num, a: Num) -> Num:
    """``y = k x^a``: allocation rules N*(C) = k C^a (Porian et al. 2024; Gemstones
    Approach 1; DeepSeek Eq. 4; DeepSeek Eq. 1 for batch size and learning rate)."""
    return k * np.power(x, a)


def saturating_power_law(x: Num, *, E: Num, A: Num, gamma: Num) -> Num:
    """``y = E + A x^-gamma``: loss on the compute-optimal frontier, L*(C)."""
    return E + A * np.power(x, -gamma)
