"""Tables: training-run observations, published versions (laws, throughput models...)
and the job queue.

Times are UNIX seconds (floats) from the writing process's clock: exact, comparable in
SQL on every dialect, and what leases need (hosts are assumed NTP-synchronised). The
schema is created and changed only by the Alembic migrations in
``service/migrations``; these classes describe it for queries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Double, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "ExclusionRow", "JobRow", "PublishedRow", "RunRow"]

QUEUED_ONLY = text("status = 'queued'")


class Base(DeclarativeBase):
    """Declarative base of the service's tables."""


class RunRow(Base):
    """One evaluation of one training run; unique on (dataset, run, tokens)."""

    __tablename__ = "runs"
    __table_args__ = (UniqueConstraint("dataset", "run", "tokens", name="uq_runs_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    run: Mapped[str] = mapped_column(String(200))
    tokens: Mapped[float] = mapped_column(Double())
    params: Mapped[float] = mapped_column(Double())
    loss: Mapped[float] = mapped_column(Double())
    width: Mapped[int | None] = mapped_column(Integer, nullable=True)
    depth: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flops: Mapped[float | None] = mapped_column(Double(), nullable=True)
    seconds_per_step: Mapped[float | None] = mapped_column(Double(), nullable=True)
    n_gpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gpu: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[float] = mapped_column(Double())
    unique_tokens: Mapped[float | None] = mapped_column(Double(), nullable=True)
    """Unique tokens behind ``tokens`` (repeated data); migration 0002."""
    metrics: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    """Named metrics besides the loss (``{"hellaswag_acc": 0.41}``); NULL when none;
    migration 0006."""
    lr: Mapped[float | None] = mapped_column(Double(), nullable=True)
    """The learning rate in force at the evaluation (loss curves); migration 0007."""
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The run's learning-rate schedule (``fitting.schedules.Schedule`` as JSON); NULL
    when the run names none; migration 0007."""


class ExclusionRow(Base):
    """A run left out of its dataset's fits, from ``excluded_at`` until ``restored_at``
    (``None``: still excluded); rows are never rewritten but to restore, so the history
    of what each fit could see stays. Migration 0005."""

    __tablename__ = "run_exclusions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    run: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    excluded_at: Mapped[float] = mapped_column(Double())
    restored_at: Mapped[float | None] = mapped_column(Double(), nullable=True)


class PublishedRow(Base):
    """One published version of an artefact of some ``kind`` (``"law"``,
    ``"throughput"``...; ``service.store.published``): ``body`` is its codec's JSON,
    ``job_id`` the job that published it (a job publishes at most one version of a
    kind), ``dataset`` the runs it was fitted to, ``report`` how the fit went and
    ``labels`` short strings it is filed under (a law's form and fit method).
    Migration 0004 (one table for every kind; ``laws`` and ``throughput_models`` before)."""

    __tablename__ = "published"
    __table_args__ = (
        UniqueConstraint("kind", "artefact_id", "version", name="uq_published_version"),
        UniqueConstraint("kind", "job_id", name="uq_published_job"),
        Index("ix_published_kind_row", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    artefact_id: Mapped[str] = mapped_column(String(160))
    version: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Double())


class JobRow(Base):
    """A durable job: queued -> running (leased) -> succeeded | failed."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "status", "run_after"),
        Index(
            "uq_jobs_queued_dedupe",
            "dedupe_key",
            unique=True,
            sqlite_where=QUEUED_ONLY,
            postgresql_where=QUEUED_ONLY,
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    progress: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[float] = mapped_column(Double())
    lease_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Double(), nullable=True)
    created_at: Mapped[float] = mapped_column(Double())
    updated_at: Mapped[float] = mapped_column(Double())
    finished_at: Mapped[float | None] = mapped_column(Double(), nullable=True)
