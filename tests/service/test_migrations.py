"""The Alembic migrations build exactly the schema the models describe (both stores),
moving published versions into one table (0004) keeps every one of them, and runs
gain metrics (0006) without losing any."""

from __future__ import annotations

import importlib.resources
import time
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from flopwise.fitting.catalogue import builtin
from flopwise.fitting.laws import to_dict
from flopwise.fitting.throughput.catalogue import builtin_throughput
from flopwise.fitting.throughput.model import to_dict as model_to_dict
from flopwise.service.registry import Registries
from flopwise.service.store.db import open_database
from flopwise.service.store.models import Base
from flopwise.service.store.runs import RunRecord, ingest, list_runs, load_records
from tests.service.publishing import publish_law, publish_model


def test_migrated_schema_matches_the_models(store_url: str) -> None:
    db = open_database(store_url)
    try:
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        db.dispose()
    assert diff == []
    assert {"runs", "published", "jobs", "alembic_version"} <= tables
    assert not {"laws", "throughput_models"} & tables


def _migrate(url: str, action: str, revision: str) -> None:
    config = Config()
    migrations = importlib.resources.files("flopwise.service") / "migrations"
    config.set_main_option("script_location", str(migrations))
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            getattr(command, action)(config, revision)
    finally:
        engine.dispose()


def _rows(url: str, table: str) -> list[dict[str, Any]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            found = sa.Table(table, sa.MetaData(), autoload_with=conn)
            return [dict(r) for r in conn.execute(sa.select(found).order_by("id")).mappings()]
    finally:
        engine.dispose()


def _law_row(law_id: str, version: int, method: str, job_id: str | None) -> dict[str, Any]:
    law = builtin("epoch-2024").evolve(id=law_id, version=version)
    return {
        "law_id": law_id,
        "version": version,
        "form": "chinchilla" if method == "approach3" else "power",
        "method": method,
        "job_id": job_id,
        "report": {"snapshot": 10 * version} if job_id else {},
        "body": to_dict(law),
        "dataset": "old",
        "created_at": time.time(),
    }


def _old_store(url: str) -> None:
    """A store at revision 0003: three law versions and a throughput model in their own
    tables (job ``j2`` published a law and a model, as a refit does)."""
    _migrate(url, "upgrade", "0003")
    model = replace(builtin_throughput("h100-default"), id="old-throughput")
    meta = sa.MetaData()
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            meta.reflect(conn, only=["laws", "throughput_models"])
            laws = [_law_row("old-chinchilla", v, "approach3", f"j{v}") for v in (1, 2)]
            laws.append(_law_row("old-approach2", 1, "approach2", None))
            conn.execute(meta.tables["laws"].insert(), laws)
            row = {"model_id": model.id, "version": 1, "job_id": "j2", "dataset": "old"}
            row.update(body=model_to_dict(model), created_at=time.time())
            conn.execute(meta.tables["throughput_models"].insert(), [row])
    finally:
        engine.dispose()


def test_published_versions_move_to_one_table_and_back(store_url: str) -> None:
    _old_store(store_url)
    db = open_database(store_url)  # upgrades to head
    try:
        registries = Registries.open(db)
        laws, models = registries.laws, registries.throughput
        assert laws.versions("old-chinchilla") == [1, 2] and laws.versions("old-approach2") == [1]
        assert laws.resolve("old-chinchilla").version == 2
        first = laws.record("old-chinchilla", 1)
        assert first is not None and first.job_id == "j1" and first.report == {"snapshot": 10}
        assert first.labels == {"form": "chinchilla", "method": "approach3"}
        assert models.resolve("old-throughput@1").gpu == "h100"
        with db.write_session.begin() as session:
            assert publish_law(session, "old-chinchilla", "j2").status == "repeated"
            assert publish_law(session, "old-chinchilla", "j3", snapshot=30).version == 3
            assert publish_model(session, "old-throughput", "j2").status == "repeated"
            assert publish_model(session, "old-throughput", "j3", efficiency=0.9).version == 2
    finally:
        db.dispose()
    _migrate(store_url, "downgrade", "0003")
    laws_back = _rows(store_url, "laws")
    assert [(r["law_id"], r["version"], r["job_id"]) for r in laws_back] == [
        ("old-chinchilla", 1, "j1"),
        ("old-chinchilla", 2, "j2"),
        ("old-approach2", 1, None),
        ("old-chinchilla", 3, "j3"),
    ]
    assert laws_back[2]["form"] == "power" and laws_back[2]["method"] == "approach2"
    assert laws_back[3]["report"] == {"snapshot": 30}
    models_back = _rows(store_url, "throughput_models")
    assert [(r["model_id"], r["version"]) for r in models_back] == [
        ("old-throughput", 1),
        ("old-throughput", 2),
    ]


def test_runs_stored_before_metrics_read_as_none_and_keep_theirs_down(store_url: str) -> None:
    """0006 adds ``runs.metrics``: a run stored at 0005 reads back with no metrics, one
    stored after keeps them, and downgrading drops only the column."""
    _migrate(store_url, "upgrade", "0005")
    row = {"dataset": "old", "run": "r", "tokens": 1e9, "params": 1e8, "loss": 3.0,
           "tags": {}, "created_at": time.time()}  # fmt: skip
    engine = sa.create_engine(store_url)
    try:
        with engine.begin() as conn:
            meta = sa.MetaData()
            meta.reflect(conn, only=["runs"])
            conn.execute(meta.tables["runs"].insert(), [row])
    finally:
        engine.dispose()
    db = open_database(store_url)  # upgrades to head
    try:
        new = RunRecord(dataset="old", run="r", params=1e8, tokens=2e9, loss=2.9,
                        metrics={"task_acc": 0.41, "task_bpb": 1.02})  # fmt: skip
        assert ingest(db, [new]).inserted == 1
        records = load_records(db, "old")
        assert [r["metrics"] for r in records] == [{}, {"task_acc": 0.41, "task_bpb": 1.02}]
        listed, _ = list_runs(db, dataset="old")
        assert listed[1].metrics == {"task_acc": 0.41, "task_bpb": 1.02}
    finally:
        db.dispose()
    _migrate(store_url, "downgrade", "0005")
    back = _rows(store_url, "runs")
    assert [(r["tokens"], r["loss"]) for r in back] == [(1e9, 3.0), (2e9, 2.9)]
    assert "metrics" not in back[0]
