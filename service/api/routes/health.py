"""``GET /healthz`` (liveness and loaded law versions) and ``GET /metrics`` (Prometheus;
with ``FLOPWISE_PROTECT_READS`` it needs the key, like every read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flopwise.service.api.deps import MetricsDep, RegistryDep, may_read_details, require_reader

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(registry: RegistryDep, request: Request) -> dict[str, Any]:
    """Alive, and the law versions this process answers with by default (with
    ``FLOPWISE_PROTECT_READS``, only to a request carrying the key: law ids name
    datasets; liveness needs no key)."""
    if not may_read_details(request):
        return {"status": "ok"}
    return {"status": "ok", "laws": registry.loaded()}


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_reader)])
def metrics(metrics: MetricsDep, registry: RegistryDep) -> Response:
    """Prometheus text format."""
    metrics.laws_loaded.set(len(registry.loaded()))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
