"""One kind of published artefact held in memory: its built-in versions plus every
published one, addressed as ``id`` or ``id@version`` (``service.refs.parse_ref``).

Each process keeps its own copy. :meth:`Registry.refresh` reads the versions published
since the last row it saw and swaps in a new immutable :class:`Snapshot` in one
assignment, so a reader takes no lock and sees either the old set or the new one,
never a mapping being written. Refreshes take a lock among themselves. Each version
is decoded once and kept: an artefact is the same object every time (answer caches
key on it). ``service.registry`` holds one registry per kind and polls them all.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Generic

from flopwise.service.refs import RefError, UnknownRef, parse_ref
from flopwise.service.store.db import Database
from flopwise.service.store.published import Kind, Record, T, load_since

__all__ = ["Registry", "Snapshot"]


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """The published versions a registry has read: never changed once built."""

    records: Mapping[tuple[str, int], Record[T]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    versions: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """Published versions of each id, ascending (the last is the latest)."""
    last_row: int = 0

    def published(self) -> list[Record[T]]:
        """The latest version of every published id, by id."""
        return [self.records[(i, v[-1])] for i, v in sorted(self.versions.items())]

    def adding(self, new: list[Record[T]]) -> Snapshot[T]:
        """This snapshot with ``new`` (rows above ``last_row``, oldest first) added."""
        records = dict(self.records)
        versions = {**self.versions}
        for rec in new:
            records[(rec.value.id, rec.value.version)] = rec
            known = versions.get(rec.value.id, ())
            versions[rec.value.id] = tuple(sorted({*known, rec.value.version}))
        last = max((rec.row_id for rec in new), default=self.last_row)
        return Snapshot(MappingProxyType(records), MappingProxyType(versions), last)


class Registry(Generic[T]):
    """Resolve ``id`` or ``id@version`` to an artefact of ``kind``; a kind's registry
    is a subclass that sets ``kind``."""

    kind: Kind[T]

    def __init__(self, db: Database) -> None:
        self._db = db
        self._builtins = dict(self.kind.builtins())
        self._snapshot: Snapshot[T] = Snapshot()
        self._lock = threading.Lock()

    @property
    def snapshot(self) -> Snapshot[T]:
        """What this registry holds now (one read: consistent with itself)."""
        return self._snapshot

    def refresh(self) -> int:
        """Load versions published since the last refresh; returns how many."""
        with self._lock:
            old = self._snapshot
            new = load_since(self._db, self.kind, old.last_row)
            if new:
                self._snapshot = old.adding(new)
            return len(new)

    def catch_up(self, versions: Iterable[tuple[str, int]]) -> None:
        """Refresh once unless every ``(id, version)`` is loaded: a client told that a
        job published one finds it in this process's next answer (the poller may not
        have run yet)."""
        records = self._snapshot.records
        if any(key not in records for key in versions):
            self.refresh()

    def _unknown(self, message: str) -> UnknownRef:
        return self.kind.unknown(f"{self.kind.name}: {message}")

    def resolve(self, ref: str) -> T:
        """The artefact under ``ref`` (``id``: its latest version); ``kind.unknown``,
        naming the kind's field, for a reference that is malformed or names nothing."""
        try:
            ident, version = parse_ref(ref, self.kind.name)
        except RefError as exc:
            raise self.kind.unknown(str(exc)) from None
        snap = self._snapshot
        published = snap.versions.get(ident, ())
        builtin = self._builtins.get(ident)
        if builtin is None and not published:
            raise self._unknown(
                f"unknown {self.kind.noun} {ident!r}; {self.kind.listing} lists them"
            )
        if version is None:
            if not published:
                assert builtin is not None
                return builtin
            version = published[-1]
        rec = snap.records.get((ident, version))
        if rec is not None:
            return rec.value
        if builtin is not None and builtin.version == version:
            return builtin
        raise self._unknown(f"{ident!r} has no version {version}")

    def record(self, artefact_id: str, version: int) -> Record[T] | None:
        """How a published version was made (``None`` for built-ins)."""
        return self._snapshot.records.get((artefact_id, version))

    def versions(self, artefact_id: str) -> list[int]:
        """Published versions of ``artefact_id``, ascending."""
        return list(self._snapshot.versions.get(artefact_id, ()))

    def published(self) -> list[Record[T]]:
        """The latest version of every published id, by id."""
        return self._snapshot.published()

    def latest(self) -> list[T]:
        """What each id answers by default: built-ins (unless published over), then the
        latest version of every published id."""
        snap = self._snapshot
        shown = [b for i, b in self._builtins.items() if i not in snap.versions]
        return shown + [rec.value for rec in snap.published()]

    def loaded(self) -> dict[str, int]:
        """Id -> the version answers use by default."""
        out = {value.id: value.version for value in self._builtins.values()}
        out.update((i, v[-1]) for i, v in self._snapshot.versions.items())
        return out
