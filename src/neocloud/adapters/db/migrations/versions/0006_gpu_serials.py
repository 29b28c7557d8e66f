"""GPU serials per node (issue 11 §5, the custody trail): a JSON list in GPU index order,
NULL where the inventory does not track GPUs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Written beside 0005 (the invoice tables, another branch) and re-chained after it when
that branch was merged in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.add_column("nodes", sa.Column("gpu_serials", JSON_DOC, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of
    # ``nodes`` would break the foreign keys of bookings and health_log.
    op.execute("ALTER TABLE nodes DROP COLUMN gpu_serials")
