"""Workers: claim a job, run its handler while renewing the lease, commit the outcome.

One worker runs one job at a time. ``flopwise serve`` starts ``FLOPWISE_WORKERS`` of
them as threads; ``flopwise worker`` runs them in their own process, on any host that
reaches the database. A heartbeat thread renews the lease every third of its length
and writes progress; if renewal finds the lease gone, ``ctx.lost`` is set and the
outcome will not be committed (the job's new holder commits it instead); if it finds
the job cancelled, ``ctx.cancelled`` is set, the handler stops and the worker records
the progress it reached.

Failures are classed: a :class:`JobError` says itself whether to retry; database and
operating-system errors are transient and retried while attempts remain; anything
else (bad data, degenerate geometry, a bug) fails the job once, with the reason.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping

from sqlalchemy.exc import SQLAlchemyError

from flopwise.service.config import Settings
from flopwise.service.jobs.base import Handler, JobContext, JobError, Outcome
from flopwise.service.jobs.trainers import reap
from flopwise.service.metrics import Metrics
from flopwise.service.store import jobs as queue
from flopwise.service.store.db import Database
from flopwise.service.store.jobs import Job
from flopwise.service.store.laws import LAWS
from flopwise.service.store.published import publish

__all__ = ["Worker", "worker_id"]

log = logging.getLogger(__name__)

TRANSIENT = (SQLAlchemyError, OSError, TimeoutError, MemoryError)
REAP_SECONDS = 30.0
"""How often a calibration worker looks for orphaned trainers on its host."""
"""Errors another attempt may not meet."""


def worker_id() -> str:
    """``host:pid:random``, unique per worker."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseLost(Exception):
    """The job is held by another worker now."""


class Worker:
    """Runs jobs of the kinds in ``handlers`` until stopped."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        handlers: Mapping[str, Handler],
        *,
        metrics: Metrics | None = None,
        on_publish: Callable[[], object] | None = None,
    ) -> None:
        self.db, self.settings, self.handlers = db, settings, dict(handlers)
        self.metrics, self.on_publish = metrics, on_publish
        self.id = worker_id()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_reap = 0.0  # at once when it starts

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run_forever, name="flopwise-worker", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self.stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        while not self.stopping.is_set():
            try:
                self._reap()
                worked = self.run_once()
            except Exception:  # the database may be away for a moment; try again later
                log.exception("worker %s: claiming or finishing a job failed", self.id)
                worked = False
            if not worked:
                self.stopping.wait(self.settings.job_poll_seconds)

    def _reap(self) -> None:
        """A calibration worker stops, every ``REAP_SECONDS``, the trainers on this host
        whose jobs no live worker holds (``jobs.trainers.reap``)."""
        if "calibration" not in self.handlers or time.monotonic() < self._next_reap:
            return
        self._next_reap = time.monotonic() + REAP_SECONDS
        for job_id in reap(self.db):
            log.warning("worker %s: stopped the orphaned trainer of job %s", self.id, job_id)

    def run_once(self) -> bool:
        """Claim and run one job; ``False`` when none was due."""
        kinds = tuple(self.handlers)
        job = queue.claim(self.db, self.id, self.settings.job_lease_seconds, kinds)
        if job is None:
            return False
        log.info(
            "worker %s: running %s job %s (attempt %d)", self.id, job.kind, job.id, job.attempts
        )
        ctx = JobContext(job=job, db=self.db, settings=self.settings, stopping=self.stopping)
        ctx.progress(**job.progress)
        beat = threading.Thread(target=self._heartbeat, args=(ctx,), daemon=True)
        beat.start()
        try:
            self._attempt(job, ctx)
        finally:
            ctx.finished.set()
            beat.join()
        return True

    def _attempt(self, job: Job, ctx: JobContext) -> None:
        try:
            outcome = self.handlers[job.kind](job, ctx)
            if ctx.cancelled.is_set():
                raise LeaseLost(job.id)
            self._commit(job, outcome, ctx)
        except Exception as exc:
            if ctx.cancelled.is_set():
                self._record_cancelled(job, ctx)
            elif isinstance(exc, LeaseLost):
                log.warning("worker %s: lost the lease on job %s", self.id, job.id)
                self._count(job.kind, "lease_lost")
            elif isinstance(exc, JobError):
                self._fail(job, ctx, str(exc), retry=exc.retry)
            else:
                tail = "".join(traceback.format_exception(exc)[-3:]).strip()
                transient = isinstance(exc, TRANSIENT)
                self._fail(job, ctx, f"{type(exc).__name__}: {exc}\n{tail}", retry=transient)

    def _record_cancelled(self, job: Job, ctx: JobContext) -> None:
        _, progress = ctx.progress_snapshot()
        queue.record_cancelled(self.db, job.id, self.id, {**progress, "stage": "cancelled"})
        log.info("worker %s: job %s cancelled", self.id, job.id)
        self._count(job.kind, "cancelled")

    def _commit(self, job: Job, outcome: Outcome, ctx: JobContext) -> None:
        if ctx.lost.is_set():
            raise LeaseLost(job.id)
        _, progress = ctx.progress_snapshot()
        result, published = outcome.result, False
        with self.db.write_session() as session, session.begin():
            pub = outcome.publication
            if pub is not None:
                done = publish(
                    session,
                    LAWS,
                    pub.law,
                    dataset=pub.dataset,
                    job_id=job.id,
                    report=pub.report,
                    labels={"form": pub.form, "method": pub.method},
                    snapshot=pub.snapshot,
                )
                result = {"law_id": pub.law.id, "version": done.version}
                if done.status == "superseded":  # fitted on older data than the latest
                    result["superseded"] = True
                published = done.written
            if not queue.complete(session, job.id, self.id, result, progress):
                raise LeaseLost(job.id)
        self._count(job.kind, "succeeded")
        if published:
            if self.metrics is not None:
                self.metrics.fits.labels(outcome="published").inc()
            if self.on_publish is not None:
                self.on_publish()

    def _fail(self, job: Job, ctx: JobContext, error: str, *, retry: bool) -> None:
        _, progress = ctx.progress_snapshot()
        status = queue.fail(self.db, job.id, self.id, error[-4000:], retry=retry, progress=progress)
        log.warning("worker %s: job %s attempt failed (%s): %s", self.id, job.id, status, error)
        self._count(job.kind, "lease_lost" if status is None else f"attempt_{status}")
        if job.kind == "refit" and status == "failed" and self.metrics is not None:
            self.metrics.fits.labels(outcome="failed").inc()

    def _count(self, kind: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.jobs.labels(kind=kind, outcome=outcome).inc()

    def _heartbeat(self, ctx: JobContext) -> None:
        lease = self.settings.job_lease_seconds
        renew_every = lease / 3.0
        last_renew, written = time.monotonic(), -1
        while not ctx.finished.wait(min(0.5, renew_every)):
            version, progress = ctx.progress_snapshot()
            due = time.monotonic() - last_renew >= renew_every
            if not due and version == written:
                continue
            try:
                ok = queue.heartbeat(self.db, ctx.job.id, self.id, lease, progress)
                cancelled = not ok and queue.is_cancelled(self.db, ctx.job.id)
            except Exception:
                log.exception("worker %s: renewing the lease on %s failed", self.id, ctx.job.id)
                continue
            last_renew, written = time.monotonic(), version
            if not ok:
                (ctx.cancelled if cancelled else ctx.lost).set()
                return
