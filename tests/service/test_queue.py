"""The job queue and run store on SQLite and PostgreSQL: leases, reclaiming, bounded
retries, debouncing, exactly-once publishing, concurrent claims, idempotent ingestion."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from flopwise.service.store import jobs as queue
from flopwise.service.store.db import Database, open_database
from flopwise.service.store.laws import LAWS
from flopwise.service.store.published import versions_of
from flopwise.service.store.runs import RunRecord, ingest, list_runs
from tests.service.publishing import publish_law


@pytest.fixture
def db(store_url: str) -> Iterator[Database]:
    database = open_database(store_url)
    yield database
    database.dispose()


def put(db: Database, kind: str = "refit", *, max_attempts: int = 3, **kwargs: object) -> str:
    with db.write_session() as session, session.begin():
        return queue.enqueue(session, kind, {"n": 1}, max_attempts=max_attempts, **kwargs)  # type: ignore[arg-type]


def test_migrations_are_idempotent(store_url: str) -> None:
    for _ in range(2):
        open_database(store_url).dispose()


def test_claim_lease_complete(db: Database) -> None:
    job_id = put(db)
    job = queue.claim(db, "w1", 30.0, ("refit",))
    assert job is not None and job.id == job_id and job.status == "running" and job.attempts == 1
    assert queue.claim(db, "w2", 30.0, ("refit",)) is None  # held
    assert queue.heartbeat(db, job_id, "w1", 30.0, {"stage": "x"})
    assert not queue.heartbeat(db, job_id, "w2", 30.0)
    with db.write_session() as session, session.begin():
        assert queue.complete(session, job_id, "w1", {"ok": 1})
    done = queue.get_job(db, job_id)
    assert done is not None and done.status == "succeeded" and done.result == {"ok": 1}
    assert done.progress == {"stage": "x"}


def test_only_due_jobs_of_the_workers_kinds_are_claimed(db: Database) -> None:
    put(db, delay=60.0)
    put(db, "calibration")
    assert queue.claim(db, "w", 30.0, ("refit",)) is None
    job = queue.claim(db, "w", 30.0, ("refit", "calibration"))
    assert job is not None and job.kind == "calibration"


def test_expired_lease_is_reclaimed_and_the_old_holder_cannot_finish(db: Database) -> None:
    now = time.time()
    job_id = put(db, now=now)
    assert queue.claim(db, "zombie", 30.0, ("refit",), now=now) is not None
    assert queue.claim(db, "rescuer", 30.0, ("refit",), now=now + 29) is None  # still held
    job = queue.claim(db, "rescuer", 30.0, ("refit",), now=now + 31)
    assert job is not None and job.id == job_id and job.attempts == 2
    assert job.progress.get("reclaimed") == 1
    # the first holder wakes up: its heartbeat, completion and failure are all refused
    assert not queue.heartbeat(db, job_id, "zombie", 30.0)
    with db.write_session() as session, session.begin():
        publish_law(session, "data-chinchilla", job_id)
        refused = not queue.complete(session, job_id, "zombie", {})
        session.rollback()  # what the worker does when completion is refused
    assert refused
    assert queue.fail(db, job_id, "zombie", "late", retry=True) is None
    with db.write_session() as session, session.begin():
        publish_law(session, "data-chinchilla", job_id)
        result = {"law_id": "data-chinchilla", "version": 1}
        assert queue.complete(session, job_id, "rescuer", result)
    assert versions_of(db, LAWS, "data-chinchilla") == [1]  # published exactly once


def test_retries_are_bounded(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    job_id = put(db, max_attempts=2)
    monkeypatch.setattr(queue, "RETRY_BACKOFF_SECONDS", 0.0)
    for attempt, expected in ((1, "queued"), (2, "failed")):
        job = queue.claim(db, "w", 30.0, ("refit",))
        assert job is not None and job.attempts == attempt
        assert queue.fail(db, job_id, "w", f"boom {attempt}", retry=True) == expected
    job = queue.get_job(db, job_id)
    assert job is not None and job.status == "failed" and job.error == "boom 2"
    assert queue.claim(db, "w", 30.0, ("refit",)) is None


def test_a_job_whose_last_worker_died_fails(db: Database) -> None:
    now = time.time()
    job_id = put(db, max_attempts=1, now=now)
    assert queue.claim(db, "dies", 30.0, ("refit",), now=now) is not None
    assert queue.claim(db, "w", 30.0, ("refit",), now=now + 31) is None
    job = queue.get_job(db, job_id)
    assert job is not None and job.status == "failed" and "lease" in (job.error or "")


def test_debounce_keeps_one_queued_job_and_bounds_the_delay(db: Database) -> None:
    now = time.time()
    first = put(db, now=now, delay=2.0, dedupe_key="refit:d", max_delay=5.0)
    second = put(db, now=now + 1, delay=2.0, dedupe_key="refit:d", max_delay=5.0)
    third = put(db, now=now + 4, delay=2.0, dedupe_key="refit:d", max_delay=5.0)
    assert first == second == third
    with db.read_session() as session:
        from flopwise.service.store.models import JobRow

        row = session.get(JobRow, first)
        assert row is not None and row.run_after == pytest.approx(now + 5.0)  # capped
    # once it runs, new data queues a fresh job
    with db.write_session() as session, session.begin():
        row = session.get(JobRow, first)
        assert row is not None
        row.run_after = 0.0
    assert queue.claim(db, "w", 30.0, ("refit",)) is not None
    assert put(db, delay=2.0, dedupe_key="refit:d") != first


def test_concurrent_claims_take_each_job_once(db: Database) -> None:
    ids = {put(db) for _ in range(12)}
    claimed: list[str] = []
    lock = threading.Lock()

    def drain(name: str) -> None:
        while (job := queue.claim(db, name, 30.0, ("refit",))) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(ids)


def test_ingestion_is_idempotent_on_dataset_run_tokens(db: Database) -> None:
    rec = RunRecord(dataset="d", run="r", params=1e8, tokens=1e9, loss=3.0, tags={"k": "v"})
    first = ingest(
        db, [rec, rec, RunRecord(dataset="d", run="r", params=1e8, tokens=2e9, loss=2.9)]
    )
    assert (first.received, first.inserted, first.duplicates) == (3, 2, 1)
    again = ingest(db, [RunRecord(dataset="d", run="r", params=1e8, tokens=1e9, loss=9.9)])
    assert (again.inserted, again.duplicates) == (0, 1)
    rows, total = list_runs(db, dataset="d")
    assert total == 2 and rows[0].loss == 3.0 and rows[0].tags == {"k": "v"}  # first write kept
    other = ingest(db, [RunRecord(dataset="e", run="r", params=1e8, tokens=1e9, loss=3.0)])
    assert other.inserted == 1


def refit_job(db: Database, dataset: str, now: float) -> str:
    with db.write_session() as session, session.begin():
        payload = {"dataset": dataset, "form": "chinchilla", "method": "approach3"}
        return queue.enqueue(session, "refit", payload, max_attempts=3, now=now)


def test_one_refit_per_dataset_runs_at_a_time(db: Database) -> None:
    now = time.time()
    first, second = refit_job(db, "a", now), refit_job(db, "a", now + 1)
    other = refit_job(db, "b", now + 2)
    held = queue.claim(db, "w1", 30.0, ("refit",), now=now + 3)
    assert held is not None and held.id == first
    # the second refit of "a" waits while the first runs; "b" is free
    job = queue.claim(db, "w2", 30.0, ("refit",), now=now + 3)
    assert job is not None and job.id == other
    assert queue.claim(db, "w3", 30.0, ("refit",), now=now + 3) is None
    with db.write_session() as session, session.begin():
        assert queue.complete(session, first, "w1", None, now=now + 4)
    job = queue.claim(db, "w3", 30.0, ("refit",), now=now + 4)
    assert job is not None and job.id == second


def test_cancel_queued_and_running_jobs(db: Database) -> None:
    now = time.time()
    queued, running = put(db, now=now), put(db, "calibration", now=now)
    assert queue.claim(db, "w", 30.0, ("calibration",), now=now) is not None
    assert queue.cancel(db, queued, now=now + 1) == "cancelled"
    assert queue.cancel(db, running, now=now + 1) == "cancelled"
    assert queue.cancel(db, "f" * 32) is None
    # the holder's heartbeat is refused and it learns why; it records what it reached
    assert not queue.heartbeat(db, running, "w", 30.0, now=now + 2)
    assert queue.is_cancelled(db, running)
    assert queue.record_cancelled(db, running, "w", {"runs_done": 2}, now=now + 3)
    job = queue.get_job(db, running)
    assert job is not None and job.status == "cancelled" and job.progress == {"runs_done": 2}
    assert queue.claim(db, "w", 30.0, ("refit", "calibration"), now=now + 100) is None
