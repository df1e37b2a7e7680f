"""Learning-rate schedules as data: what a run's LR was at every token.

A :class:`Schedule` names its kind and its numbers; :func:`lr_at` evaluates it. Every
kind starts with a linear warmup from 0 to ``peak_lr`` over ``warmup_tokens`` and
ends at ``final_lr_fraction x peak_lr``:

* ``constant``: the peak after warmup (Gemstones, docs/laws.md §8.1);
* ``cosine``: half a cosine from the peak to the floor (Loshchilov & Hutter 2017,
  SGDR, arXiv:1608.03983, Eq. 5), over ``decay_tokens`` after warmup, or to
  ``total_tokens`` when no decay length is given (the OLMo ladder, docs/laws.md §21.3);
* ``linear``: a straight line from the peak to the floor over the same span;
* ``wsd``: warmup, stable at the peak, then a cooldown over the last ``decay_tokens``
  before ``total_tokens``, linear or 1-sqrt (Hägele et al. 2024, arXiv:2405.18392,
  docs/laws.md §10.1).

Tokens, not steps, measure a schedule: the data a law is fitted on logs tokens.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError

__all__ = [
    "COOLDOWNS",
    "GEMSTONES_WARMUP_TOKENS",
    "KINDS",
    "Schedule",
    "cooldown_factor",
    "cosine_factor",
    "gemstones_lr",
    "lr_at",
    "schedule_from_dict",
]

KINDS = ("constant", "cosine", "linear", "wsd")
GEMSTONES_WARMUP_TOKENS = 80e6
"""Gemstones' linear warmup (McLeish et al. 2025, docs/laws.md §8.1)."""
COOLDOWNS = ("linear", "1-sqrt")
_FIELDS = ("peak_lr", "warmup_tokens", "final_lr_fraction", "decay_tokens", "total_tokens")


@dataclass(frozen=True)
class Schedule:
    """One run's learning-rate schedule, in tokens."""

    kind: str
    peak_lr: float
    warmup_tokens: float = 0.0
    final_lr_fraction: float = 0.0
    """The last LR over the peak, in [0, 1]."""
    decay_tokens: float | None = None
    """``wsd``: the cooldown's length; ``cosine`` / ``linear``: the decay's length
    after warmup (default: to ``total_tokens``)."""
    total_tokens: float | None = None
    """Where the run is planned to end (needed by ``wsd``, and by ``cosine`` and
    ``linear`` without ``decay_tokens``)."""
    cooldown: str = "linear"
    """``wsd`` only: ``linear`` or ``1-sqrt``."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ArgumentError("schedule.kind", f"expected one of {', '.join(KINDS)}")
        if self.cooldown not in COOLDOWNS:
            raise ArgumentError("schedule.cooldown", f"expected one of {', '.join(COOLDOWNS)}")
        _check("peak_lr", self.peak_lr, positive=True)
        _check("warmup_tokens", self.warmup_tokens)
        _check("final_lr_fraction", self.final_lr_fraction)
        if self.final_lr_fraction > 1:
            raise ArgumentError("schedule.final_lr_fraction", "must lie in [0, 1]")
        for name in ("decay_tokens", "total_tokens"):
            if getattr(self, name) is not None:
                _check(name, getattr(self, name), positive=True)
        if self.kind == "wsd" and self.decay_tokens is None:
            raise ArgumentError("schedule.decay_tokens", "a wsd schedule needs decay_tokens")
        if self.total_tokens is not None:
            self.decay_span()

    def decay_span(self) -> tuple[float, float] | None:
        """(start, end) tokens of the decay; ``None`` for ``constant``. Raises
        :class:`ArgumentError` when the schedule lacks the tokens it needs."""
        if self.kind == "constant":
            return None
        if self.kind == "wsd":
            if self.total_tokens is None or self.decay_tokens is None:
                raise ArgumentError(
                    "schedule.total_tokens", "a wsd schedule needs total_tokens and decay_tokens"
                )
            start = max(self.total_tokens - self.decay_tokens, self.warmup_tokens)
            return start, self.total_tokens
        if self.decay_tokens is not None:
            return self.warmup_tokens, self.warmup_tokens + self.decay_tokens
        if self.total_tokens is None:
            raise ArgumentError(
                "schedule.total_tokens",
                f"a {self.kind} schedule needs total_tokens (or decay_tokens)",
            )
        if self.total_tokens <= self.warmup_tokens:
            raise ArgumentError("schedule.total_tokens", "must exceed warmup_tokens")
        return self.warmup_tokens, self.total_tokens

    def breakpoints(self) -> tuple[float, ...]:
        """Tokens where the LR's formula changes (a grid should include them)."""
        span = self.decay_span()
        points = (0.0, self.warmup_tokens, *(span or ()))
        return tuple(sorted(set(points)))

    def with_total(self, total_tokens: float) -> Schedule:
        """The same schedule planned to end at ``total_tokens`` when it names no end."""
        if self.total_tokens is not None:
            return self
        return Schedule(**{**asdict(self), "total_tokens": float(total_tokens)})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (``None`` where a field is unset)."""
        return asdict(self)


def gemstones_lr(width: int, depth: int, lr_base: float = 5.0) -> float:
    """Gemstones' peak LR for a width x depth model (McLeish et al. 2025, docs/laws.md
    §8.2): ``lr_base / (width x sqrt(depth))``, ``lr_base = 5``; when ``width / depth >
    256`` the authors scale as if ``depth = ceil(width / 100)``.

    >>> round(gemstones_lr(1024, 28), 6)  # 5 / (1024 * sqrt(28))
    0.000923
    """
    if width / depth > 256:
        depth = math.ceil(width / 100)
    return lr_base / (width * math.sqrt(depth))


def _check(name: str, value: Any, *, positive: bool = False) -> None:
    bad = isinstance(value, bool) or not isinstance(value, int | float)
    if bad or not math.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ArgumentError(f"schedule.{name}", f"must be a {kind} finite number, got {value!r}")


def schedule_from_dict(data: Mapping[str, Any]) -> Schedule:
    """A :class:`Schedule` from its JSON (``kind`` and ``peak_lr`` required)."""
    unknown = sorted(set(data) - {"kind", "cooldown", *_FIELDS})
    if unknown:
        raise ArgumentError(f"schedule.{unknown[0]}", "is not a schedule field")
    for name in ("kind", "peak_lr"):
        if data.get(name) is None:
            raise ArgumentError(f"schedule.{name}", "is required")
    values = {k: v for k, v in data.items() if v is not None}
    return Schedule(**values)


def cosine_factor(progress: Any, final: float) -> Any:
    """Loshchilov & Hutter 2017 (SGDR) Eq. 5 as a fraction of the peak:
    ``f + (1 - f) (1 + cos(pi t)) / 2`` at progress ``t`` in [0, 1].

    The OLMo ladder's 3B 1xC run warms up for 1,008 steps and decays over 20,152 (N and
    20 N tokens over its batch of 3,145,728, rounded up; floor 0.1): step 10,200 is at
    t = 9,192 / 19,144, a factor of 0.57804, and the peak 3.80932e-4 gives 2.20195e-4,
    the LR the run logged there (docs/laws.md §21.3).

    >>> round(float(cosine_factor(9192 / 19144, 0.1)), 5)
    0.57804
    """
    t = np.clip(progress, 0.0, 1.0)
    return final + (1.0 - final) * 0.5 * (1.0 + np.cos(np.pi * t))


def cooldown_factor(progress: Any, final: float, shape: str) -> Any:
    """Hägele et al. 2024's cooldown as a fraction of the peak at progress ``t``
    through it: ``f + (1 - f)(1 - t)`` (linear) or ``f + (1 - f)(1 - sqrt(t))``
    (1-sqrt; docs/laws.md §10.1).

    >>> float(cooldown_factor(0.25, 0.0, "linear")), float(cooldown_factor(0.25, 0.0, "1-sqrt"))
    (0.75, 0.5)
    """
    t = np.clip(progress, 0.0, 1.0)
    drop = np.sqrt(t) if shape == "1-sqrt" else t
    return final + (1.0 - final) * (1.0 - drop)


def lr_at(schedule: Schedule, tokens: Any) -> np.ndarray:
    """The LR in force after ``tokens`` training tokens (array in, array out)."""
    x = np.asarray(tokens, dtype=float)
    warm = schedule.warmup_tokens
    factor = np.ones_like(x)
    span = schedule.decay_span()
    if span is not None:
        start, end = span
        progress = (x - start) / max(end - start, 1e-300)
        f = schedule.final_lr_fraction
        if schedule.kind == "cosine":
            decayed = cosine_factor(progress, f)
        elif schedule.kind == "linear":
            decayed = cooldown_factor(progress, f, "linear")
        else:
            decayed = cooldown_factor(progress, f, schedule.cooldown)
        factor = np.where(x > start, decayed, 1.0)
    if warm > 0:
        factor = np.where(x < warm, x / warm, factor)
    return schedule.peak_lr * factor
