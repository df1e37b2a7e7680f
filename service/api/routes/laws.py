"""``GET /v1/laws``, ``GET /v1/laws/{law_id}`` and ``GET /v1/laws/{law_id}/plot.png``.

``law_id`` may carry a version, ``id@version``; without one it is the latest.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response

from flopwise.fitting.forms import law_form
from flopwise.fitting.laws import Law, to_dict
from flopwise.service.api.deps import (
    AnswersDep,
    DatabaseDep,
    RegistryDep,
    require_reader,
    resolve_or_404,
)
from flopwise.service.api.responses import AUTH, BUSY, NOT_FOUND
from flopwise.service.jobs.refit import json_ready
from flopwise.service.plot import PlotCache
from flopwise.service.registry import LawRegistry
from flopwise.service.schemas.laws import LawPublic, LawsPublic
from flopwise.service.store.db import Database
from flopwise.service.store.runs import load_records

router = APIRouter(
    prefix="/v1", tags=["laws"], dependencies=[Depends(require_reader)], responses=AUTH
)
PLOTS = PlotCache()


def _summary(law: Law, registry: LawRegistry) -> dict[str, Any]:
    data = to_dict(law)
    return {
        **{k: data[k] for k in ("id", "version", "title", "form", "n_definition", "c_definition")},
        **{k: data[k] for k in ("source", "citation", "dataset")},
        "builtin": registry.record(law.id, law.version) is None,
        "has_draws": law.draws is not None,
        "domain": data["domain"],
        "versions": registry.versions(law.id) or [law.version],
        "reads_schedule": law_form(law).reads_schedule,
    }


@router.get("/laws", response_model=LawsPublic)
async def read_laws(registry: RegistryDep) -> dict[str, Any]:
    """The catalogue: every built-in law and the latest version of every fitted one."""
    data = [_summary(law, registry) for law in registry.latest()]
    return {"data": data, "count": len(data)}


@router.get("/laws/{law_id}", response_model=LawPublic, responses=NOT_FOUND)
async def read_law(law_id: str, registry: RegistryDep) -> dict[str, Any]:
    """One law with its constants, definitions, source, fitted range and fit report."""
    law = resolve_or_404(registry, law_id)
    data = to_dict(law)
    record = registry.record(law.id, law.version)
    fit = None
    if record is not None:
        fit = {
            "dataset": record.dataset,
            "method": record.labels.get("method", ""),
            "form": record.labels.get("form", law.form),
            "job_id": record.job_id,
            "published_at": record.created_at,
            "report": record.report,
        }
    extra = (
        "constants",
        "tokenizer",
        "family",
        "notes",
        "verified",
        "rounded",
        "loss_unit",
        "spread",
        "caveats",
    )
    return {
        **_summary(law, registry),
        **{k: data[k] for k in extra},
        "diagnostics": json_ready(dict(law.diagnostics)),
        "fit": fit,
    }


def _plot(law: Law, registry: LawRegistry, db: Database) -> bytes:
    record = registry.record(law.id, law.version)
    records = load_records(db, record.dataset) if record is not None else []
    return PLOTS.get(law, records)


@router.get(
    "/laws/{law_id}/plot.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **NOT_FOUND, **BUSY},
)
async def plot_law(
    law_id: str, registry: RegistryDep, db: DatabaseDep, answers: AnswersDep
) -> Response:
    """The law against the runs it was fitted on (PNG; drawn on the one bounded pool, one
    figure at a time)."""
    law = resolve_or_404(registry, law_id)
    png = await answers.executor.run(_plot, law, registry, db)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=60"})
