"""Fixtures: the app served by a real uvicorn server in a thread, on SQLite or PostgreSQL.

``store_url`` is parametrised over both stores; PostgreSQL cases carry the
``postgres`` marker (see ``tests/pg.py`` for when they skip or fail).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from flopwise.service.config import Settings
from flopwise.service.main import create_app
from tests.pg import fresh_postgres_database


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def live_app(settings: Settings, *, start_workers: bool = True) -> Iterator[str]:
    """Serve ``create_app(settings)`` on a free port in a thread; yield its base URL."""
    port = free_port()
    app = create_app(settings, start_workers=start_workers)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty store: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(store_url: str, tmp_path: Path) -> SettingsFactory:
    """Settings on the test store, quick timings; keyword arguments override."""

    def make(**overrides: Any) -> Settings:
        base: dict[str, Any] = {
            "database_url": store_url,
            "data_dir": tmp_path,
            # long enough that two back-to-back batches share one refit on a loaded machine
            "refit_debounce_seconds": 1.0,
            "job_poll_seconds": 0.1,
            "law_poll_seconds": 0.2,
            "job_lease_seconds": 5.0,
        }
        return Settings(**{**base, **overrides})

    return make


@pytest.fixture
def client(make_settings: SettingsFactory) -> Iterator[httpx.Client]:
    """An HTTP client on a live app (one in-process worker) over the test store."""
    with live_app(make_settings()) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def wait_for_job(http: httpx.Client, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll ``GET /v1/jobs/{job_id}`` until the job has finished."""
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s: {job}")
        time.sleep(0.1)


def scrape_until_published(http: httpx.Client, timeout: float = 60.0) -> str:
    """``/metrics`` once it counts the published fit: the worker counts it just after
    the commit that marks its job succeeded, so a client can see the job first."""
    deadline = time.monotonic() + timeout
    while True:
        text = http.get("/metrics").text
        if 'flopwise_fits_total{outcome="published"} 1.0' in text:
            return text
        assert time.monotonic() < deadline, "the published fit was never counted"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def query_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """One live app on SQLite for a whole module of read-only/query tests."""
    data = tmp_path_factory.mktemp("query-store")
    settings = Settings(data_dir=data, database_url=None, api_key=None)
    with live_app(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http
