"""What this process answers with: one in-memory registry per kind of published artefact
(``service.store.registry.Registry``: built-ins plus published versions, addressed as
``id`` or ``id@version``), and one poller that refreshes them all.

A version published by any worker or replica reaches this process within
``law_poll_seconds``; sooner where a worker of this process published it or a client
was told a job published it (``Registry.catch_up``).

Adding a kind: a :class:`~service.store.published.Kind` (its codec and built-ins), a
``Registry`` subclass naming it, and a field of :class:`Registries` built in ``open``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, fields
from typing import Any, Protocol

from flopwise.service.store.db import Database
from flopwise.service.store.laws import LawRegistry, UnknownLaw
from flopwise.service.store.registry import Registry
from flopwise.service.store.throughput import ThroughputRegistry, UnknownThroughput

__all__ = [
    "LawRegistry",
    "Poller",
    "Refreshable",
    "Registries",
    "ThroughputRegistry",
    "UnknownLaw",
    "UnknownThroughput",
]

log = logging.getLogger(__name__)


class Refreshable(Protocol):
    """A registry, or all of them: what a worker refreshes after it publishes."""

    def refresh(self) -> int: ...


@dataclass(frozen=True)
class Registries:
    """Every registry of this process."""

    laws: LawRegistry
    throughput: ThroughputRegistry

    @classmethod
    def open(cls, db: Database) -> Registries:
        """Registries on ``db``, loaded with what it holds now."""
        registries = cls(laws=LawRegistry(db), throughput=ThroughputRegistry(db))
        registries.refresh()
        return registries

    def all(self) -> tuple[Registry[Any], ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    def refresh(self) -> int:
        """Refresh every registry; returns how many versions were new."""
        return sum(registry.refresh() for registry in self.all())


class Poller:
    """A daemon thread refreshing ``registries`` every ``interval`` seconds until stopped;
    one registry failing (the database briefly away) does not stop the others."""

    def __init__(self, registries: Registries, interval: float) -> None:
        self._registries = registries
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flopwise-poller", daemon=True)
        self._rounds = 0
        self._round_done = threading.Condition()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def rounds(self) -> int:
        """Rounds finished so far (every registry refreshed, or its failure logged)."""
        with self._round_done:
            return self._rounds

    def wait_for_round(self, after: int, timeout: float) -> bool:
        """Wait until a round after the ``after``-th has finished; ``False`` on timeout."""
        with self._round_done:
            return self._round_done.wait_for(lambda: self._rounds > after, timeout)

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            for registry in self._registries.all():
                try:
                    registry.refresh()
                except Exception:  # keep serving what we have
                    log.exception("refreshing %s versions failed", registry.kind.name)
            with self._round_done:
                self._rounds += 1
                self._round_done.notify_all()
