"""Bodies of ``/v1/throughput`` and ``/v1/overspend``, and the time-optimal parts of
``/v1/allocate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from flopwise.fitting.catalogue import DEFAULT_LAW
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.overspend import Costs
from flopwise.service.schemas.common import LAW_REF_PATTERN, Positive, Request, public_model
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
    min_length=1,
    max_length=200,
    pattern=LAW_REF_PATTERN,
    description="Throughput model id, or id@version (ASCII digits).",
)


if TYPE_CHECKING:
    ThroughputPublic = BaseModel
    CostsPublic = BaseModel
else:  # the fields of fitting's dataclasses, declared there (``public_model``)
    ThroughputPublic = public_model(
        ThroughputModel,
        "ThroughputPublic",
        doc="A throughput model: constants, device, fitted range and fit diagnostics.",
        types={"domain": dict[str, tuple[float, float]], "diagnostics": dict[str, float | int]},
        extra={"builtin": (bool, ...), "dataset": (str | None, None), "versions": (list[int], ...)},
    )
    CostsPublic = public_model(Costs, "CostsPublic")


class ThroughputsPublic(BaseModel):
    data: list[ThroughputPublic]
    count: int


class OverspendRequest(Request):
    """A shape and a target loss (or a FLOP budget whose best loss is the target)."""

    law: str = Field(DEFAULT_LAW, min_length=1, max_length=200, pattern=LAW_REF_PATTERN)
    """Law id, or id@version (ASCII digits): a Chinchilla-core or width-depth law."""
    throughput: str = ThroughputRef
    """Throughput model id, or id@version (``GET /v1/throughput``)."""
    width: int = Field(ge=1, le=1 << 20)
    """The shape's width (hidden size, in channels)."""
    depth: int = Field(ge=1, le=4096)
    """The shape's transformer blocks."""
    target_loss: Positive | None = None
    """Loss to reach (nats per token), or give ``flops``."""
    flops: Positive | None = Field(None, le=1e35)
    """A budget in FLOPs whose best loss is the target, instead of ``target_loss``."""
    n_gpus: int = Field(ge=1, le=100_000_000)
    """GPUs training in parallel."""
    batch_tokens: Positive | None = Field(None, le=1e12)
    """Global batch per step in tokens (the throughput model's own by default)."""
    constraints: Constraints | None = None
    """Limits on the shapes the optima are taken over."""


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
    caveats: list[str] = []
    """Reasons to doubt the numbers (``fitting.caveats``): the law's limits, the shape's
    size and tokens outside the ranges the law was fitted on."""
