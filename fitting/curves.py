"""What a schedule-aware law reads of a run's learning-rate history.

Tissue et al. 2024 (arXiv:2408.11029) and Luo et al. 2025 (arXiv:2503.12811) predict the
loss at a point of a run from sums over its LR history up to that point (docs/laws.md
§21). A history is the LR on a grid of tokens: from the run's :class:`Schedule` when it
names one, else piecewise linear through the LRs its observations logged (held at the
first logged LR before the first observation). :class:`Curves` holds, for each
observation, the sums every such law needs, in tokens:

* ``area``: the LR area ∫ η dD up to the observation, warmup included (Luo et al.'s
  S1 + S_W, :func:`lr_area`);
* ``flat_area``: the same with warmup counted at the LR it warms up to (Tissue et al.'s
  S1, their §3.4);
* per decay step k of the grid up to the observation: the LR drop ``drop`` η_{k-1} - η_k,
  the LR ``lr`` η_k, the area ``after`` since that step (Luo et al.'s S_k(t)) and the
  tokens ``since`` it (what Tissue et al.'s momentum decays over).

Warmup steps, where the LR rises, are not decay steps. Rows are padded to a common
number of steps with zero drops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.runs import Runs
from flopwise.fitting.schedules import Schedule, lr_at

__all__ = ["GRID_POINTS", "Curves", "History", "curves_of", "history_of", "lr_area"]

GRID_POINTS = 96
"""Grid points over one run's history (plus the schedule's breakpoints)."""


def lr_area(tokens: np.ndarray, lr: np.ndarray) -> np.ndarray:
    """∫ η dD from the first grid point to each one (trapezoids): Luo et al. 2025's
    S1(t) + S_W, the LR summed over steps, in LR x tokens.

    A constant 1e-3 over 2e9 tokens after a 1e8-token warmup from 0 has area
    5e4 + 2e6 = 2.05e6 (docs/laws.md §21.1).

    >>> float(lr_area(np.array([0.0, 1e8, 2.1e9]), np.array([0.0, 1e-3, 1e-3]))[-1])
    2050000.0
    """
    steps = 0.5 * (lr[1:] + lr[:-1]) * np.diff(tokens)
    return np.concatenate([[0.0], np.cumsum(steps)])


@dataclass(frozen=True, eq=False)
class History:
    """One run's LR on a grid of tokens starting at 0."""

    tokens: np.ndarray
    lr: np.ndarray

    @property
    def warmup_end(self) -> int:
        """Index of the first grid point at the history's largest LR."""
        return int(np.argmax(self.lr >= self.lr.max() * (1.0 - 1e-12)))


def history_of(
    schedule: Schedule | None,
    tokens: np.ndarray,
    lr: np.ndarray | None,
    points: int = GRID_POINTS,
) -> History:
    """The LR history up to the last of ``tokens``: ``schedule``'s when given, else
    piecewise linear through ``(tokens, lr)``."""
    end = float(np.max(tokens))
    grid = np.linspace(0.0, end, points)
    if schedule is not None:
        breaks = [b for b in schedule.breakpoints() if b < end]
        grid = np.unique(np.concatenate([grid, breaks]))
        return History(grid, np.asarray(lr_at(schedule, grid), dtype=float))
    if lr is None or not np.all(np.isfinite(lr)):
        raise ArgumentError("lr", "a run without a schedule needs an lr value at every row")
    order = np.argsort(tokens, kind="stable")
    return History(grid, np.interp(grid, np.asarray(tokens)[order], np.asarray(lr)[order]))


@dataclass(frozen=True, eq=False)
class Curves:
    """Per observation, the LR-history sums of docs/laws.md §21 (see the module)."""

    area: np.ndarray
    flat_area: np.ndarray
    drop: np.ndarray
    lr: np.ndarray
    after: np.ndarray
    since: np.ndarray

    def __len__(self) -> int:
        return len(self.area)

    def subset(self, index: np.ndarray) -> Curves:
        """Rows by a boolean mask or an index array (repeats allowed)."""
        return Curves(
            *(
                getattr(self, f)[index]
                for f in ("area", "flat_area", "drop", "lr", "after", "since")
            )
        )

    @classmethod
    def of_history(cls, history: History, tokens: np.ndarray) -> Curves:
        """The sums at each of ``tokens`` (at most the history's end)."""
        g, e = history.tokens, history.lr
        area = lr_area(g, e)
        w = history.warmup_end
        flat = np.where(np.arange(len(g)) < w, e[w], e)
        t = np.asarray(tokens, dtype=float)
        at = np.interp(t, g, area)
        steps = np.arange(w + 1, len(g))
        steps = steps[e[steps - 1] != e[steps]]
        reached = g[steps][None, :] <= t[:, None] * (1.0 + 1e-12)
        drop = np.where(reached, (e[steps - 1] - e[steps])[None, :], 0.0)
        return cls(
            area=at,
            flat_area=np.interp(t, g, lr_area(g, flat)),
            drop=drop,
            lr=np.where(reached, e[steps][None, :], 1.0),
            after=np.where(reached, at[:, None] - area[steps][None, :], 0.0),
            since=np.where(reached, t[:, None] - g[steps][None, :], 0.0),
        )

    @classmethod
    def stack(cls, parts: Sequence[Curves], order: np.ndarray | None = None) -> Curves:
        """Rows of several :class:`Curves` in one, padded to the widest; ``order``
        puts row ``i`` of the result at position ``order[i]`` of the concatenation."""
        width = max((p.drop.shape[1] for p in parts), default=0)

        def cat(name: str, fill: float) -> np.ndarray:
            cols = [getattr(p, name) for p in parts]
            if cols[0].ndim == 1:
                out = np.concatenate(cols)
            else:
                out = np.concatenate(
                    [np.pad(c, ((0, 0), (0, width - c.shape[1])), constant_values=fill)
                     for c in cols]
                )  # fmt: skip
            return out if order is None else out[order]

        return cls(
            area=cat("area", 0.0),
            flat_area=cat("flat_area", 0.0),
            drop=cat("drop", 0.0),
            lr=cat("lr", 1.0),
            after=cat("after", 0.0),
            since=cat("since", 0.0),
        )


def curves_of(runs: Runs, points: int = GRID_POINTS) -> Curves:
    """:class:`Curves` of every observation, each run's history built from its schedule
    (the first one its rows name) or its ``lr`` column; rows in ``runs``' order."""
    ids = np.asarray(runs.run).astype(str)
    parts, where = [], []
    for name in dict.fromkeys(ids):
        rows = np.flatnonzero(ids == name)
        schedule = _run_schedule(runs, rows)
        lr = None if runs.lr is None else runs.lr[rows]
        if schedule is None and lr is None:
            raise ArgumentError(
                "lr", f"run {name!r} names no schedule and logs no learning rate: a loss-curve "
                "law needs one of them",
            )  # fmt: skip
        tokens = runs.tokens[rows]
        parts.append(Curves.of_history(history_of(schedule, tokens, lr, points), tokens))
        where.append(rows)
    position = np.empty(len(runs), dtype=np.int64)
    position[np.concatenate(where)] = np.arange(len(runs))
    return Curves.stack(parts, order=position)


def _run_schedule(runs: Runs, rows: np.ndarray) -> Schedule | None:
    if runs.schedule is None:
        return None
    named = [s for s in runs.schedule[rows] if s is not None]
    if not named:
        return None
    return named[0].with_total(float(np.max(runs.tokens[rows])))
