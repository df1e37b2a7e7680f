"""Argument checks shared by the public functions: a bad value raises
:class:`~flopwise.fitting.errors.ArgumentError` naming the argument."""

from __future__ import annotations

import math

from flopwise.fitting.errors import ArgumentError

__all__ = ["optional_positive", "positive"]


def positive(name: str, value: float) -> float:
    """``value`` as a float if it is a positive finite number (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ArgumentError(name, f"must be a positive finite number, got {value!r}")
    return float(value)


def optional_positive(name: str, value: float | None) -> float | None:
    """Like :func:`positive`, letting ``None`` through."""
    return None if value is None else positive(name, value)
