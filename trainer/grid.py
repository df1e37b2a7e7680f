"""Learning-rate and batch sweeps: every planned model trained at each point of a grid
(docs/laws.md §18.6).

``lr_grid`` (peak learning rates) and ``batch_grid`` (global batches, sequences per
step) multiply each model of a plan. A model's grid runs share its shape and its
tokens D (whole steps at every batch of the grid), so each (N, D) of the sweep has one
final loss per grid point: what ``flopwise fit-hyperparams`` and
``POST /v1/hyperparams/fit`` read (a parabola in log LR and log batch around the best
point, then the power law in N and D). The plan shares each model's compute among its
points, so the sweep stays within its budget; the grid costs its size in runs. Every
run is filed under the sweep's dataset; the loss law is fitted on each model's best
point, whose evaluations are filed again under :func:`best_dataset`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["best_dataset", "best_runs", "grid_points", "point_suffix", "tokens_quantum"]


def grid_points(lr_grid: Sequence[float], batch_grid: Sequence[int]) -> list[tuple[float, int]]:
    """Every (peak LR, batch) point; 0 stands for the family's rule or batch.

    >>> grid_points((1e-3, 3e-3), ())
    [(0.001, 0), (0.003, 0)]
    >>> len(grid_points((1e-3, 3e-3, 1e-2), (8, 16)))
    6
    """
    return [(lr, batch) for batch in batch_grid or (0,) for lr in lr_grid or (0.0,)]


def point_suffix(lr: float, batch: int) -> str:
    """What a grid point adds to a run id (nothing without a grid).

    >>> point_suffix(3e-3, 16), point_suffix(0.0, 0)
    ('-lr0.003-b16', '')
    """
    return "".join(part for part in (lr and f"-lr{lr:.3g}", batch and f"-b{batch}") if part)


def tokens_quantum(batches: Sequence[int], seq_len: int) -> int:
    """Tokens that are whole steps at every batch (sequences) of the grid: a model's grid
    runs all train on a multiple of it, so they share D.

    >>> tokens_quantum((8, 12), 128)
    3072
    """
    return math.lcm(*batches) * seq_len


def best_dataset(dataset: str) -> str:
    """Where a grid sweep files each model's best point (its loss law's data)."""
    return f"{dataset[:59]}-best"


def best_runs(records: Mapping[str, list[dict[str, Any]]], models: Mapping[str, str]) -> list[str]:
    """Per model, the grid run whose last evaluation has the lowest loss (``records``: run
    -> its evaluations, finished runs only; ``models``: run -> its model).

    >>> rec = {"a": [{"loss": 3.0}], "b": [{"loss": 2.5}], "c": [{"loss": 4.0}]}
    >>> best_runs(rec, {"a": "m1", "b": "m1", "c": "m2"})
    ['b', 'c']
    """
    best: dict[str, tuple[float, str]] = {}
    for run, rows in records.items():
        if rows and run in models:
            loss = float(rows[-1]["loss"])
            model = models[run]
            if model not in best or loss < best[model][0]:
                best[model] = (loss, run)
    return sorted(run for _, run in best.values())
