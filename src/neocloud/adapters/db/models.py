"""The ledger's tables as SQLAlchemy 2 typed declarative models.

The migrations in ``migrations/versions`` create exactly these tables (a test
compares them). All instants are ``BIGINT`` seconds since the Unix epoch, UTC.
Rows that services read incrementally carry ``version``: the ledger version of
the transaction that last wrote them (``ledger_meta.version`` is the newest).

Added by the migrations, not declared here: what makes two non-empty bookings
of one node overlapping impossible, on PostgreSQL the exclusion constraint
``bookings_no_overlap``, on SQLite the triggers ``bookings_no_overlap_insert`` and
``bookings_no_overlap_update`` (both refusals name ``bookings_no_overlap``); and the
billing triggers of migration 0005 (issued invoices and their lines never change,
state changes follow the transition table, credit notes and deposits are appended).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: A 64-bit surrogate key. On SQLite it must be spelled INTEGER to be the rowid
#: (and so autoincrement); SQLite integers are 64-bit anyway.
BIG_ID = BigInteger().with_variant(Integer(), "sqlite")
#: JSON documents: ``jsonb`` on PostgreSQL, text on SQLite; Python ``None`` is SQL NULL.
JSON_DOC = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

#: The name of the PostgreSQL exclusion constraint on ``bookings``.
NO_OVERLAP = "bookings_no_overlap"


class Base(DeclarativeBase):
    pass


class LedgerMeta(Base):
    """One row (``id = 1``): the ledger version, the next booking id (writers hand
    ids out under the write lock) and which fleet is loaded."""

    __tablename__ = "ledger_meta"
    __table_args__ = (CheckConstraint("id = 1", name="ledger_meta_single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    next_booking_id: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("1"))
    fleet_loaded_s: Mapped[int | None] = mapped_column(BigInteger)
    fleet_loaded_by: Mapped[str | None] = mapped_column(String)
    fleet_name: Mapped[str | None] = mapped_column(String)


class SiteRow(Base):
    __tablename__ = "sites"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    region: Mapped[str] = mapped_column(String, nullable=False)
    power_mw: Mapped[float | None] = mapped_column(Double)
    pue: Mapped[float] = mapped_column(Double, nullable=False)
    electricity_usd_per_kwh: Mapped[float | None] = mapped_column(Double)
    facility_power_mw: Mapped[float | None] = mapped_column(Double)


class PodRow(Base):
    __tablename__ = "pods"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    site: Mapped[str] = mapped_column(String, nullable=False)


class BlockRow(Base):
    __tablename__ = "blocks"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    site: Mapped[str] = mapped_column(String, nullable=False)
    pod: Mapped[str] = mapped_column(String, nullable=False)


class RackRow(Base):
    __tablename__ = "racks"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    site: Mapped[str] = mapped_column(String, nullable=False)
    pod: Mapped[str] = mapped_column(String, nullable=False)
    block: Mapped[str] = mapped_column(String, nullable=False)
    power_kw: Mapped[float | None] = mapped_column(Double)


class GpuModelRow(Base):
    """A GPU model the fleet adds to the built-in catalog (built-ins are not stored)."""

    __tablename__ = "gpu_models"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    memory_gb: Mapped[float | None] = mapped_column(Double)
    tdp_w: Mapped[float | None] = mapped_column(Double)
    gpus_per_node: Mapped[int] = mapped_column(Integer, nullable=False)
    node_power_kw: Mapped[float | None] = mapped_column(Double)
    nvlink_domain_gpus: Mapped[int] = mapped_column(Integer, nullable=False)
    all_in_kw_per_gpu: Mapped[float | None] = mapped_column(Double)
    aliases: Mapped[list[str]] = mapped_column(JSON_DOC, nullable=False)
    sources: Mapped[dict[str, str]] = mapped_column(JSON_DOC, nullable=False)
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False)


class NodeRow(Base):
    """A node; ``position`` keeps the fleet's topology order, ``version`` its health's.
    (``gpu_serials`` is the last column: migration 0006 added it.)"""

    __tablename__ = "nodes"
    __table_args__ = (Index("ix_nodes_version", "version"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    serial: Mapped[str] = mapped_column(String, nullable=False)
    gpu_model: Mapped[str] = mapped_column(String, nullable=False)
    gpu_count: Mapped[int] = mapped_column(Integer, nullable=False)
    site: Mapped[str] = mapped_column(String, nullable=False)
    pod: Mapped[str] = mapped_column(String, nullable=False)
    block: Mapped[str] = mapped_column(String, nullable=False)
    rack: Mapped[str | None] = mapped_column(String)
    nvlink_domain: Mapped[str] = mapped_column(String, nullable=False)
    health: Mapped[str] = mapped_column(String, nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: the serial of each GPU in index order; NULL: the inventory does not track GPUs
    gpu_serials: Mapped[list[str] | None] = mapped_column(JSON_DOC)


class BookingRow(Base):
    """A node held over ``[start_s, end_s)``; released bookings keep ``end_s = start_s``.
    Ids come from ``ledger_meta.next_booking_id``, not from the database."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("start_s <= end_s", name="bookings_interval"),
        Index("ix_bookings_node_start", "node_id", "start_s"),
        Index("ix_bookings_version", "version"),
        Index("ix_bookings_holder", "holder"),
    )

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True, autoincrement=False)
    node_id: Mapped[str] = mapped_column(String, ForeignKey("nodes.id"), nullable=False)
    start_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String, nullable=False)
    holder: Mapped[str] = mapped_column(String, nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


class LeaseRow(Base):
    """A lease: the columns queries need, and the whole record as a JSON document."""

    __tablename__ = "leases"
    __table_args__ = (
        Index("ix_leases_tenant", "tenant"),
        Index("ix_leases_version", "version"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    tenant: Mapped[str] = mapped_column(String, nullable=False)
    state: Mapped[str] = mapped_column(String, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    first_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    record: Mapped[dict[str, Any]] = mapped_column(JSON_DOC, nullable=False)


class TenantRow(Base):
    __tablename__ = "tenants"
    __table_args__ = (Index("ix_tenants_version", "version"),)

    name: Mapped[str] = mapped_column(String, primary_key=True)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str] = mapped_column(String, nullable=False)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


class HealthLogRow(Base):
    """Every change of a node's health (and each unhealthy node's state at load)."""

    __tablename__ = "health_log"
    __table_args__ = (Index("ix_health_log_node_at", "node_id", "at_s"),)

    id: Mapped[int] = mapped_column(BIG_ID, Identity(), primary_key=True)
    node_id: Mapped[str] = mapped_column(String, ForeignKey("nodes.id"), nullable=False)
    at_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    state: Mapped[str] = mapped_column(String, nullable=False)
    reason: Mapped[str] = mapped_column(String, nullable=False)


class EventRow(Base):
    """The append-only event log."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_lease_id", "lease_id"),
        Index("ix_events_node", "node"),
        Index("ix_events_tenant", "tenant"),
        Index("ix_events_at_s", "at_s"),
    )

    seq: Mapped[int] = mapped_column(BIG_ID, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String, nullable=False)
    subject: Mapped[str] = mapped_column(String, nullable=False)
    at_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    actor: Mapped[str] = mapped_column(String, nullable=False)
    tenant: Mapped[str | None] = mapped_column(String)
    lease_id: Mapped[str | None] = mapped_column(String)
    node: Mapped[str | None] = mapped_column(String)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC)


class ApiKeyRow(Base):
    """API keys: the SHA-256 of the secret, never the secret."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String, primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String, nullable=False)
    role: Mapped[str] = mapped_column(String, nullable=False)
    tenant: Mapped[str | None] = mapped_column(String)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_by: Mapped[str] = mapped_column(String, nullable=False)
    label: Mapped[str] = mapped_column(String, nullable=False)
    revoked_s: Mapped[int | None] = mapped_column(BigInteger)


class IdempotencyRow(Base):
    """The first result of a POST sent with an Idempotency-Key, per API key."""

    __tablename__ = "idempotency"

    scope: Mapped[str] = mapped_column(String, primary_key=True)
    key: Mapped[str] = mapped_column(String, primary_key=True)
    request_hash: Mapped[str] = mapped_column(String, nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PriceBookRow(Base):
    """Price-book versions: appended, never changed (``cards`` as ``adapters/pricefile.py`` stores them)."""

    __tablename__ = "price_books"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    effective_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    author: Mapped[str] = mapped_column(String, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    cards: Mapped[dict[str, Any]] = mapped_column(JSON_DOC, nullable=False)


# -- billing (migration 0005; docs/billing.md) ------------------------------------------
#: The name of the unique constraint that allows one invoice per tenant and period.
ONE_INVOICE = "invoices_one_per_tenant_period"


class InvoiceRow(Base):
    """An invoice's header; its lines and state changes are rows of their own."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint("state IN ('draft', 'issued', 'paid', 'void')", name="invoices_state_known"),
        UniqueConstraint("tenant", "period", name=ONE_INVOICE),
        Index("ix_invoices_period", "period"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    tenant: Mapped[str] = mapped_column(String, nullable=False)
    period: Mapped[str] = mapped_column(String, nullable=False)  # YYYY-MM
    tz: Mapped[str] = mapped_column(String, nullable=False)  # the IANA zone the period is a month in
    start_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    end_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String, nullable=False)
    state: Mapped[str] = mapped_column(String, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)


class _LineColumns:
    """The columns of an invoice's or a credit note's line (amount: the Decimal's text)."""

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String, nullable=False)
    lease_id: Mapped[str] = mapped_column(String, nullable=False)
    period: Mapped[str] = mapped_column(String, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    gpu_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    amount: Mapped[str] = mapped_column(String, nullable=False)
    currency: Mapped[str] = mapped_column(String, nullable=False)
    evidence: Mapped[list[Any]] = mapped_column(JSON_DOC, nullable=False)


class InvoiceLineRow(_LineColumns, Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_lease_id", "lease_id"),)

    invoice_id: Mapped[str] = mapped_column(String, ForeignKey("invoices.id"), primary_key=True)


class InvoiceChangeRow(Base):
    """An invoice's state changes, appended in order (``seq`` from 0: its creation)."""

    __tablename__ = "invoice_changes"

    invoice_id: Mapped[str] = mapped_column(String, ForeignKey("invoices.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    from_state: Mapped[str | None] = mapped_column(String)
    to_state: Mapped[str] = mapped_column(String, nullable=False)
    at_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    actor: Mapped[str] = mapped_column(String, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class CreditNoteRow(Base):
    __tablename__ = "credit_notes"
    __table_args__ = (
        Index("ix_credit_notes_tenant", "tenant"),
        Index("ix_credit_notes_invoice_id", "invoice_id"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    tenant: Mapped[str] = mapped_column(String, nullable=False)
    invoice_id: Mapped[str] = mapped_column(String, ForeignKey("invoices.id"), nullable=False)
    period: Mapped[str] = mapped_column(String, nullable=False)
    currency: Mapped[str] = mapped_column(String, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)


class CreditNoteLineRow(_LineColumns, Base):
    __tablename__ = "credit_note_lines"

    note_id: Mapped[str] = mapped_column(String, ForeignKey("credit_notes.id"), primary_key=True)


class DepositRow(Base):
    """Prepayments a tenant made (amount: the Decimal's text), appended only."""

    __tablename__ = "deposits"
    __table_args__ = (Index("ix_deposits_tenant", "tenant"),)

    id: Mapped[str] = mapped_column(String, primary_key=True)
    tenant: Mapped[str] = mapped_column(String, nullable=False)
    amount: Mapped[str] = mapped_column(String, nullable=False)
    currency: Mapped[str] = mapped_column(String, nullable=False)
    at_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    actor: Mapped[str] = mapped_column(String, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)


# -- live job queues (migration 0007; docs/queue.md) -------------------------------------
class QueuePoolRow(Base):
    """An internal pool's queue: policy, placement, restart cost, quotas (a JSON list)."""

    __tablename__ = "queue_pools"

    name: Mapped[str] = mapped_column(String, primary_key=True)
    policy: Mapped[str] = mapped_column(String, nullable=False)
    placement: Mapped[str] = mapped_column(String, nullable=False)
    restart_s: Mapped[float] = mapped_column(Double, nullable=False)
    origin_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    actor: Mapped[str] = mapped_column(String, nullable=False)
    quotas: Mapped[list[Any]] = mapped_column(JSON_DOC, nullable=False)


class QueueEntryRow(Base):
    """A queue's journal, appended only: ``(pool, seq)`` is written once (a second
    writer of the same entry is refused by the key)."""

    __tablename__ = "queue_entries"

    pool: Mapped[str] = mapped_column(String, ForeignKey("queue_pools.name"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at_s: Mapped[float] = mapped_column(Double, nullable=False)
    kind: Mapped[str] = mapped_column(String, nullable=False)
    job: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON_DOC, nullable=False)


# -- stored studies (migration 0008; docs/api.md "Studies") -------------------------------
class StudyRow(Base):
    """A keep-vs-lease study or a sweep: its inputs, progress and, once finished, its
    result or error. A finished row never changes (the migration's triggers)."""

    __tablename__ = "studies"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'done', 'failed')", name="ck_studies_status"),
        CheckConstraint("kind IN ('keep-vs-lease', 'sweep')", name="ck_studies_kind"),
    )

    id: Mapped[str] = mapped_column(String, primary_key=True)
    kind: Mapped[str] = mapped_column(String, nullable=False)
    name: Mapped[str] = mapped_column(String, nullable=False, unique=True)
    actor: Mapped[str] = mapped_column(String, nullable=False)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON_DOC, nullable=False)
    status: Mapped[str] = mapped_column(String, nullable=False)
    done: Mapped[int] = mapped_column(Integer, nullable=False)
    total: Mapped[int] = mapped_column(Integer, nullable=False)
    created_s: Mapped[int] = mapped_column(BigInteger, nullable=False)
    finished_s: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON_DOC, nullable=True)
