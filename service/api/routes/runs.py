"""``POST /v1/runs`` (idempotent batch ingestion) and ``GET /v1/runs``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from flopwise.service.api.deps import (
    DatabaseDep,
    MetricsDep,
    SettingsDep,
    require_reader,
    require_writer,
)
from flopwise.service.api.responses import AUTH, BODY, INVALID
from flopwise.service.config import Settings
from flopwise.service.errors import FieldError
from flopwise.service.jobs.refit import refit_payload
from flopwise.service.schemas.common import Name
from flopwise.service.schemas.runs import IngestPublic, RunsCreate, RunsPublic
from flopwise.service.store import jobs as queue
from flopwise.service.store.runs import RunRecord, ingest, list_runs

router = APIRouter(prefix="/v1", tags=["runs"], responses={**INVALID, **AUTH})


def refit_queuer(settings: Settings) -> Any:
    """``queue_refit(session, dataset, now)`` for ingestion: one debounced refit per dataset."""

    def queue_refit(session: Session, dataset: str, now: float) -> str:
        payload = refit_payload(
            dataset, settings.refit_form, settings.refit_method, settings.refit_options, auto=True
        )
        return queue.enqueue(
            session,
            "refit",
            payload,
            max_attempts=settings.job_max_attempts,
            now=now,
            delay=settings.refit_debounce_seconds,
            dedupe_key=f"refit:{dataset}:{settings.refit_form}:{settings.refit_method}",
            max_delay=settings.refit_max_delay_seconds,
        )

    return queue_refit


@router.post(
    "/runs", response_model=IngestPublic, dependencies=[Depends(require_writer)], responses=BODY
)
def create_runs(
    body: RunsCreate, db: DatabaseDep, settings: SettingsDep, metrics: MetricsDep
) -> Any:
    """Store a batch of observations in one transaction (answered only after it commits).

    Idempotent on (dataset, run, tokens): a key already stored is counted as a duplicate
    and left as it was. Every dataset that gained rows gets one debounced refit job
    (unless the batch says ``"refit": false``).
    """
    if len(body.runs) > settings.max_runs_per_request:
        raise FieldError(
            ("body", "runs"), f"runs: at most {settings.max_runs_per_request} per request"
        )
    records = [RunRecord(**run.model_dump(exclude={"epochs"})) for run in body.runs]
    try:
        queue_refit = refit_queuer(settings) if body.refit else None
        result = ingest(db, records, queue_refit=queue_refit)
    except ValueError as exc:  # a dataset name that would shadow a built-in law
        raise FieldError(("body", "runs"), str(exc)) from None
    metrics.runs_ingested.inc(result.inserted)
    return result


@router.get("/runs", response_model=RunsPublic, dependencies=[Depends(require_reader)])
def read_runs(
    db: DatabaseDep,
    dataset: Annotated[Name | None, Query()] = None,
    run: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    offset: Annotated[int, Query(ge=0, le=10**12)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Stored observations, oldest first, filtered by dataset and run, a page at a time."""
    rows, total = list_runs(db, dataset=dataset, run=run, offset=offset, limit=limit)
    return {"data": rows, "count": total, "offset": offset, "limit": limit}
