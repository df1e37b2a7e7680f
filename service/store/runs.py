"""Training-run observations: idempotent batch ingestion and listing.

A batch is written in one transaction together with the refit jobs it queues, so
an acknowledged batch is both stored and scheduled for fitting, or neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from flopwise.service.store.db import Database
from flopwise.service.store.models import RunRow

__all__ = ["IngestResult", "RunRecord", "count_runs", "ingest", "list_runs", "load_records"]

CHUNK = 500
"""Rows per INSERT statement (SQLite allows 32,766 bound variables; 18 per row)."""


@dataclass(frozen=True, kw_only=True)
class RunRecord:
    """One observation, as stored."""

    dataset: str
    run: str
    params: float
    tokens: float
    loss: float
    width: int | None = None
    depth: int | None = None
    flops: float | None = None
    seconds_per_step: float | None = None
    n_gpus: int | None = None
    gpu: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    id: int | None = None
    created_at: float | None = None
    unique_tokens: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    lr: float | None = None
    """The LR in force at the evaluation (migration 0007)."""
    schedule: dict[str, Any] | None = None
    """The run's learning-rate schedule as JSON (migration 0007)."""


@dataclass(frozen=True)
class IngestResult:
    """What one batch did: rows new to the store, rows it already had, refits queued."""

    received: int
    inserted: int
    duplicates: int
    refit_jobs: dict[str, str]
    """Dataset -> the id of the (debounced) refit job the batch queued or delayed."""


def dialect_insert(session: Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """``INSERT`` with ``ON CONFLICT`` support for the session's dialect."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _row(record: RunRecord, now: float) -> dict[str, Any]:
    row = asdict(record)
    row.pop("id")
    row["created_at"] = now
    row["metrics"] = row["metrics"] or None  # NULL for runs without metrics (migration 0006)
    return row


def insert_runs(session: Session, records: Sequence[RunRecord], now: float) -> dict[str, int]:
    """Insert ``records`` (skipping keys already stored); new rows per dataset."""
    unique: dict[tuple[str, str, float], RunRecord] = {}
    for record in records:
        unique.setdefault((record.dataset, record.run, record.tokens), record)
    rows = [_row(r, now) for r in unique.values()]
    inserted: dict[str, int] = {}
    for start in range(0, len(rows), CHUNK):
        stmt = (
            dialect_insert(session, RunRow)
            .values(rows[start : start + CHUNK])
            .on_conflict_do_nothing(index_elements=["dataset", "run", "tokens"])
            .returning(RunRow.dataset)
        )
        for dataset in session.scalars(stmt):
            inserted[dataset] = inserted.get(dataset, 0) + 1
    return inserted


def ingest(
    db: Database,
    records: Sequence[RunRecord],
    *,
    queue_refit: Callable[[Session, str, float], str] | None = None,
) -> IngestResult:
    """Store ``records`` in one transaction; ``queue_refit(session, dataset, now) -> job id``
    is called inside it for every dataset that gained rows."""
    now = time.time()
    jobs: dict[str, str] = {}
    with db.write_session() as session, session.begin():
        inserted = insert_runs(session, records, now)
        if queue_refit is not None:
            for dataset in sorted(inserted):
                jobs[dataset] = queue_refit(session, dataset, now)
    total = sum(inserted.values())
    return IngestResult(len(records), total, len(records) - total, jobs)


def _filtered(query: Any, dataset: str | None, run: str | None) -> Any:
    if dataset is not None:
        query = query.where(RunRow.dataset == dataset)
    if run is not None:
        query = query.where(RunRow.run == run)
    return query


def _record(row: RunRow) -> RunRecord:
    return RunRecord(
        id=row.id,
        dataset=row.dataset,
        run=row.run,
        params=row.params,
        tokens=row.tokens,
        loss=row.loss,
        width=row.width,
        depth=row.depth,
        flops=row.flops,
        seconds_per_step=row.seconds_per_step,
        n_gpus=row.n_gpus,
        gpu=row.gpu,
        tags=dict(row.tags or {}),
        created_at=row.created_at,
        unique_tokens=row.unique_tokens,
        metrics=dict(row.metrics or {}),
        lr=row.lr,
        schedule=None if row.schedule is None else dict(row.schedule),
    )


def list_runs(
    db: Database,
    *,
    dataset: str | None = None,
    run: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[RunRecord], int]:
    """A page of observations (oldest first) and how many match in all."""
    with db.read_session() as session:
        total = session.scalar(_filtered(select(func.count(RunRow.id)), dataset, run)) or 0
        query = _filtered(select(RunRow), dataset, run).order_by(RunRow.id)
        rows = session.scalars(query.offset(offset).limit(limit)).all()
        return [_record(r) for r in rows], int(total)


def count_runs(db: Database, dataset: str) -> int:
    """Observations stored for ``dataset``."""
    with db.read_session() as session:
        return int(session.scalar(_filtered(select(func.count(RunRow.id)), dataset, None)) or 0)


def load_records(db: Database, dataset: str) -> list[dict[str, Any]]:
    """Every observation of ``dataset`` as the dicts ``fitting.runs.Runs.from_records`` takes
    (with its tags, which a sweep's batch rides in)."""
    columns = (RunRow.run, RunRow.params, RunRow.tokens, RunRow.loss, RunRow.width, RunRow.depth)
    extra = (RunRow.flops, RunRow.seconds_per_step, RunRow.unique_tokens, RunRow.metrics)
    curves = (RunRow.lr, RunRow.schedule, RunRow.tags)
    with db.read_session() as session:
        rows = session.execute(
            select(*columns, *extra, *curves).where(RunRow.dataset == dataset).order_by(RunRow.id)
        ).all()
    return [{**row._mapping, "metrics": row.metrics or {}, "tags": row.tags or {}} for row in rows]
