"""A durable job queue in the database, claimed with leases.

A job is ``queued`` until a worker claims it (``running``, with a lease the worker
renews); it ends ``succeeded`` or ``failed``. A worker that dies stops renewing;
once its lease expires another worker reclaims the job, up to ``max_attempts``
claims in all. Every state change a worker makes is guarded by its lease (the row's
``lease_owner``), so a worker that lost its lease can neither finish nor fail a job
someone else now holds: the job's effects are committed at most once.

Claiming uses ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL; on SQLite the
write transaction (``BEGIN IMMEDIATE``) already excludes other writers. At most one
refit of a dataset runs at a time: a due refit whose dataset has a refit running under
a live lease waits (on PostgreSQL an advisory lock per dataset serialises the check).

Cancelling: a queued job becomes ``cancelled`` at once; a running one becomes
``cancelled`` too, which its worker's next heartbeat sees (the lease is no longer
``running``): it stops the work and records what it finished.

Every function that reads the clock takes ``now=`` (UNIX seconds) so tests inject it.

Debouncing: a job with a ``dedupe_key`` is unique among *queued* jobs (a partial
unique index). Queuing a second one instead pushes the queued one's ``run_after``
later, at most ``max_delay`` seconds after it was first queued.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flopwise.service.store.db import Database, advisory_lock
from flopwise.service.store.models import QUEUED_ONLY, JobRow
from flopwise.service.store.runs import dialect_insert

__all__ = [
    "STATUSES",
    "Job",
    "cancel",
    "claim",
    "complete",
    "count_active",
    "enqueue",
    "fail",
    "get_job",
    "heartbeat",
    "is_cancelled",
    "list_jobs",
    "queue_depth",
    "record_cancelled",
]

STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
CLAIM_CANDIDATES = 16
"""Due jobs examined per claim (a refit waiting for its dataset is skipped)."""
RETRY_BACKOFF_SECONDS = 2.0


@dataclass(frozen=True)
class Job:
    """A job as a value (a snapshot of its row)."""

    id: str
    kind: str
    status: str
    payload: dict[str, Any]
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    max_attempts: int
    lease_owner: str | None
    created_at: float
    updated_at: float
    finished_at: float | None
    lease_expires_at: float | None = None
    """When the holding worker's lease runs out (a running job past it has no live worker)."""


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        status=row.status,
        payload=dict(row.payload),
        progress=dict(row.progress or {}),
        result=None if row.result is None else dict(row.result),
        error=row.error,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        lease_owner=row.lease_owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        lease_expires_at=row.lease_expires_at,
    )


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    max_attempts: int,
    now: float | None = None,
    delay: float = 0.0,
    dedupe_key: str | None = None,
    max_delay: float = 0.0,
) -> str:
    """Queue a job inside ``session``'s transaction; returns its id (an existing queued
    job's id when ``dedupe_key`` matches one, whose start is then pushed back)."""
    now = time.time() if now is None else now
    row = {
        "id": uuid.uuid4().hex,
        "kind": kind,
        "status": "queued",
        "payload": payload,
        "progress": {},
        "attempts": 0,
        "max_attempts": max_attempts,
        "run_after": now + delay,
        "dedupe_key": dedupe_key,
        "created_at": now,
        "updated_at": now,
    }
    stmt = dialect_insert(session, JobRow).values(row)
    if dedupe_key is not None:
        latest = JobRow.created_at + max(max_delay, delay)
        later = stmt.excluded.run_after
        stmt = stmt.on_conflict_do_update(
            index_elements=["dedupe_key"],
            index_where=QUEUED_ONLY,
            set_={
                "run_after": case((later < latest, later), else_=latest),
                "updated_at": stmt.excluded.updated_at,
            },
        )
    return str(session.scalar(stmt.returning(JobRow.id)))


def claim(
    db: Database,
    owner: str,
    lease_seconds: float,
    kinds: tuple[str, ...],
    *,
    now: float | None = None,
) -> Job | None:
    """Take the next due job (or one whose lease expired) for ``owner``, or ``None``."""
    while True:
        at = time.time() if now is None else now
        with db.write_session() as session, session.begin():
            due = or_(
                and_(JobRow.status == "queued", JobRow.run_after <= at),
                and_(JobRow.status == "running", JobRow.lease_expires_at < at),
            )
            query = (
                select(JobRow)
                .where(due, JobRow.kind.in_(kinds))
                .order_by(JobRow.run_after)
                .limit(CLAIM_CANDIDATES)
                .with_for_update(skip_locked=True)
            )
            row = next(
                (r for r in session.scalars(query) if not _dataset_busy(session, r, at)), None
            )
            if row is None:
                return None
            if row.attempts >= row.max_attempts:  # its last worker died holding it
                row.status, row.finished_at, row.updated_at = "failed", at, at
                row.error = (
                    f"the worker holding the job stopped renewing its lease "
                    f"({row.attempts} of {row.max_attempts} attempts used)"
                )
                continue
            row.status, row.lease_owner = "running", owner
            row.lease_expires_at, row.updated_at = at + lease_seconds, at
            row.attempts += 1
            if row.attempts > 1:
                row.progress = {**(row.progress or {}), "reclaimed": row.attempts - 1}
            return _job(row)


def _dataset_busy(session: Session, row: JobRow, now: float) -> bool:
    """Whether ``row`` is a refit whose dataset another live refit is fitting now."""
    dataset = (row.payload or {}).get("dataset") if row.kind == "refit" else None
    if dataset is None:
        return False
    advisory_lock(session, f"refit:{dataset}")  # serialise claims per dataset
    running = session.scalars(
        select(JobRow.payload).where(
            JobRow.kind == "refit",
            JobRow.status == "running",
            JobRow.lease_expires_at >= now,
            JobRow.id != row.id,
        )
    )
    return any((payload or {}).get("dataset") == dataset for payload in running)


def _owned(job_id: str, owner: str) -> Any:
    return and_(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "running")


def heartbeat(
    db: Database,
    job_id: str,
    owner: str,
    lease_seconds: float,
    progress: dict[str, Any] | None = None,
    *,
    now: float | None = None,
) -> bool:
    """Renew ``owner``'s lease (and record progress); ``False`` when the lease was lost
    (or the job was cancelled)."""
    now = time.time() if now is None else now
    values: dict[str, Any] = {"lease_expires_at": now + lease_seconds, "updated_at": now}
    if progress is not None:
        values["progress"] = progress
    with db.write_session() as session, session.begin():
        result = session.execute(update(JobRow).where(_owned(job_id, owner)).values(**values))
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def complete(
    session: Session,
    job_id: str,
    owner: str,
    result: dict[str, Any] | None,
    progress: dict[str, Any] | None = None,
    *,
    now: float | None = None,
) -> bool:
    """Mark the job succeeded inside ``session``'s transaction, if ``owner`` still holds it.

    The caller commits its other effects (a published law) in the same transaction
    and rolls back when this returns ``False``.
    """
    now = time.time() if now is None else now
    values: dict[str, Any] = {"status": "succeeded", "result": result, "error": None}
    values.update(finished_at=now, updated_at=now)
    if progress is not None:
        values["progress"] = progress
    stmt = update(JobRow).where(_owned(job_id, owner)).values(**values)
    return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def fail(
    db: Database,
    job_id: str,
    owner: str,
    error: str,
    *,
    retry: bool,
    progress: dict[str, Any] | None = None,
    now: float | None = None,
) -> str | None:
    """Record a failed attempt: back to ``queued`` (after a pause) while attempts remain and
    ``retry`` is set, else ``failed``. Returns the new status, ``None`` if the lease was lost."""
    at = time.time() if now is None else now
    try:
        return _fail(db, job_id, owner, error, retry=retry, progress=progress, now=at)
    except IntegrityError:  # a twin was queued meanwhile: this attempt ends the job
        return _fail(db, job_id, owner, error, retry=False, progress=progress, now=at)


def _fail(
    db: Database,
    job_id: str,
    owner: str,
    error: str,
    *,
    retry: bool,
    progress: dict[str, Any] | None,
    now: float,
) -> str | None:
    with db.write_session() as session, session.begin():
        row = session.scalars(select(JobRow).where(_owned(job_id, owner))).first()
        if row is None:
            return None
        if progress is not None:
            row.progress = progress
        row.error, row.updated_at, row.lease_owner, row.lease_expires_at = error, now, None, None
        twin = None
        if row.dedupe_key is not None:
            twin = session.scalar(
                select(JobRow.id).where(JobRow.dedupe_key == row.dedupe_key, QUEUED_ONLY)
            )
        if retry and row.attempts < row.max_attempts and twin is None:
            row.status, row.run_after = "queued", now + RETRY_BACKOFF_SECONDS * row.attempts
        else:
            row.status, row.finished_at = "failed", now
            if twin is not None:
                row.error = f"{error} (job {twin}, queued since, refits the same data)"
        return row.status


def cancel(db: Database, job_id: str, *, now: float | None = None) -> str | None:
    """Cancel a queued or running job; returns its status afterwards (``None``: no such
    job). A running job's worker sees it at its next heartbeat and stops the work."""
    now = time.time() if now is None else now
    with db.write_session() as session, session.begin():
        row = session.get(JobRow, job_id)
        if row is None:
            return None
        if row.status in ("queued", "running"):
            row.status, row.updated_at, row.finished_at = "cancelled", now, now
            row.error = "cancelled on request"
        return row.status


def record_cancelled(
    db: Database, job_id: str, owner: str, progress: dict[str, Any], *, now: float | None = None
) -> bool:
    """Write the final progress of a cancelled job its worker (``owner``) stopped."""
    now = time.time() if now is None else now
    where = and_(JobRow.id == job_id, JobRow.lease_owner == owner, JobRow.status == "cancelled")
    with db.write_session() as session, session.begin():
        stmt = update(JobRow).where(where).values(progress=progress, updated_at=now)
        return bool(session.execute(stmt).rowcount == 1)  # type: ignore[attr-defined]


def is_cancelled(db: Database, job_id: str) -> bool:
    """Whether the job was cancelled."""
    with db.read_session() as session:
        return session.scalar(select(JobRow.status).where(JobRow.id == job_id)) == "cancelled"


def get_job(db: Database, job_id: str) -> Job | None:
    """One job by id."""
    with db.read_session() as session:
        row = session.get(JobRow, job_id)
        return None if row is None else _job(row)


def list_jobs(
    db: Database, *, status: str | None = None, kind: str | None = None, limit: int = 100
) -> list[Job]:
    """Newest jobs first, optionally filtered."""
    query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
    if status is not None:
        query = query.where(JobRow.status == status)
    if kind is not None:
        query = query.where(JobRow.kind == kind)
    with db.read_session() as session:
        return [_job(row) for row in session.scalars(query)]


def count_active(session: Session, kind: str) -> int:
    """Jobs of ``kind`` queued or running, inside ``session``'s transaction (on
    PostgreSQL it takes a lock per kind, so two writers cannot both pass a cap)."""
    advisory_lock(session, f"active:{kind}")
    query = select(func.count(JobRow.id)).where(
        JobRow.kind == kind, JobRow.status.in_(("queued", "running"))
    )
    return int(session.scalar(query) or 0)


def queue_depth(db: Database) -> dict[tuple[str, str], int]:
    """(kind, status) -> number of jobs, for queued and running jobs."""
    query = (
        select(JobRow.kind, JobRow.status, func.count(JobRow.id))
        .where(JobRow.status.in_(("queued", "running")))
        .group_by(JobRow.kind, JobRow.status)
    )
    with db.read_session() as session:
        return {(kind, status): int(n) for kind, status, n in session.execute(query)}
