"""Live job queues (issue 13 section 1): internal pools' queue settings and their journals.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

``queue_entries`` is a journal: ``(pool, seq)`` is its key, so two writers that read
the same journal and append the same next entry cannot both commit; and an entry is
never changed or deleted (``queue_append_only``: a SQLite ``BEFORE`` trigger, a
PostgreSQL trigger function, as 0005 guards billing's documents). ``at_s`` is a double
on both databases: the journal's float seconds come back bit for bit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
APPENDED = "queue_append_only: queue journal entries are appended, never changed"


def upgrade() -> None:
    op.create_table(
        "queue_pools",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("policy", sa.String(), nullable=False),
        sa.Column("placement", sa.String(), nullable=False),
        sa.Column("restart_s", sa.Double(), nullable=False),
        sa.Column("origin_s", sa.BigInteger(), nullable=False),
        sa.Column("created_s", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("quotas", JSON_DOC, nullable=False),
    )
    op.create_table(
        "queue_entries",
        sa.Column("pool", sa.String(), sa.ForeignKey("queue_pools.name"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at_s", sa.Double(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("job", sa.Integer(), nullable=False),
        sa.Column("data", JSON_DOC, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""CREATE FUNCTION queue_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPENDED}';
END $$"""
        )
        op.execute(
            "CREATE TRIGGER queue_entries_guard BEFORE UPDATE OR DELETE ON queue_entries "
            "FOR EACH ROW EXECUTE FUNCTION queue_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER queue_entries_append_only_{verb.lower()} BEFORE {verb} ON queue_entries\n"
                f"BEGIN\n    SELECT RAISE(ABORT, '{APPENDED}');\nEND"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS queue_entries_guard ON queue_entries")
        op.execute("DROP FUNCTION IF EXISTS queue_append_only()")
    op.drop_table("queue_entries")
    op.drop_table("queue_pools")
