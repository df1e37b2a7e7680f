"""Calibration checks of predictive intervals: fit on the smaller models of a suite,
predict the larger ones, count how often their measured losses fall inside."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import Law
from flopwise.fitting.predict import predict
from flopwise.fitting.runs import Runs
from flopwise.fitting.uncertainty import check_level

__all__ = ["Coverage", "coverage", "size_split"]


@dataclass(frozen=True)
class Coverage:
    """How a law's intervals fared on held-out observations."""

    level: float
    n_points: int
    covered: int
    median_half_width: float
    """Median of (hi - lo) / 2 / predicted loss: the interval's typical relative size."""
    median_abs_error: float
    """Median |predicted / measured - 1|."""

    @property
    def fraction(self) -> float:
        return self.covered / self.n_points if self.n_points else float("nan")


def size_split(runs: Runs, train_share: float) -> tuple[Runs, Runs]:
    """(smaller, larger): the ``train_share`` smallest model sizes and the rest."""
    if not 0 < train_share < 1:
        raise ArgumentError("train_share", f"must be in (0, 1), got {train_share!r}")
    sizes = np.unique(runs.params)
    n_train = round(train_share * len(sizes))
    if not 0 < n_train < len(sizes):
        raise ArgumentError("runs", f"{len(sizes)} model sizes cannot be split {train_share}")
    small = runs.params <= sizes[n_train - 1]
    return runs.subset(np.flatnonzero(small)), runs.subset(np.flatnonzero(~small))


def coverage(law: Law, held_out: Runs, level: float) -> Coverage:
    """Predict every held-out observation with ``law`` and score its intervals."""
    level = check_level(level)
    inside, half, err = [], [], []
    for i in range(len(held_out)):
        width = None if held_out.width is None else int(held_out.width[i])
        depth = None if held_out.depth is None else int(held_out.depth[i])
        p = predict(
            law,
            params=float(held_out.params[i]),
            tokens=float(held_out.tokens[i]),
            width=width,
            depth=depth,
            level=level,
        )
        assert p.loss_interval is not None
        lo, hi = p.loss_interval
        actual = float(held_out.loss[i])
        inside.append(lo <= actual <= hi)
        half.append((hi - lo) / 2.0 / p.loss)
        err.append(abs(p.loss / actual - 1.0))
    return Coverage(
        level=level,
        n_points=len(inside),
        covered=int(np.sum(inside)),
        median_half_width=float(np.median(half)),
        median_abs_error=float(np.median(err)),
    )
