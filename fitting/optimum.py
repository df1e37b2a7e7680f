"""The optimum of a law over a batch of budgets: (N*, D*, loss) and, for laws that
choose the shape themselves, (width, depth).

Each form says how (``fitting.forms``): closed forms where they exist (Chinchilla
Eq. 4, Kaplan Table 6, power laws); a vectorised golden-section search in log N for
data-constrained (Muennighoff et al.) and inference-aware (Sardana et al.) optima; the
convex hull over every feasible shape for width-depth laws (``fitting.shape``).
"""

from __future__ import annotations

import numpy as np

from flopwise.fitting.forms import law_form
from flopwise.fitting.forms.data_constrained import MUENNIGHOFF_R_D, MUENNIGHOFF_R_N
from flopwise.fitting.laws import Law
from flopwise.fitting.shape import ShapeConstraints

__all__ = ["MUENNIGHOFF_R_D", "MUENNIGHOFF_R_N", "optimum"]


def optimum(
    law: Law,
    flops: np.ndarray,
    family_constraints: ShapeConstraints,
    unique_tokens: float | None,
    inference_tokens: float | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, tuple[np.ndarray, np.ndarray] | None]:
    """(N*, D*, loss or None, (width, depth) when the law chooses the shape itself)."""
    return law_form(law).optimum(law, flops, family_constraints, unique_tokens, inference_tokens)
