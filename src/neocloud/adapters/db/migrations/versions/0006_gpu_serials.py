"""GPU serials per node (issue 11 §5, the custody trail): a JSON list in GPU index order,
NULL where the inventory does not track GPUs.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01

Named 0006 and not 0005: the invoice tables are 0005 on another branch, written at
the same time. Whichever merges second re-chains ``down_revision`` to the other.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.add_column("nodes", sa.Column("gpu_serials", JSON_DOC, nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops a column in place): a batch copy of
    # ``nodes`` would break the foreign keys of bookings and health_log.
    op.execute("ALTER TABLE nodes DROP COLUMN gpu_serials")
