"""Bodies of ``/v1/throughput`` and ``/v1/overspend``, and the time-optimal parts of
``/v1/allocate``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from flopwise.fitting.catalogue import DEFAULT_LAW
from flopwise.fitting.throughput.model import ThroughputModel
from flopwise.fitting.throughput.overspend import Costs
from flopwise.service.schemas.common import (
    LAW_REF_PATTERN,
    BatchTokens,
    Depth,
    Flops,
    NGpus,
    Request,
    TargetLoss,
    Width,
    public_model,
)
from flopwise.service.schemas.queries import (
    Constraints,
    LawPublicRef,
    ThroughputRefPublic,
)
from flopwise.service.schemas.rules import exactly_one, rules

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
    """A shape and a target loss (or a FLOP budget whose best loss is the target).

    Cross-field rules (422 naming the field): exactly one of ``target_loss`` and
    ``flops`` (the JSON Schema's ``allOf``); the shape must lie in ``constraints``
    (width a multiple of the law's head size x group), the law must have a
    chinchilla-core or width-depth loss, the loss must be above the shape's floor and
    take at least one token to reach; ``n_gpus`` must leave each GPU a sequence of the
    batch."""

    model_config = ConfigDict(json_schema_extra=rules(exactly_one("target_loss", "flops")))

    law: str = Field(DEFAULT_LAW, min_length=1, max_length=200, pattern=LAW_REF_PATTERN)
    """Law id, or id@version (ASCII digits): a Chinchilla-core or width-depth law."""
    throughput: str = ThroughputRef
    """Throughput model id, or id@version (``GET /v1/throughput``)."""
    width: Width
    """The shape's width (hidden size, in channels), 1 to 262,144."""
    depth: Depth
    """The shape's transformer blocks, 1 to 2,048."""
    target_loss: TargetLoss | None = None
    """Loss to reach in nats per token, 0.01 to 100; or give ``flops``."""
    flops: Flops | None = None
    """A budget in FLOPs whose best loss is the target, instead of ``target_loss``: 1e6
    to 1e32, as ``/v1/allocate`` takes them."""
    n_gpus: NGpus
    """GPUs training in parallel, 1 to 1e8."""
    batch_tokens: BatchTokens | None = None
    """Global batch per step in tokens, 1 to 1e12 (the throughput model's own by
    default)."""
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
