"""Published throughput models (``fitting.throughput``), versioned like laws, and the
registry that resolves ``id`` or ``id@version`` to one: built-ins first, then the store.

A refit publishes ``<dataset>-throughput`` when the dataset's runs carry step times
(see ``service.jobs.refit``); versions count 1, 2, 3, ... per id. A job publishes at
most one version (``job_id`` is unique), so a retried job does not publish twice.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace

from sqlalchemy import String, UniqueConstraint, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from flopwise.fitting.throughput.catalogue import builtin_throughputs
from flopwise.fitting.throughput.model import ThroughputModel, from_dict, to_dict
from flopwise.service.store.db import Database, advisory_lock
from flopwise.service.store.models import Base, PublishedRow

__all__ = [
    "ThroughputRecord",
    "ThroughputRegistry",
    "ThroughputRow",
    "UnknownThroughput",
    "latest_throughput",
    "publish_throughput",
]


class ThroughputRow(PublishedRow, Base):
    """A published throughput model version; ``body`` is ``fitting.throughput.to_dict``."""

    __tablename__ = "throughput_models"
    __table_args__ = (
        UniqueConstraint("model_id", "version", name="uq_throughput_version"),
        UniqueConstraint("job_id", name="uq_throughput_job"),
    )

    model_id: Mapped[str] = mapped_column(String(160), index=True)


@dataclass(frozen=True)
class ThroughputRecord:
    """A stored version and where it came from."""

    row_id: int
    model: ThroughputModel
    dataset: str
    job_id: str | None
    created_at: float


def publish_throughput(
    db: Database, model: ThroughputModel, *, dataset: str, job_id: str | None
) -> int | None:
    """Store ``model`` as the next version of its id; ``None`` if ``job_id`` published one."""
    try:
        with db.write_session.begin() as session:
            advisory_lock(session, "publish:throughput")  # ids commit in order (see laws.py)
            latest = session.scalar(
                select(func.max(ThroughputRow.version)).where(ThroughputRow.model_id == model.id)
            )
            version = int(latest or 0) + 1
            session.add(
                ThroughputRow(
                    model_id=model.id,
                    version=version,
                    dataset=dataset,
                    job_id=job_id,
                    body=to_dict(replace(model, version=version)),
                    created_at=time.time(),
                )
            )
    except IntegrityError:
        return None
    return version


def latest_throughput(db: Database, model_id: str) -> ThroughputModel | None:
    """The latest stored version of ``model_id``, or ``None``."""
    with db.read_session() as session:
        row = session.scalars(
            select(ThroughputRow)
            .where(ThroughputRow.model_id == model_id)
            .order_by(ThroughputRow.version.desc())
        ).first()
        return None if row is None else from_dict(row.body)


class UnknownThroughput(LookupError):
    """No throughput model (or no such version) under the reference given."""


class ThroughputRegistry:
    """Built-in and published throughput models; each version is read once and kept,
    so a model is the same object every time (its answers' caches key on it)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._records: dict[tuple[str, int], ThroughputRecord] = {}
        self._last_row = 0
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Read versions published since the last refresh."""
        with self._lock, self._db.read_session() as session:
            rows = session.scalars(
                select(ThroughputRow)
                .where(ThroughputRow.id > self._last_row)
                .order_by(ThroughputRow.id)
            )
            for row in rows:
                model = from_dict(row.body)
                record = ThroughputRecord(row.id, model, row.dataset, row.job_id, row.created_at)
                self._records[(model.id, model.version)] = record
                self._last_row = max(self._last_row, row.id)

    def published(self) -> list[ThroughputRecord]:
        """The latest version of every published model."""
        self.refresh()
        latest: dict[str, ThroughputRecord] = {}
        for (model_id, _version), rec in sorted(self._records.items()):
            latest[model_id] = rec
        return list(latest.values())

    def versions(self, model_id: str) -> list[int]:
        return sorted(v for (i, v) in self._records if i == model_id)

    def record(self, model: ThroughputModel) -> ThroughputRecord | None:
        return self._records.get((model.id, model.version))

    def resolve(self, ref: str) -> ThroughputModel:
        """The model under ``ref``; ``UnknownThroughput`` (naming ``throughput``) otherwise."""
        model_id, _, version_text = ref.partition("@")
        builtin = builtin_throughputs().get(model_id)
        if builtin is not None and version_text in ("", str(builtin.version)):
            return builtin
        if version_text and not version_text.isdigit():
            raise UnknownThroughput(f"throughput: version must be a whole number, got {ref!r}")
        self.refresh()
        versions = self.versions(model_id)
        if not versions:
            known = ", ".join([*builtin_throughputs(), *(r.model.id for r in self.published())])
            raise UnknownThroughput(
                f"throughput: unknown throughput model {model_id!r}; known: {known}"
            )
        version = int(version_text) if version_text else versions[-1]
        if version not in versions:
            raise UnknownThroughput(f"throughput: {model_id!r} has no version {version}")
        return self._records[(model_id, version)].model
