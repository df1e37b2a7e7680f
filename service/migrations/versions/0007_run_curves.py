"""Runs carry their loss curve's learning rate: ``runs.lr``, the LR in force at the
evaluation, and ``runs.schedule``, the run's schedule as JSON (kind, peak_lr,
warmup_tokens, final_lr_fraction, decay_tokens, total_tokens, cooldown; docs/laws.md
§21). Both nullable: rows stored before have neither, and a run may give one or both.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("lr", sa.Double(), nullable=True))
    op.add_column("runs", sa.Column("schedule", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("schedule")
        batch.drop_column("lr")
