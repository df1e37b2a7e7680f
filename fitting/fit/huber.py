"""The robust loss every parametric fit minimises (Hoffmann et al. 2022, App. D.2).

``Huber_delta(r) = r^2 / 2`` for ``|r| <= delta`` and ``delta (|r| - delta / 2)``
otherwise, applied to residuals in log loss and **summed** over observations
(Besiroglu et al. 2024 found that averaging instead of summing stops L-BFGS early).
Identical to ``scipy.special.huber(delta, r)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["huber", "huber_grad"]


def huber(residual: np.ndarray, delta: float) -> np.ndarray:
    """Hoffmann et al. 2022, App. D.2 Eq. 10's loss term, element-wise.

    ``huber(np.array([0.5e-3, 2e-3]), 1e-3)`` is ``[1.25e-7, 1.5e-6]``.
    """
    a = np.abs(residual)
    return np.where(a <= delta, 0.5 * residual * residual, delta * (a - 0.5 * delta))


def huber_grad(residual: np.ndarray, delta: float) -> np.ndarray:
    """Derivative of :func:`huber` in the residual: the residual clipped to ``±delta``."""
    return np.clip(residual, -delta, delta)
