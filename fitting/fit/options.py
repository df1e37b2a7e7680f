"""The keyword options of :func:`fitting.fit.fit`, checked up front (a bad one raises
``ValueError`` naming it)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from flopwise.fitting.counting import ArchFamily
from flopwise.fitting.errors import ArgumentError
from flopwise.fitting.laws import CDefinition, NDefinition
from flopwise.fitting.stats import DEFAULT_LEVEL, check_level

__all__ = ["FitOptions", "parse_options"]


@dataclass(frozen=True, kw_only=True, eq=False)
class FitOptions:
    """Everything a fit can be told besides the runs, form, method, delta and seed."""

    n_definition: NDefinition | None = None
    """What the runs' params count; default total (Porian data: set by the dataset)."""
    c_definition: CDefinition | None = None
    """How the law counts C; default 6ND, or the Gemstones counter for width-depth forms."""
    family: ArchFamily | None = None
    """Architecture family for shapes and FLOP counts; default Gemstones' recipe."""
    title: str = ""
    tokenizer: str = ""
    dataset: str = ""
    citation: str = ""
    notes: str = ""
    grid: np.ndarray | None = None
    """Approach 3: starts ``(S, 2k+1)`` in LSE layout; default the Chinchilla grid."""
    search: str = "auto"
    """Approach 3: ``full``, ``staged`` or ``auto`` (see ``approach3.fit_lse``)."""
    bounds: tuple[np.ndarray, np.ndarray] | None = None
    """Approach 3: lower and upper bounds on theta; default ``parametric.default_bounds``."""
    max_iter: int = 15000
    unique_tokens: np.ndarray | None = None
    """Data-constrained form: unique tokens per observation (or one value for all)."""
    base: Mapping[str, float] | None = None
    """Data-constrained form: fixed E, A, B, alpha, beta (default: fitted on the same runs)."""
    envelope: str = "hull"
    """Approach 1: ``hull`` (Gemstones' lower convex hull) or ``binned`` (Chinchilla's
    minimum per log-spaced FLOP bin)."""
    n_bins: int = 0
    """Approach 1 binned / Approach 2 binned budgets: number of log-spaced bins (0: auto)."""
    grouping: str = "exact"
    """Approach 2: ``exact`` budgets or ``binned`` (log-spaced bins of the runs' FLOPs)."""
    profile: str = "akima"
    """Approach 2: how a profile's floor is found: ``akima`` (Porian et al.'s
    interpolation), ``parabola`` (through the lowest point and its neighbours) or
    ``robust`` (Huber-fitted parabola over five points); see ``approach2``."""
    weighted: bool = False
    """Approach 2: weigh budgets by 1/sd^2 of their floor under seed noise (Porian et al.)."""
    extrapolation: bool = True
    """Refit without the largest models and report how well they are predicted."""
    holdout: int = 0
    """Models (largest by compute) left out for the extrapolation check; 0 = about 20%."""
    budgets: tuple[float, ...] = ()
    """FLOP budgets at which N*(C), D*(C), L*(C) intervals are reported (default: the
    data's smallest and largest compute and 10x beyond)."""
    workers: int = 0
    """Bootstrap workers (0: one per CPU)."""
    level: float = DEFAULT_LEVEL
    """Coverage of the intervals the report lists (constants, N*, D*, L* at budgets)."""
    tie: Mapping[str, str] | None = None
    """Approach 3: constants tied to another (``{"beta": "alpha"}``: beta = alpha); a
    tied fit has fewer free constants and needs fewer runs (``constraints``)."""
    fix: Mapping[str, float] | None = None
    """Approach 3: constants held at a value (``{"E": 1.8}``)."""
    objective: str = "huber"
    """Approach 3: ``huber`` (Chinchilla's summed Huber, the default), ``mse`` or
    ``asymmetric`` (kyo-takano/chinchilla's lower-bound-seeking loss); see ``objectives``."""
    progress: Callable[[int, int], None] | None = None
    """Bootstrap progress callback ``progress(done, total)`` over chunks of draws (the
    CLI passes a tqdm bar; ``fitting`` itself prints nothing)."""


_ENUMS = {"n_definition": NDefinition, "c_definition": CDefinition}
_CHOICES = {
    "search": ("auto", "full", "staged"),
    "envelope": ("hull", "binned"),
    "grouping": ("exact", "binned"),
    "profile": ("akima", "parabola", "robust"),
    "objective": ("huber", "mse", "asymmetric"),
}


def _convert(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in _ENUMS:
        try:
            return _ENUMS[name](value)
        except ValueError:
            allowed = ", ".join(str(v) for v in _ENUMS[name])
            raise ArgumentError(name, f"expected one of {allowed}, got {value!r}") from None
    if name in _CHOICES and value not in _CHOICES[name]:
        raise ArgumentError(name, f"expected one of {', '.join(_CHOICES[name])}, got {value!r}")
    if name in ("max_iter", "n_bins", "holdout", "workers"):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ArgumentError(name, f"expected a non-negative integer, got {value!r}")
        return int(value)
    if name == "progress" and not callable(value):
        raise ArgumentError("progress", f"expected a callable(done, total), got {value!r}")
    if name in ("extrapolation", "weighted") and not isinstance(value, bool):
        raise ArgumentError(name, f"expected True or False, got {value!r}")
    if name == "family" and isinstance(value, Mapping):  # JSON payloads (the service)
        try:
            return ArchFamily(**value)
        except TypeError as exc:
            raise ArgumentError("family", f"{exc}") from None
    if name == "family" and not isinstance(value, ArchFamily):
        raise ArgumentError(
            "family", f"expected an ArchFamily or its fields, got {type(value).__name__}"
        )
    if name in ("grid", "unique_tokens"):
        arr = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(arr)):
            raise ArgumentError(name, "every value must be finite")
        return arr
    if name == "budgets":
        return _budgets(value)
    if name == "level":
        return check_level(value)
    if name == "tie":
        return _pairs(name, value, str)
    if name == "fix":
        return _pairs(name, value, float)
    return value


def _pairs(name: str, value: Any, kind: type) -> dict[str, Any]:
    """``{"beta": "alpha"}`` or ``["beta=alpha"]`` (the CLI's form) as a dict."""
    items: Any = value.items() if isinstance(value, Mapping) else None
    if items is None and isinstance(value, Sequence) and not isinstance(value, str):
        items = [tuple(v.split("=", 1)) if isinstance(v, str) else (v, None) for v in value]
    if items is None:
        raise ArgumentError(name, f"expected NAME=VALUE pairs, got {value!r}")
    out: dict[str, Any] = {}
    for pair in items:
        if len(pair) != 2 or not isinstance(pair[0], str) or pair[1] is None:
            raise ArgumentError(name, f"expected NAME=VALUE, got {pair!r}")
        key, raw = pair[0].strip(), pair[1]
        try:
            out[key] = kind(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            raise ArgumentError(name, f"{key}: expected a {kind.__name__}, got {raw!r}") from None
    return out


def _budgets(value: Any) -> tuple[float, ...]:
    items = [value] if isinstance(value, int | float) else list(value)
    out = []
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise ArgumentError("budgets", f"expected positive FLOP counts, got {v!r}")
        out.append(float(v))
    return tuple(out)


def parse_options(options: Mapping[str, Any]) -> FitOptions:
    """Check ``options`` and return them as a :class:`FitOptions`."""
    known = {f.name for f in fields(FitOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ArgumentError(unknown[0], f"unknown fit option; known: {', '.join(sorted(known))}")
    values = {name: _convert(name, value) for name, value in options.items()}
    bounds = values.get("bounds")
    if bounds is not None:
        if not isinstance(bounds, Sequence) or len(bounds) != 2:
            raise ArgumentError("bounds", "expected (lower, upper) arrays")
        values["bounds"] = (np.asarray(bounds[0], dtype=float), np.asarray(bounds[1], dtype=float))
    return FitOptions(**values)
