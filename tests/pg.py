"""A fresh PostgreSQL database per test, on the server ``FLOPWISE_TEST_POSTGRES_URL`` names.

Without that variable the PostgreSQL tests skip, unless ``FLOPWISE_REQUIRE_POSTGRES=1``
(CI), which makes them fail instead: a CI run must not pass by skipping them.
Start a server with ``eval "$(.ci/start-postgres)"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

__all__ = ["fresh_postgres_database", "postgres_url_or_skip"]


def postgres_url_or_skip() -> str:
    """The server URL, or skip (fail when ``FLOPWISE_REQUIRE_POSTGRES=1``)."""
    url = os.environ.get("FLOPWISE_TEST_POSTGRES_URL")
    if url:
        return url
    message = 'FLOPWISE_TEST_POSTGRES_URL is not set (eval "$(.ci/start-postgres)")'
    if os.environ.get("FLOPWISE_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " and FLOPWISE_REQUIRE_POSTGRES=1")
    pytest.skip(message)


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """Create an empty database on the test server, yield its URL, drop it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    base = make_url(postgres_url_or_skip())
    name = f"flopwise_t_{uuid.uuid4().hex[:12]}"
    dsn = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
