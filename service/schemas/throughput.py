"""Bodies of ``/v1/throughput`` and ``/v1/overspend``, and the time-optimal parts of
``/v1/allocate``."""

from __future__ import annotations

from pydantic import BaseModel, Field

from flopwise.fitting.catalogue import DEFAULT_LAW
from flopwise.service.schemas.common import Positive, Request
from flopwise.service.schemas.queries import (
    Constraints,
    LawPublicRef,
    ThroughputRefPublic,
)

__all__ = [
    "OverspendPublic",
    "OverspendRequest",
    "ThroughputPublic",
    "ThroughputsPublic",
]

ThroughputRef = Field(
    min_length=1, max_length=200, description="Throughput model id, or id@version."
)


class ThroughputPublic(BaseModel):
    """A throughput model: constants, device, fitted range and fit diagnostics."""

    id: str
    version: int
    gpu: str
    peak_flops: float
    matmul_efficiency: float
    half_width: float
    layer_seconds: float
    step_overhead: float
    comm_per_param: float
    batch_tokens: float
    domain: dict[str, tuple[float, float]]
    source: str
    notes: str
    diagnostics: dict[str, float | int]
    builtin: bool
    dataset: str | None = None
    versions: list[int]


class ThroughputsPublic(BaseModel):
    data: list[ThroughputPublic]
    count: int


class OverspendRequest(Request):
    """A shape and a target loss (or a FLOP budget whose best loss is the target)."""

    law: str = Field(DEFAULT_LAW, min_length=1, max_length=200)
    throughput: str = ThroughputRef
    width: int = Field(ge=1, le=1 << 20)
    depth: int = Field(ge=1, le=4096)
    target_loss: Positive | None = None
    flops: Positive | None = Field(None, le=1e35)
    n_gpus: int = Field(ge=1, le=100_000_000)
    batch_tokens: Positive | None = Field(None, le=1e12)
    constraints: Constraints | None = None


class CostsPublic(BaseModel):
    width: int
    depth: int
    tokens: float
    flops: float
    gpu_hours: float


class OverspendPublic(BaseModel):
    """What the shape costs to reach the loss, against the FLOP- and time-optimal shapes."""

    law: LawPublicRef
    throughput: ThroughputRefPublic
    target_loss: float
    n_gpus: int
    batch_tokens: float
    shape: CostsPublic
    flop_optimal: CostsPublic
    time_optimal: CostsPublic
    flops_overspend: float
    gpu_hours_overspend: float
    warnings: list[str]
