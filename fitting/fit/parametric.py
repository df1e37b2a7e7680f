"""Parametric forms as LSE power laws: which run columns feed them, how ``theta`` maps
to named constants, their default start grids and bounds.

Chinchilla (Hoffmann et al. 2022, Eq. 2), Gemstones' width-depth law (arXiv Eq. 2)
and its three-term variant (arXiv Eq. 3) are all ``L = exp(e) + sum_j exp(c_j)
x_j^-a_j`` over different inputs ``x``; see :mod:`fitting.fit.lse`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from flopwise.fitting.laws import FORM_CONSTANTS, Form
from flopwise.fitting.runs import Runs

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


@dataclass(frozen=True)
class LseSpec:
    """One LSE form: the run columns it reads and the names of its constants."""

    form: Form
    inputs: tuple[str, ...]
    """Runs columns, in theta order (``params``, ``tokens``, ``width``, ``depth``)."""
    exponents: tuple[str, ...]
    """Constant names of a_1..a_k."""
    coefficients: tuple[str, ...]
    """Constant names of exp(c_1)..exp(c_k)."""

    @property
    def k(self) -> int:
        return len(self.inputs)

    @property
    def theta_names(self) -> tuple[str, ...]:
        """Parameter names in theta order, log coefficients written ``log_A`` etc."""
        logs = tuple(f"log_{c}" for c in self.coefficients)
        return (*self.exponents, *logs, "log_E")

    def log_inputs(self, runs: Runs) -> np.ndarray:
        """``(n, k)`` logs of the input columns; ``ValueError`` if a column is absent."""
        cols = []
        for name in self.inputs:
            col = getattr(runs, name)
            if col is None:
                raise ValueError(f"{name}: the {self.form} form needs a {name} column")
            cols.append(np.log(np.asarray(col, dtype=float)))
        return np.stack(cols, axis=1)

    def constants(self, theta: np.ndarray) -> dict[str, float]:
        """Named constants of one theta, in ``FORM_CONSTANTS`` order."""
        k = self.k
        values = {"E": math.exp(theta[2 * k])}
        for j in range(k):
            values[self.exponents[j]] = float(theta[j])
            values[self.coefficients[j]] = math.exp(theta[k + j])
        return {name: values[name] for name in FORM_CONSTANTS[self.form]}

    def draws(self, thetas: np.ndarray) -> np.ndarray:
        """Rows of theta as rows of constants in ``FORM_CONSTANTS`` order."""
        k = self.k
        cols = {"E": np.exp(thetas[:, 2 * k])}
        for j in range(k):
            cols[self.exponents[j]] = thetas[:, j]
            cols[self.coefficients[j]] = np.exp(thetas[:, k + j])
        return np.stack([cols[name] for name in FORM_CONSTANTS[self.form]], axis=1)

    def theta(self, constants: Mapping[str, float]) -> np.ndarray:
        """Inverse of :meth:`constants`."""
        return np.array(
            [constants[a] for a in self.exponents]
            + [math.log(constants[c]) for c in self.coefficients]
            + [math.log(constants["E"])]
        )


LSE_SPECS: dict[Form, LseSpec] = {
    Form.CHINCHILLA: LseSpec(Form.CHINCHILLA, ("params", "tokens"), ("alpha", "beta"), ("A", "B")),
    Form.WIDTH_DEPTH: LseSpec(
        Form.WIDTH_DEPTH,
        ("width", "depth", "params", "tokens"),
        ("alpha_w", "alpha_d", "alpha_p", "beta"),
        ("A_w", "A_d", "A_p", "B"),
    ),
    Form.WIDTH_DEPTH_ALT: LseSpec(
        Form.WIDTH_DEPTH_ALT,
        ("width", "depth", "tokens"),
        ("alpha_w", "alpha_d", "beta"),
        ("A_w", "A_d", "B"),
    ),
}


def spec_for(form: Form) -> LseSpec:
    """The LSE spec of ``form``; ``ValueError`` for forms Approach 3 cannot fit this way."""
    try:
        return LSE_SPECS[form]
    except KeyError:
        raise ValueError(
            f"form: approach3 fits {', '.join(map(str, LSE_SPECS))} or data-constrained, not {form}"
        ) from None


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
