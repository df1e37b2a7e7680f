"""Training-run observations as columns: what fits consume and the service stores.

One observation is one evaluation of one run: a model (params, optionally width
and depth) after some tokens, with its loss. Constant-LR runs evaluated at many
token counts give many observations per run (Gemstones); bootstrap resamples whole
runs, so each observation carries its run id.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.schedules import Schedule, schedule_from_dict

__all__ = ["Runs"]

_FLOAT_COLUMNS = ("params", "tokens", "loss")
_OPTIONAL_FLOAT = ("flops", "seconds_per_step", "active_params", "granularity")
_FRACTIONS = ("sparsity",)
"""Optional columns in [0, 1)."""
_OPTIONAL_INT = ("width", "depth")
_MOE_COLUMNS = ("active_params", "granularity", "sparsity")
_CURVE_COLUMNS = ("lr", "schedule")


@dataclass(frozen=True, eq=False)
class Runs:
    """Columns of observations; optional columns are ``None`` when absent for all rows."""

    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray
    run: np.ndarray
    """Run id of each observation (object array of str)."""
    width: np.ndarray | None = None
    depth: np.ndarray | None = None
    flops: np.ndarray | None = None
    seconds_per_step: np.ndarray | None = None
    active_params: np.ndarray | None = None
    """Mixture-of-experts runs: parameters one token passes through (``params`` is
    then the total the law counts)."""
    granularity: np.ndarray | None = None
    """Mixture-of-experts runs: d_ff / d_expert (Krajewski et al. 2024)."""
    sparsity: np.ndarray | None = None
    """Mixture-of-experts runs: 1 - top_k / experts (Abnar et al. 2025)."""
    lr: np.ndarray | None = None
    """The learning rate in force at each observation (NaN where a row gives none)."""
    schedule: np.ndarray | None = None
    """Each observation's run schedule (object array of ``Schedule`` or ``None``)."""
    metrics: Mapping[str, np.ndarray] | None = None
    """Named metrics besides the loss (a task's accuracy, its bits per byte), one column
    each, NaN where an observation does not carry that metric (docs/laws.md §20)."""

    def __post_init__(self) -> None:
        n = len(self.loss)
        for name in (
            "params",
            "tokens",
            "loss",
            "run",
            "width",
            "depth",
            "flops",
            "seconds_per_step",
            *_MOE_COLUMNS,
            *_CURVE_COLUMNS,
        ):
            col = getattr(self, name)
            if col is not None and len(col) != n:
                raise ArgumentError(name, f"expected {n} values, got {len(col)}")
        for name, col in (self.metrics or {}).items():
            if len(col) != n:
                raise ArgumentError("metrics", f"{name}: expected {n} values, got {len(col)}")

    def __len__(self) -> int:
        return len(self.loss)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Runs:
        """Build from dicts with keys params, tokens, loss and optionally run, width,
        depth, flops, seconds_per_step, active_params, granularity, sparsity (each also
        read from the row's ``tags`` when absent), lr (the LR at that step, >= 0) and
        schedule (a ``Schedule`` or its dict). Values are
        checked: a non-numeric, non-finite or non-positive value raises ``ValueError``
        naming the row and field."""
        rows = list(records)
        cols: dict[str, list[Any]] = {
            k: []
            for k in (
                *_FLOAT_COLUMNS,
                *_OPTIONAL_FLOAT,
                *_FRACTIONS,
                *_OPTIONAL_INT,
                *_CURVE_COLUMNS,
                "run",
            )
        }
        for i, row in enumerate(rows):
            for key, value in _row(i, row).items():
                cols[key].append(value)
        metrics = _metric_columns(rows)

        def optional(key: str, dtype: type) -> np.ndarray | None:
            values = cols[key]
            if any(v is None for v in values) or not values:
                return None
            return np.asarray(values, dtype=dtype)

        return cls(
            params=np.asarray(cols["params"], dtype=float),
            tokens=np.asarray(cols["tokens"], dtype=float),
            loss=np.asarray(cols["loss"], dtype=float),
            run=np.asarray(cols["run"], dtype=object),
            width=optional("width", np.int64),
            depth=optional("depth", np.int64),
            flops=optional("flops", float),
            seconds_per_step=optional("seconds_per_step", float),
            **{k: optional(k, float) for k in _MOE_COLUMNS},
            lr=_partial(cols["lr"], float),
            schedule=_partial(cols["schedule"], object),
            metrics=metrics,
        )

    def metric(self, name: str) -> np.ndarray:
        """The column of metric ``name`` (NaN where absent); ``ArgumentError`` naming
        ``metrics`` when no observation carries it."""
        if not self.metrics or name not in self.metrics:
            known = ", ".join(sorted(self.metrics or {})) or "none"
            raise ArgumentError("metrics", f"no metric {name!r} in the runs (metrics: {known})")
        return np.asarray(self.metrics[name], dtype=float)

    def subset(self, index: np.ndarray) -> Runs:
        """Rows selected by a boolean mask or an index array (repeats allowed)."""

        def take(col: np.ndarray | None) -> np.ndarray | None:
            return None if col is None else col[index]

        return Runs(
            params=self.params[index],
            tokens=self.tokens[index],
            loss=self.loss[index],
            run=self.run[index],
            width=take(self.width),
            depth=take(self.depth),
            flops=take(self.flops),
            seconds_per_step=take(self.seconds_per_step),
            **{k: take(getattr(self, k)) for k in (*_MOE_COLUMNS, *_CURVE_COLUMNS)},
            metrics=None
            if self.metrics is None
            else {k: v[index] for k, v in self.metrics.items()},
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per observation (inverse of :meth:`from_records`)."""
        out = []
        for i in range(len(self)):
            rec: dict[str, Any] = {
                "run": str(self.run[i]),
                "params": float(self.params[i]),
                "tokens": float(self.tokens[i]),
                "loss": float(self.loss[i]),
            }
            for key in ("width", "depth"):
                col = getattr(self, key)
                if col is not None:
                    rec[key] = int(col[i])
            for key in ("flops", "seconds_per_step", *_MOE_COLUMNS):
                col = getattr(self, key)
                if col is not None:
                    rec[key] = float(col[i])
            if self.lr is not None and np.isfinite(self.lr[i]):
                rec["lr"] = float(self.lr[i])
            if self.schedule is not None and self.schedule[i] is not None:
                rec["schedule"] = self.schedule[i].to_dict()
            values = {k: float(v[i]) for k, v in (self.metrics or {}).items() if np.isfinite(v[i])}
            if values:
                rec["metrics"] = values
            out.append(rec)
        return out


def _row(i: int, row: Mapping[str, Any]) -> dict[str, Any]:
    """Row ``i``'s checked values by column (``None`` where an optional one is absent)."""
    out: dict[str, Any] = {
        key: _positive(row.get(key), f"row {i}: {key}") for key in _FLOAT_COLUMNS
    }
    for key in _OPTIONAL_FLOAT:
        value = _field(row, key)
        out[key] = None if value is None else _positive(value, f"row {i}: {key}")
    for key in _FRACTIONS:
        value = _field(row, key)
        out[key] = None if value is None else _fraction(value, f"row {i}: {key}")
    for key in _OPTIONAL_INT:
        value = row.get(key)
        if value is not None:
            value = _positive(value, f"row {i}: {key}")
            if value != int(value):
                raise ValueError(f"row {i}: {key} must be a whole number, got {value}")
        out[key] = value
    out["run"] = str(row.get("run", f"row-{i}"))
    out["lr"] = _lr(row.get("lr"), f"row {i}: lr")
    out["schedule"] = _schedule(row.get("schedule"), f"row {i}: schedule")
    return out


def _field(row: Mapping[str, Any], key: str) -> Any:
    """``row[key]``; an MoE column absent there is read from the row's ``tags`` (where a
    calibration sweep's MoE runs carry it, as strings: the service stores them so)."""
    value = row.get(key)
    if value is None and key in _MOE_COLUMNS:
        tags = row.get("tags")
        value = tags.get(key) if isinstance(tags, Mapping) else None
        with contextlib.suppress(TypeError, ValueError):  # the check names a bad value
            value = None if value is None else float(value)
    return value


def _partial(values: list[Any], dtype: type) -> np.ndarray | None:
    """A column some rows may lack (NaN or ``None`` there); ``None`` when all lack it."""
    if all(v is None for v in values):
        return None
    if dtype is float:
        return np.array([np.nan if v is None else v for v in values], dtype=float)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _lr(value: Any, where: str) -> float | None:
    if value is None:
        return None
    number = _number(value, where)
    if not math.isfinite(number) or number < 0:
        raise ValueError(f"{where} must be non-negative and finite, got {value!r}")
    return number


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{where} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number, got {value!r}") from None


def _schedule(value: Any, where: str) -> Schedule | None:
    if value is None or isinstance(value, Schedule):
        return value
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be an object with kind and peak_lr, got {value!r}")
    try:
        return schedule_from_dict(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def _metric_columns(rows: list[Mapping[str, Any]]) -> dict[str, np.ndarray] | None:
    """The rows' ``metrics`` mappings as columns (NaN where a row lacks one); values
    must be finite numbers."""
    names: dict[str, None] = {}
    for i, row in enumerate(rows):
        given = row.get("metrics") or {}
        if not isinstance(given, Mapping):
            raise ValueError(f"row {i}: metrics must map names to numbers, got {given!r}")
        for key, value in given.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"row {i}: metric names must be non-empty strings")
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(f"row {i}: metrics.{key} must be a number, got {value!r}")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(
                    f"row {i}: metrics.{key} must be a number, got {value!r}"
                ) from None
            if not math.isfinite(number):
                raise ValueError(f"row {i}: metrics.{key} must be finite, got {value!r}")
            names[key] = None
    if not names:
        return None
    return {
        name: np.array([float((r.get("metrics") or {}).get(name, math.nan)) for r in rows])
        for name in names
    }


def _fraction(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ValueError(f"{where} must be a number in [0, 1), got {value!r}")
    return float(value)


def _positive(value: Any, where: str) -> float:
    if value is None:
        raise ValueError(f"{where} is missing")
    number = _number(value, where)
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{where} must be positive and finite, got {value!r}")
    return number
