"""Pearce & Song 2024, "Reconciling Kaplan and Chinchilla Scaling Laws".

Kaplan counted non-embedding parameters and studied small models; at small scale the
embedding is a large share of a model, so a Chinchilla-form law in *total*
parameters, read in non-embedding terms, shows a steeper local exponent (about 0.78
for the Epoch constants) close to Kaplan's 0.73. This module reproduces their
synthetic frontier search and the analytic local exponent (their Eq. 11, 20).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "OMEGA",
    "LocalExponent",
    "local_exponent_analytic",
    "local_exponent_search",
    "total_from_non_embedding",
]

OMEGA = 47491.0
"""Pearce & Song Eq. 11: N_T = N_E + omega N_E^(1/3), fitted on Chinchilla Table A9."""


def total_from_non_embedding(
    n_non_embedding: Any, *, vocab_size: float = 32e3, aspect_ratio: float = 39.2
) -> Any:
    """Pearce & Song Eq. 11 via a fixed aspect ratio: ``d = (N_E / (12 / A))^(1/3)``,
    ``N_T = N_E + V d`` (V = 32,000 and A = 39.2 give omega ~ 47,491)."""
    width = np.power(np.asarray(n_non_embedding, dtype=float) / (12.0 / aspect_ratio), 1.0 / 3.0)
    return n_non_embedding + vocab_size * width


def local_exponent_analytic(
    n_non_embedding: Any, *, alpha: float, beta: float, omega: float = OMEGA
) -> Any:
    """Pearce & Song Eq. 20: ``g = d log N*_E / d log C_E`` at a non-embedding size.

    ``1/g = 1 - (1/beta) (N^(2/3) + omega/9) / (N^(2/3) + omega/3)
    + ((alpha+1)/beta) (N^(2/3) + omega/3) / (N^(2/3) + omega)``; it tends to
    beta / (alpha/3 + beta) for small N and beta / (alpha + beta) for large N.
    """
    x = np.power(np.asarray(n_non_embedding, dtype=float), 2.0 / 3.0)
    inv = (
        1.0
        - (x + omega / 9.0) / (beta * (x + omega / 3.0))
        + (alpha + 1.0) / beta * (x + omega / 3.0) / (x + omega)
    )
    return 1.0 / inv


@dataclass(frozen=True)
class LocalExponent:
    """The frontier found by the search and the log-log slope fitted to it."""

    exponent: float
    intercept: float
    compute: np.ndarray
    best_non_embedding: np.ndarray


def local_exponent_search(
    *,
    E: float,
    A: float,
    B: float,
    alpha: float,
    beta: float,
    log10_params: tuple[float, float] = (2.9, 9.2),
    n_params: int = 20,
    log10_tokens: tuple[float, float] = (6.0, 25.0),
    n_tokens: int = 1000,
    log10_compute: tuple[float, float] = (12.95, 20.7),
    n_compute: int = 100,
) -> LocalExponent:
    """Pearce & Song §4 frontier search, vectorised.

    Losses come from the Chinchilla form in total parameters (Eq. 8) for 20
    non-embedding sizes (Kaplan's 768 to 1.5B) and 1,000 token counts; at each of
    100 non-embedding budgets ``C_E = 6 N_E D`` every size takes the token count
    nearest the budget, the lowest-loss size is the optimum, and ``log N*_E`` is
    regressed on ``log C_E``. Epoch constants give 0.78, Chinchilla's 0.74 (their
    §4; docs/laws.md §11 row 13).
    """
    n_e = np.logspace(*log10_params, n_params)
    n_t = total_from_non_embedding(n_e)
    tokens = np.logspace(*log10_tokens, n_tokens)
    loss = (
        E + A / np.power(n_t[:, None], alpha) + B / np.power(tokens[None, :], beta)
    )  # (sizes, tokens)
    compute_grid = 6.0 * n_e[:, None] * tokens[None, :]  # (sizes, tokens)
    budgets = np.logspace(*log10_compute, n_compute)
    nearest = np.argmin(
        np.abs(compute_grid[None, :, :] - budgets[:, None, None]), axis=2
    )  # (budgets, sizes)
    loss_at = np.take_along_axis(loss[None, :, :], nearest[:, :, None], axis=2)[:, :, 0]
    best = n_e[np.argmin(loss_at, axis=1)]
    slope, intercept = np.polyfit(np.log(budgets), np.log(best), 1)
    return LocalExponent(float(slope), float(intercept), budgets, best)
