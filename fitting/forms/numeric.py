"""How Approach 3 fits a form that is no LSE power law: summed Huber loss on log loss over
the form's own loss function (Hoffmann et al. 2022 §3.3, as Krajewski et al. 2024 §5.3 fit
their MoE law), from a grid of starts, with gradients by central differences. The fit
engine runs it (``fitting.fit.methods.numeric``); a form describes only what to fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

__all__ = ["NumericSpec"]


@dataclass(frozen=True)
class NumericSpec:
    """A form's constants as the numeric fit sees them.

    ``theta`` holds the constants in :attr:`names` order, those in :attr:`logs` as
    natural logs (positive coefficients); :attr:`bounds` and :attr:`starts` are in that
    space.
    """

    inputs: tuple[str, ...]
    """Run columns the loss reads besides ``params`` and ``tokens``."""
    names: tuple[str, ...]
    """Fitted constants, in theta order."""
    logs: tuple[str, ...]
    """Constants fitted as logs (they must stay positive)."""
    bounds: Mapping[str, tuple[float, float]]
    starts: Mapping[str, tuple[float, ...]]
    """Start values per constant; the grid is their product."""

    def constants(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Named constants of theta rows ``(S, p)``, as ``(S, 1)`` columns."""
        out = {}
        for j, name in enumerate(self.names):
            col = theta[:, j : j + 1]
            out[name] = np.exp(col) if name in self.logs else col
        return out

    def theta(self, constants: Mapping[str, float]) -> np.ndarray:
        """Inverse of :meth:`constants` for one law."""
        return np.array(
            [np.log(constants[n]) if n in self.logs else constants[n] for n in self.names]
        )

    def lower_upper(self) -> tuple[np.ndarray, np.ndarray]:
        """Bounds on theta."""
        return (
            np.array([self.bounds[n][0] for n in self.names], dtype=float),
            np.array([self.bounds[n][1] for n in self.names], dtype=float),
        )

    def grid(self) -> np.ndarray:
        """Every combination of the start values, ``(S, p)``."""
        axes = [np.asarray(self.starts[n], dtype=float) for n in self.names]
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=1)
