"""Argument checks shared by the public functions: a bad value raises
:class:`~flopwise.fitting.errors.ArgumentError` naming the argument."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from flopwise.fitting.errors import ArgumentError

__all__ = ["known_fields", "optional_positive", "positive"]


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


def known_fields(cls: type, data: Mapping[str, Any]) -> dict[str, Any]:
    """The entries of ``data`` that are fields of the dataclass ``cls`` (what a
    ``from_dict`` reads from a newer writer's dict, ignoring keys it does not know)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}
