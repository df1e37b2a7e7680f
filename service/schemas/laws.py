"""Bodies of ``/v1/laws``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["LawPublic", "LawSummary", "LawsPublic"]


class LawSummary(BaseModel):
    id: str
    version: int
    title: str
    form: str
    n_definition: str
    c_definition: str
    source: str
    citation: str
    dataset: str
    builtin: bool
    has_draws: bool
    domain: dict[str, list[float] | None]
    versions: list[int]
    reads_schedule: bool = False
    """A loss-curve law (docs/laws.md §21): it predicts under a run's learning-rate
    schedule (``schedule``) and forecasts runs; it does not allocate compute."""


class LawPublic(LawSummary):
    constants: dict[str, float]
    tokenizer: str
    family: dict[str, Any]
    notes: str
    verified: bool
    rounded: bool
    loss_unit: str
    diagnostics: dict[str, Any]
    spread: dict[str, Any] | None = None
    """Run-to-run noise and extrapolation growth behind ``loss_interval``
    (``fitting.uncertainty.PredictiveError``); ``None``: the documented default."""
    caveats: list[str] = []
    fit: dict[str, Any] | None
    """How a fitted version was made: method, job, report; ``None`` for built-in laws."""


class LawsPublic(BaseModel):
    data: list[LawSummary]
    count: int
