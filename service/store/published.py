"""Published versions of every kind of artefact (laws, throughput models, ...), written
once for all kinds: a :class:`Kind` says how one kind is stored (its name, its codec
to and from JSON) and which versions are built in.

Versions of one id count 1, 2, 3, ...; a job publishes at most one version of a kind
(a retried job gets the version it published before). A law is written in the same
transaction that marks its job succeeded (``service.jobs.worker``).

Version numbers can follow the data: a publisher that passes its run snapshot (how many
observations the fit saw; runs are only ever added) does not publish over a version
fitted on a newer snapshot, whatever order the fits finish in.

Row ids commit in order within a kind: every publisher of a kind takes one lock, so a
registry that has read a kind's rows up to id k has seen every row of that kind below
k. (Without it, on PostgreSQL a transaction that took a lower id but committed after
a higher one would be skipped by a reader that saw the higher one: commit 6dd4ddb.)
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from flopwise.service.refs import UnknownRef, check_id
from flopwise.service.store.db import Database, advisory_lock
from flopwise.service.store.models import PublishedRow

__all__ = [
    "Kind",
    "PublishResult",
    "Record",
    "Versioned",
    "get_version",
    "latest",
    "load_since",
    "publish",
    "versions_of",
]


class Versioned(Protocol):
    """What every published artefact has: an id and a version."""

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...


T = TypeVar("T", bound=Versioned)


def _with_version(value: Any, version: int) -> Any:
    return dataclasses.replace(value, version=version)


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of published artefact.

    ``name`` is stored with each row, names the publishers' lock and is the field a
    reference to one is given in (``"law"``, ``"throughput"``); ``noun`` is what
    messages call one; ``listing`` where a client finds them; ``encode``/``decode``
    its JSON codec; ``builtins`` the versions that ship with the code, by id;
    ``with_version`` the value renumbered (``dataclasses.replace`` by default);
    ``unknown`` the error a registry raises for a reference that names nothing."""

    name: str
    noun: str
    listing: str
    encode: Callable[[T], dict[str, Any]]
    decode: Callable[[dict[str, Any]], T]
    builtins: Callable[[], Mapping[str, T]]
    unknown: type[UnknownRef] = UnknownRef
    with_version: Callable[[T, int], T] = field(default=_with_version)


@dataclass(frozen=True)
class Record(Generic[T]):
    """A stored version and how it was made."""

    row_id: int
    value: T
    dataset: str
    job_id: str | None
    report: dict[str, Any]
    labels: dict[str, str]
    created_at: float


@dataclass(frozen=True)
class PublishResult:
    """What :func:`publish` did: ``"published"`` ``version``; or wrote nothing because
    the latest version (``version``) was fitted on newer data (``"superseded"``) or
    because the job already published ``version`` (``"repeated"``)."""

    version: int
    status: Literal["published", "superseded", "repeated"]

    @property
    def written(self) -> bool:
        return self.status == "published"


def _record(kind: Kind[T], row: PublishedRow) -> Record[T]:
    return Record(
        row_id=row.id,
        value=kind.decode(row.body),
        dataset=row.dataset,
        job_id=row.job_id,
        report=dict(row.report),
        labels=dict(row.labels),
        created_at=row.created_at,
    )


def _rows(kind: Kind[Any], artefact_id: str | None = None) -> Select[PublishedRow]:
    query = select(PublishedRow).where(PublishedRow.kind == kind.name)
    if artefact_id is not None:
        query = query.where(PublishedRow.artefact_id == artefact_id)
    return query


def _newer_data(row: PublishedRow | None, snapshot: int | None) -> bool:
    seen = None if row is None else (row.report or {}).get("snapshot")
    return snapshot is not None and isinstance(seen, int) and seen > snapshot


def publish(
    session: Session,
    kind: Kind[T],
    value: T,
    *,
    dataset: str,
    job_id: str | None,
    report: Mapping[str, Any] | None = None,
    labels: Mapping[str, str] | None = None,
    snapshot: int | None = None,
) -> PublishResult:
    """Write ``value`` as the next version of its id inside ``session``'s transaction
    (nothing when ``job_id`` already published one of this kind, or when the latest
    version was fitted on a newer run ``snapshot``). ``ArgumentError`` naming the
    kind for an id no reference could name."""
    check_id(value.id, kind.name)
    advisory_lock(session, f"publish:{kind.name}")
    if job_id is not None:
        done = session.scalars(_rows(kind).where(PublishedRow.job_id == job_id)).first()
        if done is not None:
            return PublishResult(done.version, "repeated")
    newest = _rows(kind, value.id).order_by(PublishedRow.version.desc()).limit(1)
    latest_row = session.scalars(newest).first()
    if latest_row is not None and _newer_data(latest_row, snapshot):
        return PublishResult(latest_row.version, "superseded")
    version = (latest_row.version if latest_row is not None else 0) + 1
    stored = dict(report or {})
    if snapshot is not None:
        stored["snapshot"] = snapshot
    session.add(
        PublishedRow(
            kind=kind.name,
            artefact_id=value.id,
            version=version,
            dataset=dataset,
            job_id=job_id,
            body=kind.encode(kind.with_version(value, version)),
            report=stored,
            labels=dict(labels or {}),
            created_at=time.time(),
        )
    )
    session.flush()
    return PublishResult(version, "published")


def load_since(db: Database, kind: Kind[T], row_id: int) -> list[Record[T]]:
    """Versions of ``kind`` published after stored row ``row_id`` (0: all), oldest first."""
    with db.read_session() as session:
        rows = session.scalars(
            _rows(kind).where(PublishedRow.id > row_id).order_by(PublishedRow.id)
        )
        return [_record(kind, row) for row in rows]


def get_version(db: Database, kind: Kind[T], artefact_id: str, version: int) -> Record[T] | None:
    """One stored version."""
    with db.read_session() as session:
        query = _rows(kind, artefact_id).where(PublishedRow.version == version)
        row = session.scalars(query).first()
        return None if row is None else _record(kind, row)


def latest(db: Database, kind: Kind[T], artefact_id: str) -> Record[T] | None:
    """The latest stored version of ``artefact_id``, or ``None``."""
    with db.read_session() as session:
        query = _rows(kind, artefact_id).order_by(PublishedRow.version.desc()).limit(1)
        row = session.scalars(query).first()
        return None if row is None else _record(kind, row)


def versions_of(db: Database, kind: Kind[Any], artefact_id: str) -> list[int]:
    """Stored versions of ``artefact_id``, ascending."""
    with db.read_session() as session:
        query = _rows(kind, artefact_id).with_only_columns(PublishedRow.version)
        return [int(v) for v in session.scalars(query.order_by(PublishedRow.version))]
