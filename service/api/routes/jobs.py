"""``POST /v1/fits`` (queue a refit), ``GET /v1/jobs/{job_id}``, ``GET /v1/jobs``."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from flopwise.service.api.deps import DatabaseDep, SettingsDep, require_writer
from flopwise.service.errors import FieldError, field_error
from flopwise.service.jobs.refit import refit_payload
from flopwise.service.schemas.jobs import FitCreate, JobAccepted, JobPublic, JobsPublic
from flopwise.service.store import jobs as queue
from flopwise.service.store.runs import count_runs

router = APIRouter(prefix="/v1", tags=["jobs"])


@router.post(
    "/fits",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_writer)],
)
def create_fit(body: FitCreate, db: DatabaseDep, settings: SettingsDep) -> Any:
    """Queue a fit of ``dataset``'s stored runs; follow it at ``GET /v1/jobs/{job_id}``.

    The same request while an identical one is still queued returns that job.
    """
    options = body.options.model_dump(exclude_none=True)
    try:
        payload = refit_payload(body.dataset, body.form, body.method, options, auto=False)
    except ValueError as exc:
        raise field_error(exc, FitCreate.model_fields) from None
    if count_runs(db, body.dataset) == 0:
        raise FieldError(("body", "dataset"), f"dataset: no runs stored for {body.dataset!r}")
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]
    with db.write_session() as session, session.begin():
        job_id = queue.enqueue(
            session,
            "refit",
            payload,
            max_attempts=settings.job_max_attempts,
            dedupe_key=f"fit:{digest}",
        )
    return {"job_id": job_id, "status": "queued"}


@router.get("/jobs/{job_id}", response_model=JobPublic)
def read_job(job_id: str, db: DatabaseDep) -> Any:
    """A job's status, progress, result (``{law_id, version}`` for a published fit) and error."""
    job = queue.get_job(db, job_id) if len(job_id) <= 32 else None
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id!r}")
    return job


@router.get("/jobs", response_model=JobsPublic)
def read_jobs(
    db: DatabaseDep,
    status_: Annotated[
        Literal["queued", "running", "succeeded", "failed"] | None, Query(alias="status")
    ] = None,
    kind: Annotated[Literal["refit", "calibration"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The newest jobs, optionally by status and kind."""
    jobs = queue.list_jobs(db, status=status_, kind=kind, limit=limit)
    return {"data": jobs, "count": len(jobs)}
