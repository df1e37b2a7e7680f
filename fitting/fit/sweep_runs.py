"""A sweep's runs, as stored, to the rows of a hyper-parameter fit (docs/laws.md §18.6).

A stored run is many evaluations of one training run (``POST /v1/runs``, a sweep's
``runs.jsonl``). The hyper-parameter fit (``fit.hyper``) wants one row per run: its
parameters, its planned tokens D, its peak learning rate, its global batch in tokens and
its loss at D. So each run gives its evaluation at the end its schedule plans
(``schedule.total_tokens``; without one, its last), the peak LR its schedule names and
the batch of its ``batch_tokens`` (a column, or the tag the trainer writes). A run that
has not reached its planned end, or says no peak LR or batch, is left out and named.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.schedules import Schedule, schedule_from_dict

__all__ = ["SweepRows", "sweep_rows", "swept"]


@dataclass(frozen=True)
class SweepRows:
    """One row per run: the columns ``fit.hyper.fit_hyperparams`` takes."""

    params: np.ndarray
    tokens: np.ndarray
    learning_rate: np.ndarray
    batch_tokens: np.ndarray
    loss: np.ndarray
    runs: tuple[str, ...]
    left_out: tuple[str, ...]
    """Why each run left out was (one line each)."""
    sequence_length: int | None = None
    """The runs' tokens per sequence (their ``sequence_length`` tag), when all kept runs
    name the same one."""


def _schedule(rows: list[Mapping[str, Any]]) -> Schedule | None:
    """The run's schedule (the first row that names one; ``None`` for none or a bad one)."""
    for row in rows:
        value = row.get("schedule")
        if isinstance(value, Schedule):
            return value
        if isinstance(value, Mapping):
            try:
                return schedule_from_dict(value)
            except (TypeError, ValueError):
                return None
    return None


def _batch_tokens(row: Mapping[str, Any]) -> float | None:
    value = row.get("batch_tokens")
    if value is None:
        value = (row.get("tags") or {}).get("batch_tokens")
    try:
        number = float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _sequence_length(rows: list[Mapping[str, Any]]) -> int | None:
    """The one ``sequence_length`` tag of ``rows`` (``None`` for none, several or a bad one)."""
    found = {str((row.get("tags") or {}).get("sequence_length", "")) for row in rows}
    if len(found) != 1:
        return None
    text = found.pop()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _final(
    run: str, rows: list[Mapping[str, Any]], schedule: Schedule | None
) -> tuple[Mapping[str, Any] | None, str]:
    """The run's evaluation at its planned end, or why there is none."""
    last = max(rows, key=lambda r: float(r["tokens"]))
    end = None if schedule is None else schedule.total_tokens
    if end is None:
        return last, ""
    at_end = [r for r in rows if math.isclose(float(r["tokens"]), end, rel_tol=1e-9)]
    if not at_end:
        return (
            None,
            f"{run}: stopped at {float(last['tokens']):.4g} of its planned {end:.4g} tokens",
        )
    return at_end[0], ""


def swept(n: np.ndarray, d: np.ndarray, lr: np.ndarray, batch: np.ndarray) -> bool:
    """Whether some (N, D) was trained at two or more (LR, batch) points.

    >>> one = np.ones(2)
    >>> swept(one, one, np.array([1e-3, 3e-3]), one), swept(one, one, one, one)
    (True, False)
    """
    points: dict[tuple[float, float], set[tuple[float, float]]] = {}
    for key, point in zip(zip(n, d, strict=True), zip(lr, batch, strict=True), strict=True):
        points.setdefault(key, set()).add(point)
    return max(len(p) for p in points.values()) >= 2


def sweep_rows(records: Iterable[Mapping[str, Any]]) -> SweepRows:
    """The final evaluation of every run in ``records`` (dicts with run, params, tokens,
    loss, schedule and batch_tokens or tags); ``ArgumentError`` naming ``runs`` when no
    run gives all of them, or no (N, D) was swept."""
    by_run: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_run.setdefault(str(record["run"]), []).append(record)
    names: list[str] = []
    kept: list[list[float]] = []
    finals: list[Mapping[str, Any]] = []
    left: list[str] = []
    for run, rows in by_run.items():
        schedule = _schedule(rows)
        final, why = _final(run, rows, schedule)
        batch = None if final is None else _batch_tokens(final)
        if final is None:
            left.append(why)
        elif schedule is None:
            left.append(f"{run}: names no peak learning rate (a schedule with peak_lr)")
        elif batch is None:
            left.append(f"{run}: says no batch in tokens (batch_tokens)")
        else:
            values = (final["params"], final["tokens"], schedule.peak_lr, batch, final["loss"])
            names.append(run)
            finals.append(final)
            kept.append([float(v) for v in values])
    if not kept:
        why = f" ({left[0]})" if left else ""
        raise ArgumentError("runs", f"no run gives its final loss, peak LR and batch{why}")
    n, d, lr, b, y = np.asarray(kept, dtype=float).T
    if not swept(n, d, lr, b):
        raise ArgumentError(
            "runs",
            "no (N, D) was trained at more than one learning rate or batch: not an LR or "
            "batch sweep (flopwise sweep --lr-grid/--batch-grid runs one)",
        )
    seq = _sequence_length(finals)
    return SweepRows(n, d, lr, b, y, tuple(names), tuple(left), seq)
