"""Downstream metrics in answers (docs/laws.md §20): what ``"downstream"`` holds in
``/v1/allocate``, ``/v1/predict`` and ``/v1/frontier`` answers, and the ``target`` an
allocation may be asked for."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from flopwise.service.schemas.common import Request

__all__ = ["MetricPublic", "PointMetricPublic", "Target", "TargetPublic", "ViaPublic"]

MetricName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class Target(Request):
    """A metric to reach: the answer is the smallest budget whose predicted ``metric``
    reaches ``value`` (with a budget given, the plan at that budget), with the chance of
    reaching it."""

    metric: MetricName
    """A metric the law links to (its ``downstream`` names them), e.g. hellaswag_acc."""
    value: float = Field(ge=-1e6, le=1e6, allow_inf_nan=False)
    """The score to reach, in the metric's own units (an accuracy is a fraction)."""


class ViaPublic(BaseModel):
    metric: str
    """The intermediate loss the metric is predicted through (a task's bits per byte,
    or the law's own loss)."""
    value: float
    interval: tuple[float, float] | None
    """Where a new run's intermediate loss will fall (``level`` coverage)."""
    fitted_range: tuple[float, float] | None
    """The intermediate losses the link was fitted on; outside them a caveat says so."""


class MetricPublic(BaseModel):
    value: float
    interval: tuple[float, float] | None
    """Where a new run's measured metric will fall (``level`` coverage): the chain's
    bootstrap draws widened by step 1's predictive error and the metric's scatter."""
    curve_interval: tuple[float, float] | None
    """The chain's bootstrap band (both steps' draws, resampled runs)."""
    level: float
    link: str
    """``sigmoid`` (Bhagia et al. 2024) or ``exponential`` (Gadre et al. 2024)."""
    via: ViaPublic


class PointMetricPublic(BaseModel):
    value: float
    interval: tuple[float, float] | None


class TargetPublic(BaseModel):
    metric: str
    value: float
    flops: float
    """The smallest budget (FLOPs) whose predicted metric reaches ``value``."""
    predicted: float
    """The metric predicted at the answer's plan."""
    probability: float | None
    """Share of the chain's bootstrap draws that reach ``value`` at the plan (``None``
    without draws)."""
    run_probability: float
    """Chance a run trained to the plan measures at least ``value``."""
