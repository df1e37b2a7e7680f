"""The in-memory registries see every published version, and see it in time.

* Row ids must commit in order: a registry reads its kind's rows above the last id it
  saw, so on PostgreSQL a version whose transaction took its id first but committed
  last would be skipped forever. Publishers of a kind share one lock, so that cannot
  happen, for laws and throughput models alike.
* A client told by ``GET /v1/jobs/{id}`` that a fit published a version finds that
  version (and the throughput model its report names) in the same server's next
  answer, before the poller runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from flopwise.service.registry import Registries
from flopwise.service.store import jobs as queue
from flopwise.service.store.db import Database, open_database
from tests.pg import fresh_postgres_database
from tests.service.conftest import SettingsFactory, live_app
from tests.service.publishing import publish_law, publish_model

PUBLISHERS: dict[str, tuple[Callable[[Session, str], Any], str, str]] = {
    "law": (publish_law, "chinchilla", "laws"),
    "throughput": (publish_model, "throughput", "throughput"),
}


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
@pytest.mark.parametrize("kind", PUBLISHERS)
def test_a_version_whose_id_commits_late_is_not_skipped(pg_db: Database, kind: str) -> None:
    publish, suffix, field = PUBLISHERS[kind]
    registry = getattr(Registries.open(pg_db), field)
    finished = threading.Event()

    def second_publisher() -> None:
        with pg_db.write_session() as session, session.begin():
            publish(session, f"second-{suffix}")
        finished.set()

    with pg_db.write_session() as session, session.begin():
        publish(session, f"first-{suffix}")  # takes the lower row id, not yet committed
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
    assert registry.loaded()[f"first-{suffix}"] == 1
    assert registry.loaded()[f"second-{suffix}"] == 1


def test_a_job_reported_as_published_has_its_law_loaded(make_settings: SettingsFactory) -> None:
    settings = make_settings(law_poll_seconds=3600.0)  # the poller never runs here
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        db = open_database(settings.database_url)
        try:
            with db.write_session() as session, session.begin():
                job_id = queue.enqueue(session, "refit", {"n": 1}, max_attempts=1)
            assert queue.claim(db, "w", 30.0, ("refit",)) is not None
            # what a refit commits: its throughput model, then its law with the job;
            # the worker's own refresh, just after, has not happened yet
            with db.write_session() as session, session.begin():
                model = publish_model(session, "mine-throughput", job_id).version
            block = {"published": True, "id": "mine-throughput", "version": model}
            with db.write_session() as session, session.begin():
                law = publish_law(session, "mine-chinchilla", job_id, report={"throughput": block})
                result = {"law_id": "mine-chinchilla", "version": law.version}
                assert queue.complete(session, job_id, "w", result)
        finally:
            db.dispose()
        assert http.get("/v1/laws/mine-chinchilla").status_code == 404  # not loaded yet
        assert http.get("/v1/throughput/mine-throughput").status_code == 404
        job = http.get(f"/v1/jobs/{job_id}").json()
        assert job["status"] == "succeeded" and job["result"] == result
        law_out = http.get("/v1/laws/mine-chinchilla").json()
        assert law_out["version"] == 1 and law_out["versions"] == [1]
        assert law_out["fit"]["form"] == "chinchilla" and law_out["fit"]["method"] == "approach3"
        assert http.get("/v1/throughput/mine-throughput").json()["versions"] == [1]
