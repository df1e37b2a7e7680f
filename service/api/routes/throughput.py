"""``GET /v1/throughput`` and ``GET /v1/throughput/{model_id}``: throughput models.

Built-in models (MI250X fitted on the Gemstones runs, H100 and A100 derived from it)
and every model a refit published, with the range of shapes, GPU counts and per-GPU
batches each was fitted on. ``model_id`` may carry a version, ``id@version``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from flopwise.fitting.throughput.model import ThroughputModel, to_dict
from flopwise.service.api.deps import ThroughputDep, require_reader, resolve_or_404
from flopwise.service.api.responses import AUTH, NOT_FOUND
from flopwise.service.registry import ThroughputRegistry
from flopwise.service.schemas.throughput import ThroughputPublic, ThroughputsPublic

router = APIRouter(
    prefix="/v1", tags=["throughput"], dependencies=[Depends(require_reader)], responses=AUTH
)


def registry_of(answers: Any) -> ThroughputRegistry:
    """The app's throughput registry (held beside the law registry by ``Answers``)."""
    registry: ThroughputRegistry | None = answers.throughput
    assert registry is not None, "create_app always builds a throughput registry"
    return registry


def _public(model: ThroughputModel, registry: ThroughputRegistry) -> dict[str, Any]:
    record = registry.record(model.id, model.version)
    return {
        **to_dict(model),
        "builtin": record is None,
        "dataset": None if record is None else record.dataset,
        "versions": registry.versions(model.id) or [model.version],
    }


@router.get("/throughput", response_model=ThroughputsPublic)
async def read_throughputs(registry: ThroughputDep) -> dict[str, Any]:
    """Every built-in throughput model and the latest version of every published one."""
    data = [_public(m, registry) for m in registry.latest()]
    return {"data": data, "count": len(data)}


@router.get("/throughput/{model_id}", response_model=ThroughputPublic, responses=NOT_FOUND)
async def read_throughput(model_id: str, registry: ThroughputDep) -> dict[str, Any]:
    """One throughput model: constants, device, fitted range and fit diagnostics."""
    return _public(resolve_or_404(registry, model_id), registry)
