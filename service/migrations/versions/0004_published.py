"""One table of published versions for every kind of artefact: ``laws`` and
``throughput_models`` become rows of ``published`` (kind ``law`` and ``throughput``).

A new kind (a hyper-parameter law, a schedule law...) then needs no migration. Every
version keeps its id, version, dataset, job, body, report and time; a law's form and
method move to ``labels``. Row ids are renumbered, each kind's in its old order (a
registry reads a kind's rows above the last id it saw, so only their order counts).
Downgrading copies laws and throughput models back; rows of kinds added later have no
table before this revision and are dropped with ``published``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMON = ("version", "dataset", "job_id", "body", "created_at")


def _columns(*names: str) -> list[sa.ColumnClause[Any]]:
    json_columns = {"body", "report", "labels"}
    return [sa.column(n, sa.JSON() if n in json_columns else None) for n in names]


LAWS = sa.table("laws", *_columns("id", "law_id", "form", "method", "report", *COMMON))
MODELS = sa.table("throughput_models", *_columns("id", "model_id", *COMMON))
PUBLISHED = sa.table(
    "published", *_columns("id", "kind", "artefact_id", "report", "labels", *COMMON)
)


def _create_published() -> None:
    op.create_table(
        "published",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("artefact_id", sa.String(160), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.UniqueConstraint("kind", "artefact_id", "version", name="uq_published_version"),
        sa.UniqueConstraint("kind", "job_id", name="uq_published_job"),
    )
    op.create_index("ix_published_kind_row", "published", ["kind", "id"])


def upgrade() -> None:
    _create_published()
    bind = op.get_bind()
    rows: list[dict[str, Any]] = []
    for law in bind.execute(sa.select(LAWS).order_by(LAWS.c.id)).mappings():
        rows.append(
            {
                **{k: law[k] for k in (*COMMON, "report")},
                "kind": "law",
                "artefact_id": law["law_id"],
                "labels": {"form": law["form"], "method": law["method"]},
            }
        )
    for model in bind.execute(sa.select(MODELS).order_by(MODELS.c.id)).mappings():
        rows.append(
            {
                **{k: model[k] for k in COMMON},
                "kind": "throughput",
                "artefact_id": model["model_id"],
                "report": {},
                "labels": {},
            }
        )
    if rows:
        op.bulk_insert(PUBLISHED, rows)
    op.drop_table("laws")
    op.drop_table("throughput_models")


def _create_old_tables() -> None:
    op.create_table(
        "laws",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("law_id", sa.String(160), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("form", sa.String(32), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.UniqueConstraint("law_id", "version", name="uq_laws_version"),
        sa.UniqueConstraint("job_id", name="uq_laws_job"),
    )
    op.create_index("ix_laws_law_id", "laws", ["law_id"])
    op.create_table(
        "throughput_models",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("model_id", sa.String(160), nullable=False, index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.UniqueConstraint("model_id", "version", name="uq_throughput_version"),
        sa.UniqueConstraint("job_id", name="uq_throughput_job"),
    )


def downgrade() -> None:
    _create_old_tables()
    bind = op.get_bind()
    laws: list[dict[str, Any]] = []
    models: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(PUBLISHED).order_by(PUBLISHED.c.id)).mappings():
        common = {k: row[k] for k in COMMON}
        if row["kind"] == "law":
            labels = row["labels"] or {}
            old = {"law_id": row["artefact_id"], "report": row["report"]}
            old.update(form=labels.get("form", ""), method=labels.get("method", ""))
            laws.append({**common, **old})
        elif row["kind"] == "throughput":
            models.append({**common, "model_id": row["artefact_id"]})
    if laws:
        op.bulk_insert(LAWS, laws)
    if models:
        op.bulk_insert(MODELS, models)
    op.drop_table("published")
