"""An in-memory ledger store: the fake for service tests and the simulator's store.

Same contract as the database stores (versioned rows, one writer at a time,
all-or-nothing transactions), kept in dictionaries behind a lock. API keys and the
results kept for ``Idempotency-Key`` are staged by the writer and kept only when its
transaction commits, with the ledger change.
"""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from neocloud.adapters.memory_billing import BillingBook, BillingDraft
from neocloud.domain.access import ApiKey
from neocloud.domain.billing import CreditNote, Deposit, Invoice, InvoiceChange, InvoiceQuery
from neocloud.domain.changes import Change, Delta, EventQuery, IdempotentResult, StoredEvent, StoreError
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health, HealthRecord
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import Booking, BookingConflict, Draft, Ledger
from neocloud.domain.queue import Entry, PoolConfig, PoolExists
from neocloud.domain.studies import Study, StudyExists, StudyFinished, StudyStatus
from neocloud.economics.pricebook import PriceBook


@dataclass(slots=True)
class _Data:
    version: int = 0
    loaded_s: int = 0
    next_booking: int = 1
    bookings: dict[int, tuple[Booking, int]] = field(default_factory=dict)
    leases: dict[str, tuple[Lease, int]] = field(default_factory=dict)
    health: dict[str, tuple[Health, int]] = field(default_factory=dict)
    tenants: dict[str, int] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    health_log: dict[str, list[HealthRecord]] = field(default_factory=dict)
    #: (version, table, key) of every row a write touched, in version order: a delta
    #: after version v reads only what changed since, never the whole store
    changed: list[tuple[int, str, object]] = field(default_factory=list)
    #: live bookings per node: the overlap check a database constraint would make
    overlaps: Ledger = field(default_factory=lambda: Ledger(()))
    #: live job queues: each pool's settings and its journal (entry seq n at index n - 1)
    queue_pools: dict[str, PoolConfig] = field(default_factory=dict)
    queue_entries: dict[str, list[Entry]] = field(default_factory=dict)


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._fleet: Fleet | None = None
        self._data = _Data()
        self._schema = False
        self._keys: dict[str, ApiKey] = {}
        self._idempotent: dict[tuple[str, str], IdempotentResult] = {}
        self._prices: list[PriceBook] = []
        self._billing = BillingBook()
        self._studies: dict[str, Study] = {}  # by id, in the order stored

    def create_schema(self) -> None:
        self._schema = True

    def load_fleet(self, fleet: Fleet, now_s: int, actor: str) -> None:
        with self._lock:
            if self._fleet is not None:
                raise StoreError(f"the store already holds fleet {self._fleet.name!r}")
            self._fleet = copy.deepcopy(fleet)
            self._data.overlaps = Ledger([node.id for node in fleet.nodes])
            self._data.loaded_s = now_s
            for node in fleet.nodes:
                self._data.health[node.id] = (node.health, 0)
                if node.health is not Health.HEALTHY:
                    record = HealthRecord(node.id, now_s, node.health, f"fleet loaded by {actor}")
                    self._data.health_log.setdefault(node.id, []).append(record)

    def fleet(self) -> Fleet:
        if self._fleet is None:
            raise StoreError("no fleet loaded: run neocloud init --fleet FILE")
        fleet = copy.deepcopy(self._fleet)
        for node in fleet.nodes:
            node.health = self._data.health[node.id][0]
        return fleet

    def delta_since(self, version: int) -> Delta:
        with self._lock:
            return _delta(self._data, version)

    @contextmanager
    def writing(self) -> Iterator[_Writer]:
        """A write transaction: the writer changes the data in place and journals how to
        take each change back, so a failed transaction is undone in O(what it wrote),
        never by copying the store."""
        with self._lock:
            if self._fleet is None:
                raise StoreError("no fleet loaded: run neocloud init --fleet FILE")
            writer = _Writer(self._data, self._keys, self._idempotent, self._prices, self._billing.draft())
            try:
                yield writer
            except BaseException:
                writer.rollback()
                raise
            self._keys.update(writer.keys)
            self._idempotent.update(writer.results)
            self._prices.extend(writer.prices)
            self._billing.keep(writer.billing)

    def events(self, query: EventQuery) -> list[StoredEvent]:
        with self._lock:
            after = self._data.events[max(query.after_seq, 0) :]  # seq n is at index n - 1
            out = [e for e in after if _matches(e, query)]
            return out[: query.limit]

    def health_log(self, nodes: list[str]) -> Iterator[tuple[str, int, Health]]:
        with self._lock:
            records = [(r.node, r.at_s, r.state) for node in set(nodes) for r in self._data.health_log.get(node, ())]
        return iter(sorted(records, key=lambda r: r[1]))

    def health_records(self, node: str) -> list[HealthRecord]:
        with self._lock:
            return sorted(self._data.health_log.get(node, ()), key=lambda r: r.at_s)

    def price_books(self) -> list[PriceBook]:
        with self._lock:
            return list(self._prices)

    # -- stored studies: each call its own transaction, as on the SQL store ---------------
    def add_study(self, study: Study) -> None:
        with self._lock:
            if any(s.name == study.name for s in self._studies.values()):
                raise StudyExists(f"a study named {study.name!r} is stored already")
            self._studies[study.id] = copy.deepcopy(study)

    def study_progress(self, study_id: str, done: int) -> None:
        with self._lock:
            found = self._studies.get(study_id)
            if found is not None and found.status is StudyStatus.RUNNING:
                self._studies[study_id] = replace(found, done=done)

    def finish_study(
        self,
        study_id: str,
        status: StudyStatus,
        at_s: int,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self._lock:
            found = self._studies.get(study_id)
            if found is None or found.status is not StudyStatus.RUNNING:
                raise StudyFinished(f"study {study_id!r} is finished already (or there is none): it is written once")
            done = found.total if status is StudyStatus.DONE else found.done
            self._studies[study_id] = replace(
                found, status=status, done=done, finished_s=at_s, result=copy.deepcopy(result), error=error
            )

    def studies(self) -> list[Study]:
        with self._lock:
            listed = [replace(s, inputs={}, result=None) for s in self._studies.values()]
        return sorted(listed, key=lambda s: (s.created_s, s.id), reverse=True)

    def study(self, study_id: str) -> Study | None:
        with self._lock:
            return copy.deepcopy(self._studies.get(study_id))

    def study_named(self, name: str) -> bool:
        with self._lock:
            return any(s.name == name for s in self._studies.values())

    # -- live job queues (written through the writer) ----------------------------------
    def queue_pools(self) -> list[PoolConfig]:
        with self._lock:
            return _queue_pools(self._data)

    def queue_entries(self, pool: str, after_seq: int = 0) -> list[Entry]:
        with self._lock:
            return list(self._data.queue_entries.get(pool, [])[max(after_seq, 0) :])

    # -- billing's documents (adapters/memory_billing.py; written through the writer) ----
    def invoices(self, query: InvoiceQuery) -> list[Invoice]:
        with self._lock:
            return self._billing.invoices_matching(query)

    def invoice(self, invoice_id: str) -> Invoice | None:
        return self._billing.invoice(invoice_id)

    def credit_notes(self, tenant: str | None = None, invoice_id: str | None = None) -> list[CreditNote]:
        with self._lock:
            return self._billing.credit_notes(tenant, invoice_id)

    def credit_note(self, note_id: str) -> CreditNote | None:
        return self._billing.credit_note(note_id)

    def deposits(self, tenant: str | None = None) -> list[Deposit]:
        with self._lock:
            return self._billing.deposits(tenant)

    # -- keys (written through the writer) ---------------------------------------------
    def get_key(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def list_keys(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda k: (k.created_s, k.id))


class _Writer:
    """Writes ``data`` in place, journalling an undo for each change (``rollback``);
    keys and kept results go to ``keys`` and ``results``, laid over the committed
    ``stored_keys`` and ``stored_results``, and are kept only on commit."""

    def __init__(
        self,
        data: _Data,
        stored_keys: dict[str, ApiKey],
        stored_results: dict[tuple[str, str], IdempotentResult],
        stored_prices: list[PriceBook],
        billing: BillingDraft,
    ) -> None:
        self._data = data
        self.billing = billing
        self._stored_prices = stored_prices
        self.prices: list[PriceBook] = []
        self.version = data.version
        self.fleet_loaded_s = data.loaded_s
        self._stored_keys = stored_keys
        self._stored_results = stored_results
        self.keys: dict[str, ApiKey] = {}
        self.results: dict[tuple[str, str], IdempotentResult] = {}
        self._undo: list[Callable[[], None]] = []
        self._mark(data)

    def delta_since(self, version: int) -> Delta:
        return _delta(self._data, version)

    def write(self, change: Change) -> list[Booking]:
        d = self._data
        v = d.version + 1
        for booking_id, end_s in change.truncate:
            b, _ = d.bookings[booking_id]
            self._set_booking(Booking(b.id, b.node, b.start_s, end_s, b.kind, b.holder), v)
        for booking_id in change.release:
            b, _ = d.bookings[booking_id]
            self._set_booking(Booking(b.id, b.node, b.start_s, b.start_s, b.kind, b.holder), v)
        booked = self._insert(change.book, v)
        for lease in change.leases:
            self._put(d.leases, "lease", lease.id, (lease, v), v)
        for h in change.health:
            self._put(d.health, "health", h.node, (h.to_state, v), v)
            log = d.health_log.setdefault(h.node, [])
            log.append(HealthRecord(h.node, h.at_s, h.to_state, h.reason))
            self._undo.append(_dropper(log))
        for event in change.events:
            d.events.append(StoredEvent(len(d.events) + 1, event))
        d.version = v
        self.version = v
        return booked

    def last_health(self, node: str) -> tuple[int, Health] | None:
        log = self._data.health_log.get(node)
        if not log:
            return None
        latest = max(range(len(log)), key=lambda k: (log[k].at_s, k))  # latest time, then latest written
        return log[latest].at_s, log[latest].state

    def add_queue_pool(self, pool: PoolConfig) -> None:
        pools = self._data.queue_pools
        if pool.name in pools:
            raise PoolExists(f"pool {pool.name!r} has a queue already")
        pools[pool.name] = pool
        self._data.queue_entries[pool.name] = []

        def undo() -> None:
            del pools[pool.name]
            del self._data.queue_entries[pool.name]

        self._undo.append(undo)

    def queue_pools(self) -> list[PoolConfig]:
        return _queue_pools(self._data)

    def append_queue(self, pool: str, entries: Sequence[Entry]) -> None:
        journal = self._data.queue_entries.get(pool)
        if journal is None:
            raise StoreError(f"pool {pool!r} has no queue")
        if entries and entries[0].seq != len(journal) + 1:
            raise StoreError(f"pool {pool!r}: journal entry {entries[0].seq} was written by another writer first")
        before = len(journal)
        journal.extend(entries)
        self._undo.append(lambda: journal.__delitem__(slice(before, None)))

    def queue_entries(self, pool: str, after_seq: int = 0) -> list[Entry]:
        return list(self._data.queue_entries.get(pool, [])[max(after_seq, 0) :])

    def rollback(self) -> None:
        """Take back everything this transaction wrote, newest first."""
        while self._undo:
            self._undo.pop()()

    def add_tenant(self, name: str, now_s: int, actor: str) -> None:
        d = self._data
        d.version += 1
        self._put(d.tenants, "tenant", name, d.version, d.version)
        self.version = d.version

    def result(self, scope: str, key: str) -> IdempotentResult | None:
        found = self.results.get((scope, key))
        return found if found is not None else self._stored_results.get((scope, key))

    def keep_result(self, scope: str, key: str, result: IdempotentResult) -> None:
        if self.result(scope, key) is not None:
            raise StoreError(f"Idempotency-Key {key!r} already holds a result")
        self.results[(scope, key)] = result

    def add_key(self, key: ApiKey) -> None:
        if key.id in self.keys or key.id in self._stored_keys:
            raise StoreError(f"an API key {key.id!r} already exists")
        self.keys[key.id] = key

    def price_books(self) -> list[PriceBook]:
        return [*self._stored_prices, *self.prices]

    def publish_prices(self, book: PriceBook) -> None:
        if any(b.version == book.version for b in self.price_books()):
            raise StoreError(f"price book version {book.version} already exists")
        self.prices.append(book)

    # -- billing's documents: staged, kept on commit (adapters/memory_billing.py) --------
    def add_invoice(self, invoice: Invoice) -> None:
        self.billing.add_invoice(invoice)

    def change_invoice(self, invoice_id: str, change: InvoiceChange) -> None:
        self.billing.change_invoice(invoice_id, change)

    def add_credit_note(self, note: CreditNote) -> None:
        self.billing.add_credit_note(note)

    def add_deposit(self, deposit: Deposit) -> None:
        self.billing.add_deposit(deposit)

    def invoices(self, query: InvoiceQuery) -> list[Invoice]:
        return self.billing.view().invoices_matching(query)

    def invoice(self, invoice_id: str) -> Invoice | None:
        return self.billing.view().invoice(invoice_id)

    def credit_notes(self, tenant: str | None = None, invoice_id: str | None = None) -> list[CreditNote]:
        return self.billing.view().credit_notes(tenant, invoice_id)

    def credit_note(self, note_id: str) -> CreditNote | None:
        return self.billing.view().credit_note(note_id)

    def deposits(self, tenant: str | None = None) -> list[Deposit]:
        return self.billing.view().deposits(tenant)

    def revoke_key(self, key_id: str, at_s: int) -> ApiKey | None:
        key = self.keys.get(key_id) or self._stored_keys.get(key_id)
        if key is None or key.revoked_s is not None:
            return key
        self.keys[key_id] = replace(key, revoked_s=at_s)
        return self.keys[key_id]

    def _insert(self, drafts: tuple[Draft, ...], version: int) -> list[Booking]:
        d = self._data
        first = d.next_booking
        booked = [Booking(first + k, x.node, x.start_s, x.end_s, x.kind, x.holder) for k, x in enumerate(drafts)]
        try:
            d.overlaps.restore_all(booked)  # all or none, as the database's constraint
        except BookingConflict as refused:  # told as the database tells it: the drafts that clash
            ours = {b.id: x for b, x in zip(booked, drafts, strict=True)}
            raise BookingConflict(
                [(ours.get(getattr(x, "id", -1), x), ours.get(getattr(o, "id", -1), o)) for x, o in refused.conflicts]
            ) from None

        def undo() -> None:
            for b in booked:
                d.overlaps.release(b.id)

        self._undo.append(undo)
        d.next_booking += len(booked)
        for b in booked:
            self._put(d.bookings, "booking", b.id, (b, version), version)
        return booked

    def _set_booking(self, booking: Booking, version: int) -> None:
        """A booking as it now is (an empty interval: released), in the overlap index too."""
        d = self._data
        old = d.bookings[booking.id][0]
        if booking.start_s < booking.end_s:
            d.overlaps.truncate(booking.id, booking.end_s)
        else:
            d.overlaps.release(booking.id)

        def undo() -> None:
            if d.overlaps.get(old.id) is not None:
                d.overlaps.release(old.id)
            d.overlaps.restore(old)

        self._undo.append(undo)
        self._put(d.bookings, "booking", booking.id, (booking, version), version)

    def _put(self, table: dict[Any, Any], name: str, key: object, value: object, version: int) -> None:
        """Write one row, journalling the old one and the change-log entry."""
        missing = object()
        old = table.get(key, missing)
        table[key] = value
        self._data.changed.append((version, name, key))

        def undo() -> None:
            self._data.changed.pop()
            if old is missing:
                del table[key]
            else:
                table[key] = old

        self._undo.append(undo)

    def _mark(self, d: _Data) -> None:
        """Journal the counters and the event log's length as they were at the start."""
        version, next_booking, events = d.version, d.next_booking, len(d.events)

        def undo() -> None:
            d.version, d.next_booking = version, next_booking
            del d.events[events:]

        self._undo.append(undo)


def _dropper(log: list[HealthRecord]) -> Callable[[], None]:
    """Undo of an append to ``log``: drop its last record."""

    def undo() -> None:
        del log[-1]

    return undo


def _delta(d: _Data, version: int) -> Delta:
    """Rows written after ``version`` as they are now: from the change log, so a writer
    catching up reads what changed since, not the whole store (``-1``: everything)."""
    if version < 0:
        return Delta(
            version=d.version,
            bookings=[b for b, _ in d.bookings.values()],
            leases=[lease for lease, _ in d.leases.values()],
            health={n: h for n, (h, _) in d.health.items()},
            tenants=set(d.tenants),
        )
    k = bisect.bisect_right(d.changed, version, key=lambda entry: entry[0])
    touched: dict[str, dict[Any, None]] = {"booking": {}, "lease": {}, "health": {}, "tenant": {}}
    for _, table, key in d.changed[k:]:
        touched[table][key] = None
    return Delta(
        version=d.version,
        bookings=[d.bookings[bid][0] for bid in touched["booking"]],
        leases=[d.leases[lid][0] for lid in touched["lease"]],
        health={n: d.health[n][0] for n in touched["health"]},
        tenants=set(touched["tenant"]),
    )


def _matches(stored: StoredEvent, q: EventQuery) -> bool:
    e = stored.event
    return (
        (q.lease_id is None or e.lease_id == q.lease_id)
        and (q.node is None or e.node == q.node)
        and (q.tenant is None or e.tenant == q.tenant)
        and (q.kind is None or e.kind.startswith(q.kind))
        and (q.since_s is None or e.at_s >= q.since_s)
        and (q.until_s is None or e.at_s < q.until_s)
    )


def _queue_pools(data: _Data) -> list[PoolConfig]:
    return [data.queue_pools[name] for name in sorted(data.queue_pools)]
