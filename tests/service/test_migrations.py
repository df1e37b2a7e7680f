"""The Alembic migrations build exactly the schema the models describe (both stores)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from flopwise.service.store.db import open_database
from flopwise.service.store.models import Base


def test_migrated_schema_matches_the_models(store_url: str) -> None:
    db = open_database(store_url)
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        db.dispose()
    assert diff == []
    assert {"runs", "laws", "jobs", "alembic_version"} <= tables
