"""The critical batch size: past it, more data parallelism buys almost no time.

McCandlish, Kaplan, Amodei et al. 2018, *An Empirical Model of Large-Batch Training*
(arXiv:1812.06162), §2.3: to reach a loss, training at batch B takes

    S = S_min (1 + B_noise / B) steps and E = E_min (1 + B / B_noise) examples,

so ``(S/S_min - 1)(E/E_min - 1) = 1`` (their Eq. 2.11), with ``B_noise = E_min / S_min``
(Eq. 2.12: B_crit). At B = B_noise a run takes twice the fewest steps and twice the
fewest examples. Zhang et al. 2024 (*How Does Critical Batch Size Scale in
Pre-training?*, arXiv:2410.21676) measure it growing with the data size rather than the
model size; :data:`BUILTIN_FILE` holds flopwise's fit of their 45 steps-to-target points
(``fitting/fit/critical_batch.py``; docs/laws.md §19) as ``B_noise = k D^a`` tokens.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from flopwise.fitting.errors import ArgumentError

__all__ = [
    "BUILTIN_FILE",
    "CriticalBatchLaw",
    "b_noise_of",
    "builtin_critical_batch",
    "critical_law_from_dict",
    "critical_law_to_dict",
    "steps_to_target",
    "tokens_to_target",
]

BUILTIN_FILE = Path(__file__).with_name("builtin") / "critical-batch_zhang-2024.json"


def steps_to_target(batch: Any, s_min: Any, b_noise: Any) -> Any:
    """McCandlish et al. 2018, §2.3: ``S = S_min (1 + B_noise / B)`` optimizer steps to
    reach a loss at batch B (B and B_noise in one unit).

    At B = B_noise it is 2 S_min: twice the fewest steps (their B_crit).
    """
    b = np.asarray(batch, dtype=float)
    return np.asarray(s_min, dtype=float) * (1.0 + np.asarray(b_noise, dtype=float) / b)


def tokens_to_target(batch: Any, e_min: Any, b_noise: Any) -> Any:
    """McCandlish et al. 2018, §2.3: ``E = E_min (1 + B / B_noise)`` examples (here
    tokens) to reach a loss at batch B.

    At B = B_noise it is 2 E_min: twice the fewest tokens (their B_crit).
    """
    b = np.asarray(batch, dtype=float)
    return np.asarray(e_min, dtype=float) * (1.0 + b / np.asarray(b_noise, dtype=float))


@dataclass(frozen=True, kw_only=True)
class CriticalBatchLaw:
    """``B_noise = k x^a`` tokens, ``x`` the data size in tokens (``variable="tokens"``:
    the fewest tokens reaching the loss, E_min) or the model size (``"params"``)."""

    id: str
    k: float
    a: float
    variable: str = "tokens"
    domain: tuple[float, float] | None = None
    """The range of ``variable`` it was fitted on."""
    source: str = ""
    k_interval: tuple[float, float] | None = None
    a_interval: tuple[float, float] | None = None
    draws: tuple[tuple[float, float], ...] | None = None
    """Bootstrap draws of (ln k, a)."""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.variable not in ("tokens", "params"):
            raise ArgumentError("variable", f"must be tokens or params, got {self.variable!r}")
        if not (math.isfinite(self.k) and self.k > 0 and math.isfinite(self.a)):
            raise ArgumentError("k", "a critical-batch law needs k > 0 and a finite exponent")


def b_noise_of(law: CriticalBatchLaw, value: float, level: float = 0.9) -> tuple[float, Any]:
    """``(B_noise, its bootstrap band or None)`` in tokens at ``value`` of the law's
    variable (tokens E_min, or params)."""
    if not (math.isfinite(value) and value > 0):
        raise ArgumentError(law.variable, f"must be a positive finite number, got {value!r}")
    point = law.k * value**law.a
    if not law.draws:
        return point, None
    d = np.asarray(law.draws, dtype=float)
    values = np.exp(d[:, 0] + d[:, 1] * math.log(value))
    lo, hi = np.percentile(values, (100 * (1 - level) / 2, 100 * (1 + level) / 2))
    return point, (float(lo), float(hi))


def critical_law_to_dict(law: CriticalBatchLaw) -> dict[str, Any]:
    """A JSON-ready dict of ``law`` (``--save-law``, the built-in file)."""
    out: dict[str, Any] = dict(vars(law))
    for key in ("domain", "k_interval", "a_interval"):
        out[key] = None if out[key] is None else list(out[key])
    out["draws"] = None if law.draws is None else [list(d) for d in law.draws]
    out["notes"] = list(law.notes)
    out["kind"] = "critical-batch"
    return out


def critical_law_from_dict(data: dict[str, Any]) -> CriticalBatchLaw:
    """Inverse of :func:`critical_law_to_dict` (``ValueError`` naming what is wrong)."""
    if data.get("kind") != "critical-batch":
        raise ValueError("not a critical-batch law (its 'kind' must be 'critical-batch')")
    kwargs = {k: v for k, v in data.items() if k != "kind"}
    for key in ("domain", "k_interval", "a_interval"):
        if kwargs.get(key) is not None:
            kwargs[key] = tuple(float(x) for x in kwargs[key])
    if kwargs.get("draws") is not None:
        kwargs["draws"] = tuple((float(u), float(v)) for u, v in kwargs["draws"])
    kwargs["notes"] = tuple(kwargs.get("notes") or ())
    return CriticalBatchLaw(**kwargs)


@cache
def builtin_critical_batch() -> CriticalBatchLaw:
    """``zhang-2024``: B_noise in tokens as a power law in E_min tokens, fitted on Zhang
    et al.'s 45 points (written by ``python -m flopwise.fitting.regenerate critical``)."""
    return critical_law_from_dict(json.loads(BUILTIN_FILE.read_text()))
