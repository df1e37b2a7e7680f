"""What a job handler gets and returns: values, not side effects.

A handler is ``handle(job, ctx) -> Outcome``. It reports progress through ``ctx`` and
signals failure by raising :class:`JobError`; the worker commits an outcome's law
(if any) in the same transaction that marks the job succeeded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flopwise.fitting.laws import Law
from flopwise.service.config import Settings
from flopwise.service.store.db import Database
from flopwise.service.store.jobs import Job

__all__ = ["Handler", "JobContext", "JobError", "Outcome", "Publication"]


class JobError(Exception):
    """A job attempt failed; ``retry`` says whether another attempt could succeed."""

    def __init__(self, message: str, *, retry: bool = False) -> None:
        super().__init__(message)
        self.retry = retry


@dataclass(frozen=True)
class Publication:
    """A law to publish as the next version of its id, and how it was made."""

    law: Law
    dataset: str
    form: str
    method: str
    report: dict[str, Any]
    snapshot: int | None = None
    """Observations of ``dataset`` the fit saw (runs are only ever added, so more is
    newer): a version fitted on fewer than the latest one's is not published."""


@dataclass(frozen=True)
class Outcome:
    """What a successful attempt produced."""

    result: dict[str, Any] | None = None
    publication: Publication | None = None


@dataclass
class JobContext:
    """A running attempt's view of the world."""

    job: Job
    db: Database
    settings: Settings
    lost: threading.Event = field(default_factory=threading.Event)
    """Set when the lease was lost (another worker holds the job now)."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the worker is shutting down."""
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set when the job was cancelled on request (``POST /v1/jobs/{id}/cancel``)."""
    finished: threading.Event = field(default_factory=threading.Event)
    """Set when the attempt is over (stops the heartbeat)."""
    _progress: dict[str, Any] = field(default_factory=dict)
    _version: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def progress(self, **fields: Any) -> None:
        """Merge ``fields`` into the job's progress (written with the next heartbeat)."""
        with self._lock:
            self._progress = {**self._progress, **fields}
            self._version += 1

    def progress_snapshot(self) -> tuple[int, dict[str, Any]]:
        with self._lock:
            return self._version, dict(self._progress)

    @property
    def should_stop(self) -> bool:
        return self.lost.is_set() or self.stopping.is_set() or self.cancelled.is_set()


Handler = Callable[[Job, JobContext], Outcome]
