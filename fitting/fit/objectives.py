"""Fit objectives: tiny pure functions of the log-loss residual ``r = log L_hat - log L``
in a table, each with its derivative (scipy ``least_squares``' robust losses are the
model). Every objective is summed over observations.

``huber`` (the default): Hoffmann et al. 2022 App. D.2, delta 1e-3; quadratic near
zero, linear beyond delta, so a few outlying runs do not pull the law.
``mse``: half the squared residual, the Gaussian maximum-likelihood fit (Besiroglu
et al. 2024 fit by likelihood); every run weighs by its squared miss.
``asymmetric``: kyo-takano/chinchilla's lower-bound-seeking loss, an asymmetric
absolute error: a run whose loss lies above the curve costs ``|r|``, a run below it
``lambda |r|`` with ``lambda = ASYMMETRIC_LAMBDA``, so the fitted curve hugs the best
runs at each size (the law as a lower bound of achievable loss, not its mean). It is
applied to log residuals here, as every flopwise objective is.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["ASYMMETRIC_LAMBDA", "OBJECTIVES", "asymmetric", "mse"]

ASYMMETRIC_LAMBDA = 10.0
"""Weight of a run that lies below the fitted curve, against 1 for one above."""

Loss = Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray]]


def mse(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """``r^2 / 2`` and its derivative ``r`` (``delta`` unused).

    >>> [float(v) for v in mse(np.array([0.1]), 1e-3)[0]]
    [0.005000000000000001]
    """
    return 0.5 * r * r, r


def asymmetric(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    """kyo-takano/chinchilla's asymmetric absolute error on ``r = log L_hat - log L``:
    ``-r`` when the run lies above the curve (r < 0), ``lambda r`` when below.

    >>> [float(v) for v in asymmetric(np.array([-0.1, 0.1]), 1e-3)[0]]
    [0.1, 1.0]
    """
    below = r > 0
    return np.where(below, ASYMMETRIC_LAMBDA * r, -r), np.where(below, ASYMMETRIC_LAMBDA, -1.0)


OBJECTIVES: dict[str, Loss | None] = {"huber": None, "mse": mse, "asymmetric": asymmetric}
"""Name -> (value, derivative) of the residual; ``huber`` (None) is summed in place by
``lse`` (its hot path)."""
