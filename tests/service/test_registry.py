"""The in-memory law registry sees every published version, and sees it in time.

* Row ids must commit in order: the registry reads rows above the last id it saw, so on
  PostgreSQL a version whose transaction took its id first but committed last would be
  skipped forever. Publishers of any id share one lock, so that cannot happen.
* A client told by ``GET /v1/jobs/{id}`` that a fit published a version finds that
  version in the same server's next answer, before the law poller runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from flopwise.fitting.catalogue import builtin
from flopwise.service.registry import LawRegistry
from flopwise.service.store import jobs as queue
from flopwise.service.store.db import Database, open_database
from flopwise.service.store.laws import publish
from tests.pg import fresh_postgres_database
from tests.service.conftest import SettingsFactory, live_app


def _publish(session: Session, law_id: str, job_id: str | None = None) -> int:
    law = builtin("epoch-2024").evolve(id=law_id)
    version, _ = publish(
        session,
        law,
        dataset=law_id.split("-")[0],
        form="chinchilla",
        method="approach3",
        job_id=job_id,
        report={},
    )
    return version


@pytest.fixture
def pg_db() -> Iterator[Database]:
    with fresh_postgres_database() as url:
        database = open_database(url)
        yield database
        database.dispose()


def _waiting_on_a_lock(db: Database) -> bool:
    with db.read_session() as session:
        query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return bool(session.scalar(query))


@pytest.mark.postgres
def test_a_version_whose_id_commits_late_is_not_skipped(pg_db: Database) -> None:
    registry = LawRegistry(pg_db)
    finished = threading.Event()

    def second_publisher() -> None:
        with pg_db.write_session() as session, session.begin():
            _publish(session, "second-chinchilla")
        finished.set()

    with pg_db.write_session() as session, session.begin():
        _publish(session, "first-chinchilla")  # takes the lower row id, not yet committed
        thread = threading.Thread(target=second_publisher)
        thread.start()
        deadline = time.monotonic() + 60
        while not (finished.is_set() or _waiting_on_a_lock(pg_db)):
            assert time.monotonic() < deadline, "the second publisher neither ran nor waited"
            time.sleep(0.01)
        registry.refresh()  # a poll between the two commits
    thread.join(timeout=60)
    assert finished.is_set()
    registry.refresh()
    assert registry.loaded()["first-chinchilla"] == 1
    assert registry.loaded()["second-chinchilla"] == 1


def test_a_job_reported_as_published_has_its_law_loaded(make_settings: SettingsFactory) -> None:
    settings = make_settings(law_poll_seconds=3600.0)  # the poller never runs here
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        db = open_database(settings.database_url)
        try:
            with db.write_session() as session, session.begin():
                job_id = queue.enqueue(session, "refit", {"n": 1}, max_attempts=1)
            assert queue.claim(db, "w", 30.0, ("refit",)) is not None
            # what a worker commits; its own refresh, just after, has not happened yet
            with db.write_session() as session, session.begin():
                version = _publish(session, "mine-chinchilla", job_id)
                result = {"law_id": "mine-chinchilla", "version": version}
                assert queue.complete(session, job_id, "w", result)
        finally:
            db.dispose()
        assert http.get("/v1/laws/mine-chinchilla").status_code == 404  # not loaded yet
        job = http.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded" and job["result"] == result
        law = http.get("/v1/laws/mine-chinchilla").json()
        assert law["version"] == 1 and law["versions"] == [1]
