"""Run exclusions: a dataset's runs left out of its fits, with their history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_exclusions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("run", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("excluded_at", sa.Double(), nullable=False),
        sa.Column("restored_at", sa.Double(), nullable=True),
    )
    op.create_index("ix_run_exclusions_dataset", "run_exclusions", ["dataset"])


def downgrade() -> None:
    op.drop_index("ix_run_exclusions_dataset", table_name="run_exclusions")
    op.drop_table("run_exclusions")
