"""Bodies of ``/v1/fits``, ``/v1/calibrations`` and ``/v1/jobs``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.schemas.common import Name, Positive, Request

__all__ = [
    "CalibrationCreate",
    "FitCreate",
    "FitOptionsIn",
    "JobAccepted",
    "JobPublic",
    "JobsPublic",
]


class FitOptionsIn(Request):
    """Options passed to ``fitting.fit.fit`` (see ``fitting.fit.options.FitOptions``)."""

    delta: Positive | None = Field(None, le=10)
    bootstrap: int | None = Field(None, ge=0, le=1000)
    seed: int | None = Field(None, ge=0, le=2**63 - 1)
    search: Literal["auto", "full", "staged"] | None = None
    max_iter: int | None = Field(None, ge=1, le=200_000)
    envelope: Literal["hull", "binned"] | None = None
    n_bins: int | None = Field(None, ge=0, le=1000)
    grouping: Literal["exact", "binned"] | None = None
    profile: Literal["parabola", "robust"] | None = None
    extrapolation: bool | None = None
    holdout: int | None = Field(None, ge=0, le=10_000)
    budgets: list[Positive] | None = Field(None, max_length=100)
    n_definition: Literal["total", "non_embedding", "with_head", "model_scale"] | None = None
    c_definition: Literal["6ND", "MD", "gemstones"] | None = None
    title: str | None = Field(None, max_length=200)
    tokenizer: str | None = Field(None, max_length=200)
    citation: str | None = Field(None, max_length=500)
    notes: str | None = Field(None, max_length=2000)


class FitCreate(Request):
    """Fit a law to a dataset's stored runs."""

    dataset: Name
    form: Literal[
        "chinchilla", "width-depth", "width-depth-alt", "data-constrained", "power-law"
    ] = "chinchilla"
    method: Literal["approach1", "approach2", "approach3"] = "approach3"
    options: FitOptionsIn = Field(default_factory=lambda: FitOptionsIn.model_validate({}))


class CalibrationCreate(Request):
    """Launch a calibration sweep: a budget as ``flops`` or ``gpu_hours`` (+ ``gpu``)."""

    dataset: Name
    flops: Positive | None = Field(None, le=1e30)
    gpu_hours: Positive | None = Field(None, le=1e7)
    gpu: str | None = Field(None, min_length=1, max_length=64)
    time_cap_hours: Positive = Field(le=24 * 365)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    corpus: str | None = Field(None, min_length=1, max_length=4096)
    max_runs: int | None = Field(None, ge=1, le=10_000)


class JobAccepted(BaseModel):
    job_id: str
    status: str


class JobPublic(BaseModel):
    id: str
    kind: str
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    max_attempts: int
    worker: str | None = Field(None, validation_alias="lease_owner")
    """The worker holding (or that last held) the job: ``host:pid:tag``."""
    payload: dict[str, Any]
    created_at: float
    updated_at: float
    finished_at: float | None


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int
