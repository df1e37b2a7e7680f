"""Published law versions: fitted laws, stored as ``fitting.laws.to_dict`` JSON.

Versions of one law id count 1, 2, 3, ...; a version is written in the same
transaction that marks its fit job succeeded (see ``service.jobs.worker``), so a
job publishes at most one version (``job_id`` is unique, too).

Version numbers follow the data: a fit records its run snapshot (how many observations
it saw; runs are only ever added) in its report, and a fit on an older snapshot than
the latest version's is not published, whatever order the fits finish in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from flopwise.fitting.laws import Law, from_dict, to_dict
from flopwise.service.store.db import Database, advisory_lock
from flopwise.service.store.models import LawRow

__all__ = ["LawRecord", "get_version", "load_since", "publish", "versions_of"]


@dataclass(frozen=True)
class LawRecord:
    """A stored law version with how it was made."""

    row_id: int
    law: Law
    dataset: str
    form: str
    method: str
    job_id: str | None
    report: dict[str, Any]
    created_at: float


def _record(row: LawRow) -> LawRecord:
    return LawRecord(
        row_id=row.id,
        law=from_dict(row.body),
        dataset=row.dataset,
        form=row.form,
        method=row.method,
        job_id=row.job_id,
        report=dict(row.report),
        created_at=row.created_at,
    )


def publish(
    session: Session,
    law: Law,
    *,
    dataset: str,
    form: str,
    method: str,
    job_id: str | None,
    report: dict[str, Any],
    snapshot: int | None = None,
) -> tuple[int, bool]:
    """Write ``law`` as the next version of its id inside ``session``'s transaction;
    returns ``(version, False)``, or ``(latest version, True)`` when the latest version
    was fitted on a newer run snapshot than ``snapshot`` (nothing is written)."""
    # One lock for every publisher, not one per id: row ids then commit in order, so a
    # reader that has seen row k has seen every row below it (LawRegistry.refresh reads
    # rows above the last id it saw; two ids committing out of order would hide one).
    advisory_lock(session, "publish:laws")
    latest = session.scalars(
        select(LawRow).where(LawRow.law_id == law.id).order_by(LawRow.version.desc()).limit(1)
    ).first()
    if latest is not None and snapshot is not None:
        seen = (latest.report or {}).get("snapshot")
        if isinstance(seen, int) and seen > snapshot:
            return latest.version, True
    version = (latest.version if latest is not None else 0) + 1
    if snapshot is not None:
        report = {**report, "snapshot": snapshot}
    versioned = law.evolve(version=version)
    session.add(
        LawRow(
            law_id=law.id,
            version=version,
            dataset=dataset,
            form=form,
            method=method,
            job_id=job_id,
            body=to_dict(versioned),
            report=report,
            created_at=time.time(),
        )
    )
    session.flush()
    return version, False


def load_since(db: Database, row_id: int) -> list[LawRecord]:
    """Versions published after stored row ``row_id`` (0: all), oldest first."""
    with db.read_session() as session:
        rows = session.scalars(select(LawRow).where(LawRow.id > row_id).order_by(LawRow.id))
        return [_record(row) for row in rows]


def get_version(db: Database, law_id: str, version: int) -> LawRecord | None:
    """One stored version."""
    with db.read_session() as session:
        row = session.scalars(
            select(LawRow).where(LawRow.law_id == law_id, LawRow.version == version)
        ).first()
        return None if row is None else _record(row)


def versions_of(db: Database, law_id: str) -> list[int]:
    """Stored versions of ``law_id``, ascending."""
    with db.read_session() as session:
        query = select(LawRow.version).where(LawRow.law_id == law_id).order_by(LawRow.version)
        return [int(v) for v in session.scalars(query)]
