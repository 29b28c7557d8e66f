"""Invoices, their lines and state history, credit notes and their lines, deposits (issue 11 §4).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

What the database refuses whatever the code does (docs/billing.md):

- a second invoice for one tenant and period: the unique constraint
  ``invoices_one_per_tenant_period`` on ``(tenant, period)``;
- a line inserted into, changed on or deleted from an invoice that is not a draft, and
  deleting an invoice that is not a draft: triggers whose refusals start
  ``invoice_frozen``;
- any change of an invoice's header (tenant, period, zone, bounds, currency, created),
  and a state change that is not an edge of the transition table: triggers whose
  refusals start ``invoice_frozen`` and ``invoice_state``;
- changing or deleting a state change, a credit note, a credit note's line or a
  deposit: they are appended only (``billing_append_only``).

SQLite: ``BEFORE`` triggers that ``RAISE(ABORT, ...)``. PostgreSQL: PL/pgSQL trigger
functions that ``RAISE EXCEPTION`` with the same messages. The edges below are the
table of ``domain/billing.py`` as of this revision (a test walks every pair of states
against ``INVOICE_TRANSITIONS``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON_DOC = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

STATES = ("draft", "issued", "paid", "void")
EDGES = ("draft>issued", "draft>void", "issued>paid", "issued>void")
APPEND_ONLY = ("invoice_changes", "credit_notes", "credit_note_lines", "deposits")

FROZEN_LINES = "invoice_frozen: the lines of an invoice that is not a draft never change"
FROZEN_HEADER = "invoice_frozen: the tenant, period, zone, bounds, currency and creation of an invoice never change"
FROZEN_DELETE = "invoice_frozen: an invoice that is not a draft is never deleted"
BAD_EDGE = "invoice_state: not an edge of the invoice transition table"
APPENDED = "billing_append_only: state changes, credit notes and deposits are appended, never changed"


def _line_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("position", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("lease_id", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("gpu_s", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("evidence", JSON_DOC, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("tenant", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("tz", sa.String(), nullable=False),
        sa.Column("start_s", sa.BigInteger(), nullable=False),
        sa.Column("end_s", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("created_s", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(f"state IN ({', '.join(repr(s) for s in STATES)})", name="invoices_state_known"),
        sa.UniqueConstraint("tenant", "period", name="invoices_one_per_tenant_period"),
    )
    op.create_index("ix_invoices_period", "invoices", ["period"])
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(), sa.ForeignKey("invoices.id"), primary_key=True),
        *_line_columns(),
    )
    op.create_index("ix_invoice_lines_lease_id", "invoice_lines", ["lease_id"])
    op.create_table(
        "invoice_changes",
        sa.Column("invoice_id", sa.String(), sa.ForeignKey("invoices.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("from_state", sa.String()),
        sa.Column("to_state", sa.String(), nullable=False),
        sa.Column("at_s", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    )
    op.create_table(
        "credit_notes",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("tenant", sa.String(), nullable=False),
        sa.Column("invoice_id", sa.String(), sa.ForeignKey("invoices.id"), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_s", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_credit_notes_tenant", "credit_notes", ["tenant"])
    op.create_index("ix_credit_notes_invoice_id", "credit_notes", ["invoice_id"])
    op.create_table(
        "credit_note_lines",
        sa.Column("note_id", sa.String(), sa.ForeignKey("credit_notes.id"), primary_key=True),
        *_line_columns(),
    )
    op.create_table(
        "deposits",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("tenant", sa.String(), nullable=False),
        sa.Column("amount", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("at_s", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
    )
    op.create_index("ix_deposits_tenant", "deposits", ["tenant"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in _postgres():
            op.execute(statement)
    else:
        for statement in _sqlite():
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in ("invoice_lines", "invoices", *APPEND_ONLY):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_guard ON {table}")
        for function in ("invoice_lines_guard", "invoices_guard", "billing_append_only"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for table in ("deposits", "credit_note_lines", "credit_notes", "invoice_changes", "invoice_lines", "invoices"):
        op.drop_table(table)  # SQLite drops a table's triggers with it


def _draft(invoice_id: str) -> str:
    return f"(SELECT state FROM invoices WHERE id = {invoice_id}) IS NOT 'draft'"  # noqa: S608 (fixed SQL)


def _sqlite() -> list[str]:
    header = " OR ".join(
        f"NEW.{c} IS NOT OLD.{c}" for c in ("id", "tenant", "period", "tz", "start_s", "end_s", "currency", "created_s")
    )
    edges = ", ".join(f"'{e}'" for e in EDGES)
    statements = [
        _sqlite_trigger(
            "invoice_lines_frozen_insert", "INSERT ON invoice_lines", _draft("NEW.invoice_id"), FROZEN_LINES
        ),
        _sqlite_trigger(
            "invoice_lines_frozen_update",
            "UPDATE ON invoice_lines",
            f"{_draft('OLD.invoice_id')} OR {_draft('NEW.invoice_id')}",
            FROZEN_LINES,
        ),
        _sqlite_trigger(
            "invoice_lines_frozen_delete", "DELETE ON invoice_lines", _draft("OLD.invoice_id"), FROZEN_LINES
        ),
        _sqlite_trigger("invoices_frozen_header", "UPDATE ON invoices", header, FROZEN_HEADER),
        _sqlite_trigger(
            "invoices_state_edges",
            "UPDATE OF state ON invoices",
            f"NEW.state IS NOT OLD.state AND (OLD.state || '>' || NEW.state) NOT IN ({edges})",
            BAD_EDGE,
        ),
        _sqlite_trigger("invoices_frozen_delete", "DELETE ON invoices", "OLD.state IS NOT 'draft'", FROZEN_DELETE),
    ]
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            statements.append(
                _sqlite_trigger(f"{table}_append_only_{verb.lower()}", f"{verb} ON {table}", "1", APPENDED)
            )
    return statements


def _sqlite_trigger(name: str, event: str, when: str, message: str) -> str:
    return f"CREATE TRIGGER {name} BEFORE {event}\nWHEN {when}\nBEGIN\n    SELECT RAISE(ABORT, '{message}');\nEND"


def _postgres() -> list[str]:
    header = " OR ".join(
        f"NEW.{c} IS DISTINCT FROM OLD.{c}"
        for c in ("id", "tenant", "period", "tz", "start_s", "end_s", "currency", "created_s")
    )
    edges = ", ".join(f"'{e}'" for e in EDGES)
    return [
        f"""CREATE FUNCTION invoice_lines_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND (SELECT state FROM invoices WHERE id = OLD.invoice_id) IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION '{FROZEN_LINES}';
    END IF;
    IF TG_OP <> 'DELETE' AND (SELECT state FROM invoices WHERE id = NEW.invoice_id) IS DISTINCT FROM 'draft' THEN
        RAISE EXCEPTION '{FROZEN_LINES}';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$""",  # noqa: S608 (fixed SQL, no input)
        "CREATE TRIGGER invoice_lines_guard BEFORE INSERT OR UPDATE OR DELETE ON invoice_lines "
        "FOR EACH ROW EXECUTE FUNCTION invoice_lines_guard()",
        f"""CREATE FUNCTION invoices_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.state <> 'draft' THEN
            RAISE EXCEPTION '{FROZEN_DELETE}';
        END IF;
        RETURN OLD;
    END IF;
    IF {header} THEN
        RAISE EXCEPTION '{FROZEN_HEADER}';
    END IF;
    IF NEW.state <> OLD.state AND (OLD.state || '>' || NEW.state) NOT IN ({edges}) THEN
        RAISE EXCEPTION '{BAD_EDGE}';
    END IF;
    RETURN NEW;
END $$""",
        "CREATE TRIGGER invoices_guard BEFORE UPDATE OR DELETE ON invoices "
        "FOR EACH ROW EXECUTE FUNCTION invoices_guard()",
        f"""CREATE FUNCTION billing_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{APPENDED}';
END $$""",
        *(
            f"CREATE TRIGGER {table}_guard BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION billing_append_only()"
            for table in APPEND_ONLY
        ),
    ]
