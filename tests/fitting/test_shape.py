"""The aspect-policy shape search equals an exhaustive scan of every feasible shape."""

from __future__ import annotations

import numpy as np
import pytest

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.shape import ASPECT_WEIGHT, ShapeConstraints, law_params, shapes_for_params

CONSTRAINTS = [
    ShapeConstraints(),
    ShapeConstraints(aspect_ratio=16.0),  # a window around the aspect depth missed here
    ShapeConstraints(aspect_ratio=1000.0, max_depth=64),
    ShapeConstraints(head_dim=256, kv_group=4),  # coarse widths: so did it here
    ShapeConstraints(min_depth=40, max_depth=48, max_width=8192),
]


@pytest.mark.parametrize("law_id", ["epoch-2024", "porian-2024", "deepseek-2024"])
@pytest.mark.parametrize("constraints", CONSTRAINTS)
def test_shape_search_finds_the_exhaustive_optimum(
    law_id: str, constraints: ShapeConstraints
) -> None:
    law = builtin(law_id)
    family = constraints.family(law.family)
    w, d = (g.ravel() for g in np.meshgrid(
        constraints.widths(family), np.arange(constraints.min_depth, constraints.max_depth + 1)
    ))  # fmt: skip
    p = law_params(law.n_definition, family, w, d).astype(float)
    aspect = ASPECT_WEIGHT * np.abs(np.log(w / d / constraints.aspect_ratio))
    rng = np.random.default_rng(7)
    # targets across the grid's counts, and beyond both ends of it
    targets = np.exp(rng.uniform(np.log(p.min()) - 1.0, np.log(p.max()) + 1.0, 60))
    widths, depths = shapes_for_params(law.n_definition, family, targets, constraints)
    for target, width, depth in zip(targets, widths, depths, strict=True):
        cost = np.abs(np.log(p / target)) + aspect
        chosen = cost[(w == width) & (d == depth)]
        assert chosen.size == 1  # a feasible shape
        assert chosen[0] <= cost.min() + 1e-12, (target, width, depth)
    one = shapes_for_params(law.n_definition, family, targets[:1], constraints)
    assert (int(one[0][0]), int(one[1][0])) == (widths[0], depths[0])
