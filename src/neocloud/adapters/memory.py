"""An in-memory ledger store: the fake for service tests and the simulator's store.

Same contract as the database stores (versioned rows, one writer at a time,
all-or-nothing transactions), kept in dictionaries behind a lock. API keys and the
results kept for ``Idempotency-Key`` are staged by the writer and kept only when its
transaction commits, with the ledger change.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from neocloud.domain.access import ApiKey
from neocloud.domain.changes import Change, Delta, EventQuery, IdempotentResult, StoredEvent, StoreError
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import Booking, BookingConflict, Draft


@dataclass(slots=True)
class _Data:
    version: int = 0
    next_booking: int = 1
    bookings: dict[int, tuple[Booking, int]] = field(default_factory=dict)
    leases: dict[str, tuple[Lease, int]] = field(default_factory=dict)
    health: dict[str, tuple[Health, int]] = field(default_factory=dict)
    tenants: dict[str, int] = field(default_factory=dict)
    events: list[StoredEvent] = field(default_factory=list)
    health_log: list[tuple[str, int, Health]] = field(default_factory=list)
    by_node: dict[str, list[int]] = field(default_factory=dict)


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._fleet: Fleet | None = None
        self._data = _Data()
        self._schema = False
        self._keys: dict[str, ApiKey] = {}
        self._idempotent: dict[tuple[str, str], IdempotentResult] = {}

    def create_schema(self) -> None:
        self._schema = True

    def load_fleet(self, fleet: Fleet, now_s: int, actor: str) -> None:
        with self._lock:
            if self._fleet is not None:
                raise StoreError(f"the store already holds fleet {self._fleet.name!r}")
            self._fleet = copy.deepcopy(fleet)
            for node in fleet.nodes:
                self._data.health[node.id] = (node.health, 0)
                if node.health is not Health.HEALTHY:
                    self._data.health_log.append((node.id, now_s, node.health))

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
        with self._lock:
            if self._fleet is None:
                raise StoreError("no fleet loaded: run neocloud init --fleet FILE")
            staged = copy.deepcopy(self._data)
            writer = _Writer(staged, self._keys, self._idempotent)
            yield writer
            self._data = staged
            self._keys.update(writer.keys)
            self._idempotent.update(writer.results)

    def events(self, query: EventQuery) -> list[StoredEvent]:
        with self._lock:
            out = [e for e in self._data.events if e.seq > query.after_seq and _matches(e, query)]
            return out[: query.limit]

    def health_log(self, nodes: list[str]) -> Iterator[tuple[str, int, Health]]:
        wanted = set(nodes)
        with self._lock:
            records = [r for r in self._data.health_log if r[0] in wanted]
        return iter(sorted(records, key=lambda r: r[1]))

    # -- keys (written through the writer) ---------------------------------------------
    def get_key(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def list_keys(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda k: (k.created_s, k.id))


class _Writer:
    """Writes ``data`` (a staged copy); keys and kept results go to ``keys`` and
    ``results``, laid over the committed ``stored_keys`` and ``stored_results``."""

    def __init__(
        self,
        data: _Data,
        stored_keys: dict[str, ApiKey],
        stored_results: dict[tuple[str, str], IdempotentResult],
    ) -> None:
        self._data = data
        self.version = data.version
        self._stored_keys = stored_keys
        self._stored_results = stored_results
        self.keys: dict[str, ApiKey] = {}
        self.results: dict[tuple[str, str], IdempotentResult] = {}

    def delta_since(self, version: int) -> Delta:
        return _delta(self._data, version)

    def write(self, change: Change) -> list[Booking]:
        d = self._data
        v = d.version + 1
        for booking_id, end_s in change.truncate:
            b, _ = d.bookings[booking_id]
            d.bookings[booking_id] = (Booking(b.id, b.node, b.start_s, end_s, b.kind, b.holder), v)
        for booking_id in change.release:
            b, _ = d.bookings[booking_id]
            d.bookings[booking_id] = (Booking(b.id, b.node, b.start_s, b.start_s, b.kind, b.holder), v)
        booked = [self._insert(draft, v) for draft in change.book]
        for lease in change.leases:
            d.leases[lease.id] = (lease, v)
        for h in change.health:
            d.health[h.node] = (h.to_state, v)
            d.health_log.append((h.node, h.at_s, h.to_state))
        for event in change.events:
            d.events.append(StoredEvent(len(d.events) + 1, event))
        d.version = v
        self.version = v
        return booked

    def add_tenant(self, name: str, now_s: int, actor: str) -> None:
        d = self._data
        d.version += 1
        d.tenants[name] = d.version
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

    def revoke_key(self, key_id: str, at_s: int) -> ApiKey | None:
        key = self.keys.get(key_id) or self._stored_keys.get(key_id)
        if key is None or key.revoked_s is not None:
            return key
        self.keys[key_id] = replace(key, revoked_s=at_s)
        return self.keys[key_id]

    def _insert(self, draft: Draft, version: int) -> Booking:
        d = self._data
        mine = d.by_node.setdefault(draft.node, [])
        for booking_id in mine:  # the overlap check a database constraint would make
            b = d.bookings[booking_id][0]
            if b.start_s < draft.end_s and draft.start_s < b.end_s and b.start_s < b.end_s:
                raise BookingConflict([(draft, b)])
        booking = Booking(d.next_booking, draft.node, draft.start_s, draft.end_s, draft.kind, draft.holder)
        d.next_booking += 1
        d.bookings[booking.id] = (booking, version)
        mine.append(booking.id)
        return booking


def _delta(d: _Data, version: int) -> Delta:
    return Delta(
        version=d.version,
        bookings=[b for b, v in d.bookings.values() if v > version],
        leases=[lease for lease, v in d.leases.values() if v > version],
        health={n: h for n, (h, v) in d.health.items() if v > version},
        tenants={t for t, v in d.tenants.items() if v > version},
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
