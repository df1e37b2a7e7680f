"""``POST /v1/runs`` (idempotent batch ingestion, JSON or a CSV / JSON-lines table) and
``GET /v1/runs``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from flopwise.fitting.tables import MAPPED
from flopwise.service.api.deps import (
    DatabaseDep,
    MetricsDep,
    SettingsDep,
    require_reader,
    require_writer,
)
from flopwise.service.api.responses import AUTH, BODY, INVALID
from flopwise.service.api.run_bodies import (
    RUNS_BODY,
    TABLE_RESPONSES,
    Body,
    TableQuery,
    json_runs,
    request_body,
)
from flopwise.service.config import Settings
from flopwise.service.errors import FieldError
from flopwise.service.jobs.refit import refit_payload
from flopwise.service.runs_table import RowsInvalid, read_runs_table
from flopwise.service.schemas.common import Name
from flopwise.service.schemas.runs import IngestPublic, RunsPublic
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
    "/runs",
    response_model=IngestPublic,
    dependencies=[Depends(require_writer)],
    responses={**BODY, **TABLE_RESPONSES},
    openapi_extra={"requestBody": RUNS_BODY},
)
def create_runs(
    body: Annotated[Body, Depends(request_body)],
    table: Annotated[TableQuery, Query()],
    db: DatabaseDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> Any:
    """Store a batch of observations in one transaction (answered only after it commits).

    The body is JSON (``{"runs": [...]}``) or a table: CSV (``text/csv``, with a header)
    or JSON lines (``application/x-ndjson``), whose columns the query parameters map
    (``params_col`` etc., by default the field names; ``dataset`` for every row, else a
    ``dataset`` column; ``metric_col`` names columns carried as metrics; other columns
    are ignored). A table with bad rows is refused
    whole: the 422 lists each bad cell's line and column. Idempotent on (dataset, run,
    tokens): a key already stored is counted as a duplicate and left as it was. Every
    dataset that gained rows gets one debounced refit job (unless ``refit`` is false).
    """
    if body.kind is None:
        batch = json_runs(body)
        runs, refit = batch.runs, batch.refit
    else:
        columns = {name: getattr(table, f"{name}_col") for name in MAPPED}
        limit = settings.max_runs_per_request
        try:
            runs = read_runs_table(
                body.raw, body.kind, columns, table.dataset, limit, tuple(table.metric_col)
            )
        except RowsInvalid as exc:
            return JSONResponse({"detail": exc.issues}, status_code=422)
        refit = table.refit
    if len(runs) > settings.max_runs_per_request:
        raise FieldError(
            ("body", "runs"), f"runs: at most {settings.max_runs_per_request} per request"
        )
    records = [RunRecord(**run.model_dump(exclude={"epochs"})) for run in runs]
    try:
        queue_refit = refit_queuer(settings) if refit else None
        result = ingest(db, records, queue_refit=queue_refit)
    except ValueError as exc:  # a dataset name that would shadow a built-in law
        raise FieldError(("body", "runs") if body.kind is None else ("body",), str(exc)) from None
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
