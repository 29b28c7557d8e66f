"""Stored studies (issue 13 section 5): keep-vs-lease studies and sweeps with their results.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A study is created ``running``, its ``done`` count moves on, and it is finished once
(``done`` with its result, or ``failed`` with its error). The database keeps the
"written once" rule itself: a finished row is never changed or deleted
(``studies_finished``: a SQLite ``BEFORE`` trigger, a PostgreSQL trigger function, as
0005 guards billing's issued documents and 0007 the queue journal). ``name`` is
unique, so two ``--save NAME`` of one name cannot both commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")
FINISHED = "studies_finished: a finished study is written once, never changed"


def upgrade() -> None:
    op.create_table(
        "studies",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("inputs", JSON_DOC, nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_s", sa.BigInteger(), nullable=False),
        sa.Column("finished_s", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", JSON_DOC, nullable=True),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name="ck_studies_status"),
        sa.CheckConstraint("kind IN ('keep-vs-lease', 'sweep')", name="ck_studies_kind"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""CREATE FUNCTION studies_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'running' THEN
        RAISE EXCEPTION '{FINISHED}';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END $$"""
        )
        op.execute(
            "CREATE TRIGGER studies_guard BEFORE UPDATE OR DELETE ON studies "
            "FOR EACH ROW EXECUTE FUNCTION studies_finished()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER studies_finished_{verb.lower()} BEFORE {verb} ON studies\n"
                f"WHEN OLD.status <> 'running'\n"
                f"BEGIN\n    SELECT RAISE(ABORT, '{FINISHED}');\nEND"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS studies_guard ON studies")
        op.execute("DROP FUNCTION IF EXISTS studies_finished()")
    op.drop_table("studies")
