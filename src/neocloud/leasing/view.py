"""The ledger's live view: the one place where mutable leasing state lives.

A :class:`LedgerView` holds the fixed topology (the snapshot), and everything that
changes: the ledger of bookings, the lease records, each node's health (one array,
the only copy) and a heap of the times the clock next moves each lease. Decisions
(``plan``, ``lifecycle``, ``healing``) read it and return a :class:`Change`; only
:meth:`LedgerView.apply` (after the store committed the change) and
:meth:`LedgerView.absorb` (rows other writers committed) change it.

:meth:`LedgerView.simulate` applies a change and returns an undo: reads use it to
see the state as of now (holds past their expiry expired, starts reached) without
writing, and a scheduler can place tentatively and take it back.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from neocloud.domain.changes import Change
from neocloud.domain.errors import NotFound
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseState
from neocloud.domain.ledger import Booking, Ledger
from neocloud.placement.snapshot import HEALTH_CODES, HEALTHY_CODE, FleetSnapshot, build_snapshot, health_codes

BoolArray = npt.NDArray[np.bool_]
Undo = Callable[[], None]


def due_time(lease: Lease) -> int | None:
    """When the clock next moves this lease: hold expiry, start or end."""
    if lease.state is LeaseState.HELD:
        return lease.hold_expires_s
    if lease.state is LeaseState.CONFIRMED:
        return lease.start_s
    if lease.state is LeaseState.ACTIVE:
        return lease.end_s
    return None


@dataclass(slots=True)
class _Due:
    """Due times as a heap with lazy deletion: an entry is stale once its lease's due
    time changed. ``entries`` dedupes, so re-pushing after an undo never grows it."""

    heap: list[tuple[int, str]] = field(default_factory=list)
    entries: set[tuple[int, str]] = field(default_factory=set)

    def push(self, due_s: int, lease_id: str) -> None:
        entry = (due_s, lease_id)
        if entry not in self.entries:
            self.entries.add(entry)
            heapq.heappush(self.heap, entry)

    def up_to(self, now_s: int) -> list[tuple[int, str]]:
        """Entries due by ``now_s``, without removing them: a walk of the heap that
        stops below any entry later than ``now_s`` (O(entries due))."""
        out: list[tuple[int, str]] = []
        stack = [0]
        heap = self.heap
        while stack:
            k = stack.pop()
            if k < len(heap) and heap[k][0] <= now_s:
                out.append(heap[k])
                stack += (2 * k + 1, 2 * k + 2)
        return sorted(out)

    def prune(self, is_current: Callable[[tuple[int, str]], bool]) -> None:
        """Drop stale entries from the top, so the top is a real next due time."""
        while self.heap and not is_current(self.heap[0]):
            self.entries.discard(heapq.heappop(self.heap))


class LedgerView:
    """Topology, bookings, leases, node health and due times: the live state."""

    def __init__(self, snap: FleetSnapshot, ledger: Ledger, health: npt.NDArray[np.int8]) -> None:
        if ledger.node_ids != snap.node_ids:
            raise ValueError("the ledger must be built on the snapshot's node order")
        if health.shape != (len(snap.node_ids),):
            raise ValueError("health must give one code per node of the snapshot")
        self.snap = snap
        self.ledger = ledger
        self.health = health
        self.leases: dict[str, Lease] = {}
        self._due = _Due()

    @classmethod
    def of_fleet(cls, fleet: Fleet) -> LedgerView:
        """An empty ledger over ``fleet``, with its nodes' health as they are now."""
        snap = build_snapshot(fleet)
        return cls(snap, Ledger(snap.node_ids), health_codes(fleet, snap))

    # -- reads ---------------------------------------------------------------
    def node(self, node: str) -> int:
        """The node's index; :class:`NotFound` if the fleet has no such node."""
        idx = self.ledger.node_index.get(node)
        if idx is None:
            raise NotFound(f"no node {node!r}")
        return idx

    def lease(self, lease_id: str) -> Lease:
        """The lease, or :class:`NotFound` (who may see it is services.visibility's rule)."""
        lease = self.leases.get(lease_id)
        if lease is None:
            raise NotFound(f"no lease {lease_id!r}")
        return lease

    def health_of(self, node: str) -> Health:
        return HEALTH_CODES[int(self.health[self.node(node)])]

    def healthy(self) -> BoolArray:
        """Per node: healthy now."""
        mask: BoolArray = self.health == HEALTHY_CODE
        return mask

    def free(self, start_s: int, end_s: int) -> BoolArray:
        """Per node: nothing booked over ``[start_s, end_s)``."""
        return ~self.ledger.unavailable(start_s, end_s)

    def eligible(self, start_s: int, end_s: int) -> BoolArray:
        """Per node: free over the window and healthy, where a GPU count may be placed."""
        return self.free(start_s, end_s) & self.healthy()

    def node_gpus(self, node: str) -> int:
        return int(self.snap.node_gpus[self.node(node)])

    def due(self, now_s: int) -> list[Lease]:
        """Leases the clock moves by ``now_s`` (hold expired, start or end reached),
        in due order; reading changes nothing."""
        out: list[Lease] = []
        seen: set[str] = set()
        for due_s, lease_id in self._due.up_to(now_s):
            lease = self.leases.get(lease_id)
            if lease is None or lease_id in seen or due_time(lease) != due_s:
                continue
            seen.add(lease_id)
            out.append(lease)
        return out

    def next_due_s(self) -> int | None:
        """When the clock next moves some lease (for an event loop), or ``None``."""
        self._due.prune(self._current)
        return self._due.heap[0][0] if self._due.heap else None

    # -- changes -------------------------------------------------------------
    def apply(self, change: Change, booked: list[Booking] | None = None) -> list[Booking]:
        """Apply a change (after the database committed it); the new bookings.

        ``booked`` are the change's drafts as stored, with the ids the store gave
        them; without it the ledger numbers them itself (in-memory use).
        """
        for booking_id, end_s in change.truncate:
            self.ledger.truncate(booking_id, end_s)
        for booking_id in change.release:
            self.ledger.release(booking_id)
        if booked is None:
            booked = self.ledger.book(change.book)
        else:
            self.ledger.restore_all(booked)
        for lease in change.leases:
            self._store_lease(lease)
        for h in change.health:
            self.health[self.node(h.node)] = HEALTH_CODES.index(h.to_state)
        self._due.prune(self._current)
        return booked

    def simulate(self, change: Change) -> Undo:
        """Apply ``change`` and return the function that takes it back exactly."""
        ledger = self.ledger
        before = {bid: ledger.get(bid) for bid, _ in change.truncate}
        before.update({bid: ledger.get(bid) for bid in change.release})
        old_leases = {lease.id: self.leases.get(lease.id) for lease in change.leases}
        old_health = {h.node: int(self.health[self.node(h.node)]) for h in change.health}
        mark = ledger.mark()

        def restore_bookings(booked: list[Booking]) -> None:
            for b in booked:
                ledger.release(b.id)
            for bid, old in before.items():
                if ledger.get(bid) is not None:
                    ledger.release(bid)
                if old is not None:
                    ledger.restore(old)
            ledger.reset(mark)  # booking ids and counters as if nothing had happened

        try:
            booked = self.apply(change)
        except BaseException:  # a refused what-if (a clash) leaves the view as it was
            restore_bookings([])
            raise

        def undo() -> None:
            restore_bookings(booked)
            for lease_id, old_lease in old_leases.items():
                if old_lease is None:
                    self.leases.pop(lease_id, None)
                else:
                    self._store_lease(old_lease)
            for node, code in old_health.items():
                self.health[self.node(node)] = code

        return undo

    def absorb(self, bookings: Iterable[Booking], leases: Iterable[Lease], health: dict[str, Health]) -> None:
        """Take in what other writers stored: bookings as they now are (an empty
        interval means released), lease records, node health."""
        bookings = list(bookings)
        for booking in bookings:  # first drop the old versions, then add the new ones
            if self.ledger.get(booking.id) is not None:
                self.ledger.release(booking.id)
        for booking in bookings:
            if booking.start_s < booking.end_s:
                self.ledger.restore(booking)
        for lease in leases:
            self._store_lease(lease)
        for node, state in health.items():
            self.health[self.node(node)] = HEALTH_CODES.index(state)

    def retire(self, now_s: int) -> None:
        """Bookings that ended by ``now_s`` leave the live arrays (amortised)."""
        self.ledger.retire(now_s)

    # -- internals -----------------------------------------------------------
    def _store_lease(self, lease: Lease) -> None:
        self.leases[lease.id] = lease
        due = due_time(lease)
        if due is not None:
            self._due.push(due, lease.id)

    def _current(self, entry: tuple[int, str]) -> bool:
        lease = self.leases.get(entry[1])
        return lease is not None and due_time(lease) == entry[0]
