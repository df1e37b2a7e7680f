"""Laws held in memory: the built-in catalogue plus every published fitted version.

Each process keeps its own copy. ``refresh`` reads versions published since the last
one it saw and swaps the whole mapping in one assignment, so a request sees either
the old set or the new one. A poller thread refreshes every ``law_poll_seconds``:
a version published by any worker or replica reaches this process within that delay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from flopwise.fitting.catalogue import BUILTIN_LAWS
from flopwise.fitting.laws import Law
from flopwise.service.store.db import Database
from flopwise.service.store.laws import LawRecord, load_since

__all__ = ["LawRegistry", "UnknownLaw"]

log = logging.getLogger(__name__)


class UnknownLaw(LookupError):
    """No law (or no such version) under the reference given."""


@dataclass(frozen=True)
class _Snapshot:
    records: dict[tuple[str, int], LawRecord] = field(default_factory=dict)
    latest: dict[str, int] = field(default_factory=dict)
    last_row: int = 0


class LawRegistry:
    """Resolve ``id`` or ``id@version`` to a :class:`~fitting.laws.Law`."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._snapshot = _Snapshot()
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Load versions published since the last refresh; returns how many."""
        with self._lock:
            old = self._snapshot
            new = load_since(self._db, old.last_row)
            if not new:
                return 0
            records, latest = dict(old.records), dict(old.latest)
            for rec in new:
                records[(rec.law.id, rec.law.version)] = rec
                latest[rec.law.id] = max(latest.get(rec.law.id, 0), rec.law.version)
            self._snapshot = _Snapshot(records, latest, max(r.row_id for r in new))
            return len(new)

    def catch_up(self, versions: Iterable[tuple[str, int]]) -> None:
        """Refresh once unless every ``(law id, version)`` is loaded: a client told that a
        job published one finds it in this process's next answer (the poller may not
        have run yet)."""
        records = self._snapshot.records
        if any(key not in records for key in versions):
            self.refresh()

    def resolve(self, ref: str) -> Law:
        """The law under ``ref`` (``id`` = its latest version); ``UnknownLaw`` otherwise."""
        law_id, sep, version_text = ref.partition("@")
        snap = self._snapshot
        if sep:
            if not (version_text.isascii() and version_text.isdigit()) or len(version_text) > 9:
                raise UnknownLaw(f"law: version must be a whole number (ASCII digits), got {ref!r}")
            version = int(version_text)
        elif law_id in snap.latest:
            version = snap.latest[law_id]
        elif law_id in BUILTIN_LAWS:
            return BUILTIN_LAWS[law_id]
        else:
            raise UnknownLaw(f"law: unknown law {law_id!r}; GET /v1/laws lists them")
        rec = snap.records.get((law_id, version))
        if rec is not None:
            return rec.law
        builtin = BUILTIN_LAWS.get(law_id)
        if builtin is not None and builtin.version == version:
            return builtin
        if builtin is None and law_id not in snap.latest:
            raise UnknownLaw(f"law: unknown law {law_id!r}; GET /v1/laws lists them")
        raise UnknownLaw(f"law: {law_id!r} has no version {version}")

    def record(self, law_id: str, version: int) -> LawRecord | None:
        """How a fitted version was made (``None`` for built-in laws)."""
        return self._snapshot.records.get((law_id, version))

    def versions(self, law_id: str) -> list[int]:
        """Published versions of a fitted law, ascending."""
        return sorted(v for (i, v) in self._snapshot.records if i == law_id)

    def fitted(self) -> list[LawRecord]:
        """The latest version of every fitted law."""
        snap = self._snapshot
        return [snap.records[(i, v)] for i, v in sorted(snap.latest.items())]

    def loaded(self) -> dict[str, int]:
        """Law id -> the version answers use by default."""
        out = {law.id: law.version for law in BUILTIN_LAWS.values()}
        out.update(self._snapshot.latest)
        return out


class LawPoller:
    """A daemon thread refreshing a registry every ``interval`` seconds until stopped."""

    def __init__(self, registry: LawRegistry, interval: float) -> None:
        self._registry = registry
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flopwise-law-poller", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._registry.refresh()
            except Exception:  # the database may be briefly away; keep serving what we have
                log.exception("refreshing laws failed")
