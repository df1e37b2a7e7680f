"""Engines for the store: embedded SQLite (WAL) or PostgreSQL, migrated by Alembic.

SQLite: the driver's own transaction handling is switched off so that writes can
start with ``BEGIN IMMEDIATE`` (they take the write lock up front and wait on
``busy_timeout`` instead of failing when a reader upgrades); reads use a second
engine with plain deferred transactions, which in WAL mode never block.
``synchronous=FULL`` makes a commit durable before the API answers 2xx.

PostgreSQL: one engine; migrations run under an advisory lock so replicas that
start together migrate once.
"""

from __future__ import annotations

import importlib.resources
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database", "advisory_lock", "open_database"]

MIGRATION_LOCK = 7_146_811_402
"""PostgreSQL advisory-lock key held while migrating."""


@dataclass(frozen=True)
class Database:
    """Write and read engines (the same engine on PostgreSQL) and their sessions."""

    url: str
    engine: Engine
    read_engine: Engine
    write_session: sessionmaker[Session]
    read_session: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def advisory_lock(session: Session, name: str) -> None:
    """Serialise the transactions that lock ``name``: on PostgreSQL an advisory lock
    held to the end of ``session``'s transaction (SQLite writers are serial already)."""
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(name.encode())
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _migrate(engine: Engine) -> None:
    config = Config()
    migrations = importlib.resources.files("flopwise.service") / "migrations"
    config.set_main_option("script_location", str(migrations))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_database(url: str, *, migrate: bool = True) -> Database:
    """Connect to ``url`` (creating an SQLite file's folder) and bring its schema to head."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = _sqlite_engine(url, immediate=True)
        read_engine = _sqlite_engine(url, immediate=False)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        read_engine = engine
    if migrate:
        _migrate(engine)
    return Database(
        url=url,
        engine=engine,
        read_engine=read_engine,
        write_session=sessionmaker(engine, expire_on_commit=False),
        read_session=sessionmaker(read_engine, expire_on_commit=False),
    )
