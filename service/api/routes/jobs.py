"""``POST /v1/fits`` (queue a refit), ``GET /v1/jobs/{job_id}``, ``GET /v1/jobs`` and
``POST /v1/jobs/{job_id}/cancel``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status

from flopwise.service.api.deps import (
    DatabaseDep,
    RegistriesDep,
    SettingsDep,
    may_write,
    require_reader,
    require_writer,
)
from flopwise.service.api.responses import AUTH, BODY, CONFLICT, INVALID, NOT_FOUND
from flopwise.service.errors import FieldError, field_error
from flopwise.service.jobs.calibration import clean_up_after
from flopwise.service.jobs.refit import refit_payload
from flopwise.service.registry import Registries
from flopwise.service.schemas.jobs import FitCreate, JobAccepted, JobPublic, JobsPublic
from flopwise.service.store import jobs as queue
from flopwise.service.store.jobs import Job
from flopwise.service.store.runs import count_runs

router = APIRouter(prefix="/v1", tags=["jobs"], responses={**INVALID, **AUTH})
JobId = Annotated[str, Path(description="A job id (32 hex digits).")]


@router.post(
    "/fits",
    response_model=JobAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(require_writer)],
    responses=BODY,
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


def _job_or_404(db: DatabaseDep, job_id: str) -> Any:
    valid = len(job_id) == 32 and all(c in "0123456789abcdef" for c in job_id)
    job = queue.get_job(db, job_id) if valid else None
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no job {job_id!r}")
    return job


@router.get(
    "/jobs/{job_id}",
    response_model=JobPublic,
    dependencies=[Depends(require_reader)],
    responses=NOT_FOUND,
)
def read_job(job_id: JobId, db: DatabaseDep, registries: RegistriesDep, request: Request) -> Any:
    """A job's status, progress, result (``{law_id, version}`` for a published fit) and error.

    Once this says a fit published a version, this process's answers use it (and the
    throughput model its report says it published)."""
    job = _job_or_404(db, job_id)
    _catch_up(registries, [job])
    return shown(job, may_write(request))


PRIVATE = frozenset(
    {"corpus", "slurm_account", "slurm_partition", "slurm_qos", "slurm_options", "service_url"}
)
"""Payload fields only writers see: where a calibration reads its text from, which
Slurm account pays for it."""


def shown(job: Job, writer: bool) -> Job:
    """``job`` as a reader sees it: without the payload's private fields, the worker's
    ``host:pid`` or the trainer's process, unless the request may write."""
    if writer:
        return job
    progress = {k: v for k, v in job.progress.items() if k != "trainer"}
    payload = {k: v for k, v in job.payload.items() if k not in PRIVATE}
    return replace(job, payload=payload, progress=progress, lease_owner=None)


def _ref(block: Any, id_key: str) -> tuple[str, int] | None:
    """``(id, version)`` of a ``{id_key: str, "version": int}`` block, else ``None``."""
    if not isinstance(block, dict):
        return None
    ident, version = block.get(id_key), block.get("version")
    if isinstance(ident, str) and isinstance(version, int) and not isinstance(version, bool):
        return ident, version
    return None


def _catch_up(registries: Registries, jobs: list[Job]) -> None:
    """Load the versions that succeeded ``jobs`` published before reporting them (the
    worker refreshes just after its commit, so a poll could otherwise win the race):
    laws from the jobs' results, then throughput models from those laws' reports (a
    refit publishes its throughput model before its law)."""
    done = [job.result for job in jobs if job.status == "succeeded"]
    laws = [ref for ref in (_ref(result, "law_id") for result in done) if ref is not None]
    registries.laws.catch_up(laws)
    records = [registries.laws.record(*law) for law in laws]
    blocks = [r.report.get("throughput") for r in records if r is not None]
    models = [_ref(b, "id") for b in blocks if isinstance(b, dict) and b.get("published")]
    registries.throughput.catch_up([m for m in models if m is not None])


@router.post(
    "/jobs/{job_id}/cancel",
    response_model=JobPublic,
    dependencies=[Depends(require_writer)],
    responses={**NOT_FOUND, **CONFLICT},
)
def cancel_job(job_id: JobId, db: DatabaseDep, settings: SettingsDep) -> Any:
    """Cancel a queued or running job. A running calibration's trainer (its whole process
    group) is stopped within a heartbeat; the job's ``progress`` keeps what it finished.
    A calibration no live worker holds (its worker died, or it ended) has what it left
    stopped here: its trainer on this host, its Slurm jobs. 409 when the job has ended
    and left nothing running."""
    before = _job_or_404(db, job_id)
    cancelled = queue.cancel(db, job_id) == "cancelled"
    cleaned = clean_up_after(before, settings)
    if not cancelled and not cleaned:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"job {job_id!r} already ended")
    return _job_or_404(db, job_id)


@router.get("/jobs", response_model=JobsPublic, dependencies=[Depends(require_reader)])
def read_jobs(
    db: DatabaseDep,
    registries: RegistriesDep,
    request: Request,
    status_: Annotated[
        Literal["queued", "running", "succeeded", "failed", "cancelled"] | None,
        Query(alias="status"),
    ] = None,
    kind: Annotated[Literal["refit", "calibration"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The newest jobs, optionally by status and kind."""
    jobs = queue.list_jobs(db, status=status_, kind=kind, limit=limit)
    _catch_up(registries, jobs)
    writer = may_write(request)
    return {"data": [shown(job, writer) for job in jobs], "count": len(jobs)}
