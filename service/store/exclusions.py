"""Runs left out of a dataset's fits (issue 24), and runs deleted.

An exclusion is a row with its reason and time, lifted by ``restore`` (which sets
``restored_at``): the table is the history of what each fit could see, and every
refit's report names the runs it left out, so each published version says what it was
fitted without. Deleting a run removes its observations for good.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from flopwise.service.store.db import Database
from flopwise.service.store.models import ExclusionRow, RunRow

__all__ = [
    "Exclusion",
    "data_snapshot",
    "delete_run",
    "exclude",
    "excluded",
    "history",
    "restore",
]


@dataclass(frozen=True)
class Exclusion:
    """One run left out of its dataset's fits, and why (``restored_at``: when that ended)."""

    dataset: str
    run: str
    reason: str
    excluded_at: float
    restored_at: float | None = None


def _value(row: ExclusionRow) -> Exclusion:
    return Exclusion(row.dataset, row.run, row.reason, row.excluded_at, row.restored_at)


def _current(dataset: str, run: str) -> object:
    return (
        (ExclusionRow.dataset == dataset)
        & (ExclusionRow.run == run)
        & ExclusionRow.restored_at.is_(None)
    )


def exclude(
    db: Database, dataset: str, run: str, reason: str, *, now: float | None = None
) -> Exclusion:
    """Leave ``run`` out of ``dataset``'s fits (again ``reason`` when already excluded)."""
    at = time.time() if now is None else now
    with db.write_session() as session, session.begin():
        row = session.scalar(select(ExclusionRow).where(_current(dataset, run)))  # type: ignore[arg-type]
        if row is None:
            row = ExclusionRow(dataset=dataset, run=run, reason=reason, excluded_at=at)
            session.add(row)
        return _value(row)


def restore(db: Database, dataset: str, run: str, *, now: float | None = None) -> Exclusion | None:
    """Take ``run`` back into ``dataset``'s fits; the exclusion it lifted, or ``None``."""
    at = time.time() if now is None else now
    with db.write_session() as session, session.begin():
        row = session.scalar(select(ExclusionRow).where(_current(dataset, run)))  # type: ignore[arg-type]
        if row is None:
            return None
        row.restored_at = at
        return _value(row)


def excluded(db: Database, dataset: str) -> dict[str, str]:
    """The runs of ``dataset`` excluded now, with their reasons."""
    with db.read_session() as session:
        rows = session.scalars(
            select(ExclusionRow).where(
                ExclusionRow.dataset == dataset, ExclusionRow.restored_at.is_(None)
            )
        )
        return {row.run: row.reason for row in rows}


def history(db: Database, dataset: str) -> list[Exclusion]:
    """Every exclusion of ``dataset``'s runs, oldest first, lifted ones included."""
    with db.read_session() as session:
        rows = session.scalars(
            select(ExclusionRow).where(ExclusionRow.dataset == dataset).order_by(ExclusionRow.id)
        )
        return [_value(row) for row in rows]


def delete_run(db: Database, dataset: str, run: str, *, now: float | None = None) -> int:
    """Delete every observation of ``run`` in ``dataset``; how many there were. The
    history keeps a lifted exclusion saying so."""
    at = time.time() if now is None else now
    with db.write_session() as session, session.begin():
        done = session.execute(delete(RunRow).where(RunRow.dataset == dataset, RunRow.run == run))
        count = int(done.rowcount or 0)  # type: ignore[attr-defined]
        if count:
            reason = f"deleted ({count} observations)"
            session.add(
                ExclusionRow(
                    dataset=dataset, run=run, reason=reason, excluded_at=at, restored_at=at
                )
            )
        return count


def data_snapshot(db: Database, dataset: str) -> int:
    """When ``dataset``'s data last changed (a run stored, excluded, restored or deleted),
    in microseconds: a refit passes it as its publication's snapshot, so a fit of older
    data never becomes the latest version, whatever order the fits finish in."""
    changed = func.coalesce(ExclusionRow.restored_at, ExclusionRow.excluded_at)
    with db.read_session() as session:
        stored = session.scalar(
            select(func.max(RunRow.created_at)).where(RunRow.dataset == dataset)
        )
        edited = session.scalar(select(func.max(changed)).where(ExclusionRow.dataset == dataset))
    latest = max(v for v in (stored, edited, 0.0) if v is not None)
    return int(latest * 1e6)
