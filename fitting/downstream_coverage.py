"""Calibration of downstream intervals: fit a chain on the smaller models, predict the
held-out runs' final metric, count how often it falls inside (docs/laws.md §20).

On the bundled OLMo ladder (``olmo-ladder``) the check holds out the 3B runs, as a user
scaling past their ladder would: ``bench/bench_downstream.py`` prints the per-task
errors and coverage in ``bench/RESULTS.md``; ``tests/fitting/test_downstream_ladder.py``
holds a subset to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.downstream import chain
from flopwise.fitting.fit.downstream import ChainReport, final_metric, final_rows, fit_chain
from flopwise.fitting.runs import Runs
from flopwise.fitting.stats import interval

__all__ = ["HeldOut", "held_out"]


@dataclass(frozen=True)
class HeldOut:
    """One held-out run: its final metric, the chain's prediction and interval."""

    run: str
    actual: float
    predicted: float
    interval: tuple[float, float] | None
    curve_interval: tuple[float, float] | None

    @property
    def inside(self) -> bool:
        band = self.interval
        return band is not None and band[0] <= self.actual <= band[1]


def held_out(
    runs: Runs,
    test: np.ndarray,
    *,
    metric: str,
    via: str,
    link: str = "sigmoid",
    bootstrap: int = 100,
    seed: int = 0,
    level: float = 0.9,
    floor: float = 0.25,
    options: Mapping[str, Any] | None = None,
) -> tuple[ChainReport, list[HeldOut]]:
    """Fit the chain on the runs outside ``test`` (a mask), predict each test run's final
    ``metric`` (as the link reads it) at its final N and D, with ``level`` intervals."""
    train = runs.subset(~test)
    report = fit_chain(train, metric=metric, via=via, link=link, bootstrap=bootstrap, seed=seed,
                       level=level, floor=floor, law_id=f"held-out-{via}",
                       options={"workers": 1, **(options or {})})  # fmt: skip
    if not report.success or report.step1 is None:
        return report, []
    link_ = report.downstream_link(nested=False)
    law = report.step1.evolve(downstream={metric: link_})
    held = runs.subset(test)
    x, y = held.metric(via) if via != "loss" else held.loss, held.metric(metric)
    actual = final_metric(link, held, x, y)
    last = final_rows(held, x)
    c = chain(law, link_, params=last.params, tokens=last.tokens)
    out = [
        HeldOut(
            run=str(r),
            actual=actual[str(r)],
            predicted=float(c.value[i]),
            interval=interval(c.runs[i], level),
            curve_interval=None if c.curve is None else interval(c.curve[i], level),
        )
        for i, r in enumerate(last.run)
    ]
    return report, out
