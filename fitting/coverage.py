"""Calibration checks of predictive intervals: fit on the smaller models of a suite,
predict the larger ones, count how often their measured losses fall inside.

:data:`CASES` are the bundled suites, each in the form its authors fit: the
Epoch/Chinchilla points and Porian et al.'s isoFLOP points in the Chinchilla form,
Gemstones in its width-depth form (Eq. 2, delta 1e-4). ``tests/fitting/test_coverage.py``
holds every case to 80-97% coverage at level 0.9; ``bench/bench_coverage.py`` prints
the table in ``bench/RESULTS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.datasets import load_dataset
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.fit import fit
from flopwise.fitting.laws import Law
from flopwise.fitting.prediction import predict
from flopwise.fitting.runs import Runs
from flopwise.fitting.stats import check_level

__all__ = ["CASES", "Case", "Coverage", "coverage", "run_case", "size_split"]


@dataclass(frozen=True)
class Case:
    """One calibration check: a bundled dataset, the form fitted, the split."""

    dataset: str
    form: str
    train_share: float = 0.7
    """Share of model sizes (smallest first) fitted; the rest are predicted."""
    bootstrap: int = 20
    delta: float = 1e-3


CASES = (
    Case("epoch-chinchilla", "chinchilla"),
    Case("gemstones-hot", "width-depth", bootstrap=8, delta=1e-4),
    Case("gemstones-hot-100b", "width-depth", bootstrap=8, delta=1e-4),
    Case("porian-2024", "chinchilla"),
)


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


def run_case(case: Case, level: float = 0.9, seed: int = 0) -> tuple[Coverage, Law]:
    """Fit ``case``'s smaller models (one worker), score the larger ones."""
    data = load_dataset(case.dataset)
    train, test = size_split(data.runs, case.train_share)
    implied: dict[str, Any] = {"n_definition": data.n_definition}
    if data.family is not None:
        implied["family"] = data.family
    report = fit(
        train,
        form=case.form,
        bootstrap=case.bootstrap,
        delta=case.delta,
        seed=seed,
        workers=1,
        **implied,
    )
    if report.law is None:
        raise RuntimeError(f"{case.dataset}: the fit failed: {report.message}")
    return coverage(report.law, test, level), report.law


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
