"""``GET /healthz`` (liveness and loaded law versions) and ``GET /metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flopwise.service.api.deps import MetricsDep, RegistryDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(registry: RegistryDep) -> dict[str, Any]:
    """Alive, and the law versions this process answers with by default."""
    return {"status": "ok", "laws": registry.loaded()}


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep, registry: RegistryDep) -> Response:
    """Prometheus text format."""
    metrics.laws_loaded.set(len(registry.loaded()))
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
