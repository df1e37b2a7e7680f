"""Approach 1 (Hoffmann et al. 2022 §3.1): the runs on the lowest-loss envelope of
compute are the optima (Gemstones' lower convex hull, or Chinchilla's minimum per
log-spaced FLOP bin)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from flopwise.fitting.fit.envelope import DEFAULT_BINS, binned_minimum, lower_hull
from flopwise.fitting.fit.methods.power_law import PowerLawMethod
from flopwise.fitting.fit.optima import Optima
from flopwise.fitting.fit.pipeline import Context
from flopwise.fitting.runs import Runs

__all__ = ["Approach1", "envelope_optima"]


def envelope_optima(runs: Runs, flops: np.ndarray, *, envelope: str, n_bins: int) -> Optima:
    """Approach 1: the runs on the lowest-loss envelope of compute."""
    if envelope == "hull":
        index = lower_hull(flops, runs.loss)
    else:
        index = binned_minimum(flops, runs.loss, n_bins or DEFAULT_BINS)
    return Optima(flops[index], runs.params[index], runs.tokens[index], runs.loss[index])


class Approach1(PowerLawMethod):
    """Envelope optima, then power laws."""

    name = "approach1"

    def find(self, ctx: Context) -> tuple[Optima, Callable[[Any, np.ndarray], Optima]]:
        o = ctx.options
        self.extra = {"envelope": o.envelope}
        fn = partial(envelope_optima, envelope=o.envelope, n_bins=o.n_bins)
        return fn(ctx.runs, ctx.flops), fn
