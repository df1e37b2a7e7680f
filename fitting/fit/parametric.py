"""Parametric forms as LSE power laws: which run columns feed them, how ``theta`` maps
to named constants, their default start grids and bounds.

Chinchilla (Hoffmann et al. 2022, Eq. 2), Gemstones' width-depth law (arXiv Eq. 2)
and its three-term variant (arXiv Eq. 3) are all ``L = exp(e) + sum_j exp(c_j)
x_j^-a_j`` over different inputs ``x``; see :mod:`fitting.fit.lse`.
"""

from __future__ import annotations

import math

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.forms import LseSpec, form_names, law_form

__all__ = [
    "LSE_SPECS",
    "LseSpec",
    "chinchilla_grid",
    "default_bounds",
    "grid_rows",
    "grid_size",
    "spec_for",
]

EXPONENT_AXIS = (0.0, 0.5, 1.0, 1.5, 2.0)
"""Chinchilla App. D.2 start values for each exponent."""
COEF_AXIS = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
"""Chinchilla App. D.2 start values for each log coefficient."""
E_AXIS = (-1.0, -0.5, 0.0, 0.5, 1.0)
"""Chinchilla App. D.2 start values for the log irreducible loss."""

EXPONENT_BOUNDS = (0.0, 10.0)
"""Exponents: a negative one would make loss grow with scale."""
COEF_BOUNDS = (-20.0, 200.0)
E_BOUNDS = (-20.0, 10.0)
"""exp(-20) = 2e-9 nats: an irreducible loss at this bound is not identified by the data."""


LSE_SPECS: dict[str, LseSpec] = {
    name: spec for name in form_names() if (spec := law_form(name).lse) is not None
}
"""The built-in forms Approach 3 fits as LSE laws (each form's module owns its spec)."""


def spec_for(form: str) -> LseSpec:
    """The LSE spec of ``form``; ``ArgumentError`` for forms Approach 3 cannot fit this way."""
    spec = law_form(form).lse
    if spec is None:
        fits = ", ".join(n for n in form_names(method="approach3"))
        raise ArgumentError("form", f"approach3 fits {fits}, not {form}")
    return spec


def chinchilla_grid(k: int) -> np.ndarray:
    """Hoffmann et al. 2022 App. D.2 start grid for k terms: ``5^k 6^k 5`` rows.

    4,500 starts for Chinchilla (k = 2); 4,050,000 for the width-depth law (k = 4),
    the grid of Gemstones' ``depth_width.py``.
    """
    return grid_rows(k, np.arange(grid_size(k)))


def grid_axes(k: int) -> list[np.ndarray]:
    """The axes of :func:`chinchilla_grid`, in theta order."""
    axes = [EXPONENT_AXIS] * k + [COEF_AXIS] * k + [E_AXIS]
    return [np.asarray(a) for a in axes]


def grid_size(k: int) -> int:
    """Rows of the k-term Chinchilla grid."""
    return math.prod(len(a) for a in grid_axes(k))


def grid_rows(k: int, index: np.ndarray) -> np.ndarray:
    """Rows ``index`` of :func:`chinchilla_grid` (row-major, last axis fastest),
    decoded without building the whole grid (4 million rows for k = 4)."""
    axes = grid_axes(k)
    digits = np.unravel_index(np.asarray(index, dtype=np.int64), [len(a) for a in axes])
    return np.stack([a[d] for a, d in zip(axes, digits, strict=True)], axis=1)


def default_bounds(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds for theta ``(a_1..a_k, c_1..c_k, e)``."""
    lower = [EXPONENT_BOUNDS[0]] * k + [COEF_BOUNDS[0]] * k + [E_BOUNDS[0]]
    upper = [EXPONENT_BOUNDS[1]] * k + [COEF_BOUNDS[1]] * k + [E_BOUNDS[1]]
    return np.array(lower), np.array(upper)
