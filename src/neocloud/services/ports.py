"""Ports: what the services need from storage. Adapters implement them.

The ledger store is versioned. Every committed change bumps one counter; each
booking, lease and node row remembers the version that last wrote it, so a writer
whose cached view is at version ``v`` catches up by reading rows newer than ``v``
(never the whole ledger). Writers are serialised: :meth:`LedgerStore.writing` takes
the store's write lock (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT ... FOR
UPDATE`` on the version row) for a short transaction that holds no network call.
The database also makes overlapping bookings of a node impossible whatever the code
does: an exclusion constraint on PostgreSQL, triggers on SQLite.

Everything one request changes goes through one :class:`Writer`: the ledger change,
the result kept for its ``Idempotency-Key``, an API key with its audit event. So a
crash or a full disk leaves all of it or none of it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from neocloud.domain.access import ApiKey
from neocloud.domain.billing import CreditNote, Deposit, Invoice, InvoiceChange, InvoiceQuery
from neocloud.domain.changes import Change, Delta, EventQuery, IdempotentResult, StoredEvent, StoreError
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health, HealthRecord
from neocloud.domain.ledger import Booking
from neocloud.domain.queue import Entry, PoolConfig
from neocloud.domain.studies import Study, StudyStatus
from neocloud.economics.pricebook import PriceBook

__all__ = [
    "BillingStore",
    "BillingWriter",
    "Delta",
    "EventQuery",
    "IdempotentResult",
    "KeyStore",
    "LedgerStore",
    "QueueStore",
    "QueueWriter",
    "ResultKeeper",
    "StoreError",
    "StoredEvent",
    "StudyStore",
    "Writer",
]


class ResultKeeper(Protocol):
    """The part of a write transaction that keeps ``Idempotency-Key`` results."""

    def result(self, scope: str, key: str) -> IdempotentResult | None:
        """The result kept for ``(scope, key)`` (an API key's id and an ``Idempotency-Key``),
        read under the write lock: no other writer can be keeping one meanwhile."""
        ...

    def keep_result(self, scope: str, key: str, result: IdempotentResult) -> None:
        """Keep ``result`` for ``(scope, key)``, committed with this transaction or not at
        all. Raises :class:`StoreError` if one is already kept (the row is unique)."""
        ...


class Writer(ResultKeeper, Protocol):
    """An open write transaction holding the store's write lock."""

    version: int
    #: when the fleet was loaded: no node has a health history before it
    fleet_loaded_s: int

    def delta_since(self, version: int) -> Delta: ...

    def write(self, change: Change) -> list[Booking]:
        """Persist ``change`` (truncations and releases first, then new bookings,
        leases, node health, events) under version ``self.version + 1``; the new
        bookings with their ids. Raises ``BookingConflict`` if the database refuses
        an overlap."""
        ...

    def add_tenant(self, name: str, now_s: int, actor: str) -> None: ...

    def last_health(self, node: str) -> tuple[int, Health] | None:
        """The node's latest health record ``(at_s, state)`` (latest time, then latest
        written), read under the write lock; ``None`` when it has none."""
        ...

    def add_key(self, key: ApiKey) -> None: ...

    def price_books(self) -> list[PriceBook]:
        """Every price-book version, oldest first, read under the write lock."""
        ...

    def publish_prices(self, book: PriceBook) -> None:
        """Append a price-book version; versions are never changed or removed. Raises
        :class:`StoreError` if ``book.version`` is already stored (the row is unique)."""
        ...

    def revoke_key(self, key_id: str, at_s: int) -> ApiKey | None:
        """The key as revoked (its first revocation time stays), or ``None`` if there is no such key."""
        ...


class LedgerStore(Protocol):
    def create_schema(self) -> None:
        """Create the schema, or upgrade it to the newest migration."""
        ...

    def load_fleet(self, fleet: Fleet, now_s: int, actor: str) -> None:
        """Store the fleet's topology and nodes; refuses if a fleet is already stored."""
        ...

    def fleet(self) -> Fleet:
        """The stored fleet with each node's current health."""
        ...

    def delta_since(self, version: int) -> Delta:
        """Rows written after ``version`` as they are now (``-1``: everything), read
        without taking the write lock."""
        ...

    def writing(self) -> AbstractContextManager[Writer]:
        """A write transaction: commits on normal exit, rolls back on an exception."""
        ...

    def events(self, query: EventQuery) -> list[StoredEvent]: ...

    def health_log(self, nodes: list[str]) -> Iterator[tuple[str, int, Health]]:
        """``(node, at_s, new state)`` for ``nodes``, in time order."""
        ...

    def health_records(self, node: str) -> list[HealthRecord]:
        """Every health record of ``node`` with its reason, in the order written (time
        order; records at one instant in the order they were made)."""
        ...

    def price_books(self) -> list[PriceBook]:
        """Every price-book version, oldest first (published through a :class:`Writer`)."""
        ...


class QueueWriter(ResultKeeper, Protocol):
    """A write transaction's part for live job queues (the ledger store's writer),
    which keeps ``Idempotency-Key`` results too."""

    def add_queue_pool(self, pool: PoolConfig) -> None:
        """Store a pool's queue settings; :class:`StoreError` if the pool has a queue."""
        ...

    def queue_pools(self) -> list[PoolConfig]: ...

    def append_queue(self, pool: str, entries: Sequence[Entry]) -> None:
        """Append entries to the pool's journal; :class:`StoreError` when another writer
        appended an entry of the same number first (read the journal again and retry)."""
        ...

    def queue_entries(self, pool: str, after_seq: int = 0) -> list[Entry]:
        """The pool's entries after ``after_seq``, in order, read under the write lock."""
        ...


class QueueStore(Protocol):
    """Where live job queues keep their settings and journals."""

    def queue_pools(self) -> list[PoolConfig]: ...

    def queue_entries(self, pool: str, after_seq: int = 0) -> list[Entry]: ...

    def writing(self) -> AbstractContextManager[QueueWriter]: ...


class StudyStore(Protocol):
    """Where keep-vs-lease studies and sweeps are kept. Each call is its own short
    transaction (a study touches no ledger row)."""

    def add_study(self, study: Study) -> None:
        """Store a new study; :class:`~neocloud.domain.studies.StudyExists` if its name is taken."""
        ...

    def study_progress(self, study_id: str, done: int) -> None:
        """A running study's work done so far (a finished one is left as it is)."""
        ...

    def finish_study(
        self,
        study_id: str,
        status: StudyStatus,
        at_s: int,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Finish a running study once (``done`` with its result, ``failed`` with its
        error); :class:`~neocloud.domain.studies.StudyFinished` if it is finished already."""
        ...

    def studies(self) -> list[Study]:
        """Every study, newest first, without its inputs and result (the list's columns)."""
        ...

    def study(self, study_id: str) -> Study | None: ...

    def study_named(self, name: str) -> bool: ...


class KeyStore(Protocol):
    """Where API keys live (hashes only). Keys are added and revoked through a
    :class:`Writer`, in the transaction that also writes their audit event."""

    def get_key(self, key_id: str) -> ApiKey | None: ...

    def list_keys(self) -> list[ApiKey]: ...

    def writing(self) -> AbstractContextManager[Writer]: ...


class BillingReads(Protocol):
    """Invoices, credit notes and deposits as stored (lines, evidence and history whole)."""

    def invoices(self, query: InvoiceQuery) -> list[Invoice]:
        """Matching invoices, by period then tenant then id."""
        ...

    def invoice(self, invoice_id: str) -> Invoice | None: ...

    def credit_notes(self, tenant: str | None = None, invoice_id: str | None = None) -> list[CreditNote]:
        """Credit notes of ``tenant`` (and on ``invoice_id``), oldest first."""
        ...

    def credit_note(self, note_id: str) -> CreditNote | None: ...

    def deposits(self, tenant: str | None = None) -> list[Deposit]:
        """Deposits of ``tenant`` (``None``: all), oldest first."""
        ...


class BillingWriter(Writer, BillingReads, Protocol):
    """A write transaction that also writes billing's documents (reads under the lock).

    There is no method that changes an invoice's lines or header, or a credit note: an
    issued document is written once and read after."""

    def add_invoice(self, invoice: Invoice) -> None:
        """Store ``invoice`` with its lines as a draft, then move it along its history
        (``None -> draft`` first; each edge in the transition table). Raises
        :class:`~neocloud.domain.billing.DuplicateInvoice` when its tenant already has
        one for the period (the database's unique rule), ``InvoiceRuleError`` for a
        history that does not follow the table."""
        ...

    def change_invoice(self, invoice_id: str, change: InvoiceChange) -> None:
        """Append ``change`` to the invoice's history and set its state: a guarded write
        (only if the invoice is still in ``change.from_state``; else ``InvoiceRuleError``,
        as is an edge the table does not have)."""
        ...

    def add_credit_note(self, note: CreditNote) -> None: ...

    def add_deposit(self, deposit: Deposit) -> None: ...


class BillingStore(LedgerStore, BillingReads, Protocol):
    """The ledger store with billing's tables; ``writing()`` yields a :class:`BillingWriter`."""

    def writing(self) -> AbstractContextManager[BillingWriter]: ...
