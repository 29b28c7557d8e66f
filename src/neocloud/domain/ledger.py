"""The capacity ledger: who holds each node, from when to when.

Every node, over time, is held by at most one holder: a tenant lease, a lease's
spare, an internal pool, or a maintenance window; time nobody holds is free.
Intervals are half-open ``[start_s, end_s)`` in integer seconds since the Unix
epoch (UTC). The invariant, checked on every change and enforced again by the
database: **no two bookings of one node overlap.**

Data-oriented: bookings live in parallel NumPy arrays (node index, start, end) with
room to grow, so "which nodes are taken at any time in this window" is one
vectorised pass, and a per-node sorted list answers "what overlaps this interval
on this node" by bisection. Changes are all-or-nothing: :meth:`Ledger.book`
checks every draft against the ledger and against each other before inserting any.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from neocloud.domain.errors import DomainError


class HolderKind(StrEnum):
    LEASE = "lease"
    SPARE = "spare"
    POOL = "pool"
    MAINTENANCE = "maintenance"


@dataclass(frozen=True, slots=True)
class Booking:
    """One node held by one holder over ``[start_s, end_s)``."""

    id: int
    node: str
    start_s: int
    end_s: int
    kind: HolderKind
    holder: str


@dataclass(frozen=True, slots=True)
class Draft:
    """A booking not yet in the ledger."""

    node: str
    start_s: int
    end_s: int
    kind: HolderKind
    holder: str


class BookingConflict(DomainError):
    """Some drafts overlap existing bookings (or each other); nothing was booked."""

    def __init__(self, conflicts: list[tuple[Draft, Booking | Draft]]) -> None:
        self.conflicts = conflicts
        head = conflicts[0]
        other = head[1]
        super().__init__(
            f"{len(conflicts)} node interval(s) already taken; first: node {head[0].node!r} "
            f"[{head[0].start_s}, {head[0].end_s}) overlaps {other.kind.value} {other.holder!r} "
            f"[{other.start_s}, {other.end_s})"
        )


class UnknownNode(DomainError):
    """A booking names a node that the fleet does not have."""


class Ledger:
    """Non-overlapping bookings per node, with vectorised window queries."""

    def __init__(self, node_ids: Sequence[str]) -> None:
        self.node_ids = tuple(node_ids)
        self.node_index = {n: i for i, n in enumerate(self.node_ids)}
        self._per_node: list[list[tuple[int, int, int]]] = [[] for _ in self.node_ids]
        self._bookings: dict[int, Booking] = {}
        self._slot: dict[int, int] = {}
        self._node = np.zeros(1024, np.int32)
        self._start = np.zeros(1024, np.int64)
        self._end = np.zeros(1024, np.int64)
        self._used = 0
        self._next_id = 1

    # -- queries ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._bookings)

    def get(self, booking_id: int) -> Booking | None:
        return self._bookings.get(booking_id)

    def bookings(self) -> list[Booking]:
        """All bookings, by id."""
        return [self._bookings[k] for k in sorted(self._bookings)]

    def of_holder(self, holder: str) -> list[Booking]:
        return [b for b in self.bookings() if b.holder == holder]

    def overlapping(self, node: str, start_s: int, end_s: int) -> list[Booking]:
        """Bookings of ``node`` that overlap ``[start_s, end_s)``."""
        entries = self._per_node[self._index(node)]
        k = bisect.bisect_left(entries, (start_s, 0, 0))
        k = max(0, k - 1)
        out = []
        for s, e, bid in entries[k:]:
            if s >= end_s:
                break
            if e > start_s:
                out.append(self._bookings[bid])
        return out

    def unavailable(self, start_s: int, end_s: int) -> npt.NDArray[np.bool_]:
        """Per node (fleet order): True if any booking overlaps ``[start_s, end_s)``."""
        n = self._used
        hit = (self._start[:n] < end_s) & (self._end[:n] > start_s)
        mask = np.zeros(len(self.node_ids), np.bool_)
        mask[self._node[:n][hit]] = True
        return mask

    def window(
        self, start_s: int, end_s: int
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Bookings overlapping ``[start_s, end_s)``: node index, start and end clipped to the window."""
        n = self._used
        hit = (self._start[:n] < end_s) & (self._end[:n] > start_s)
        return (
            self._node[:n][hit],
            np.maximum(self._start[:n][hit], start_s),
            np.minimum(self._end[:n][hit], end_s),
        )

    def busy_at(self, t_s: int) -> npt.NDArray[np.bool_]:
        """Per node: True if booked at instant ``t_s``."""
        return self.unavailable(t_s, t_s + 1)

    def change_times(self, after_s: int, limit: int = 1000) -> list[int]:
        """Distinct booking end times after ``after_s``, ascending (candidate later starts)."""
        n = self._used
        ends = self._end[:n]
        later = np.unique(ends[(ends > after_s) & (ends > self._start[:n])])
        return [int(t) for t in later[:limit]]

    # -- changes ----------------------------------------------------------
    def book(self, drafts: Iterable[Draft]) -> list[Booking]:
        """Insert all drafts or none; raise :class:`BookingConflict` listing every clash."""
        drafts = list(drafts)
        self._check(drafts)
        return [self._insert(d) for d in drafts]

    def restore(self, booking: Booking) -> None:
        """Insert a booking with its id (loading from storage); raises on overlap."""
        draft = Draft(booking.node, booking.start_s, booking.end_s, booking.kind, booking.holder)
        self._check([draft])
        self._insert(draft, booking.id)

    def release(self, booking_id: int) -> Booking:
        """Remove a booking entirely."""
        booking = self._bookings.pop(booking_id)
        self._unindex(booking)
        slot = self._slot.pop(booking_id)
        self._end[slot] = self._start[slot]  # an empty interval matches no window
        return booking

    def truncate(self, booking_id: int, new_end_s: int) -> Booking:
        """End a booking earlier (``start < new_end <= end``); a release if it never started."""
        booking = self._bookings[booking_id]
        if new_end_s <= booking.start_s:
            return self.release(booking_id)
        if new_end_s > booking.end_s:
            raise DomainError(f"truncate cannot extend booking {booking_id}; use extend")
        self._unindex(booking)
        updated = Booking(booking.id, booking.node, booking.start_s, new_end_s, booking.kind, booking.holder)
        self._bookings[booking_id] = updated
        self._index_booking(updated)
        self._end[self._slot[booking_id]] = new_end_s
        return updated

    # -- internals --------------------------------------------------------
    def _index(self, node: str) -> int:
        idx = self.node_index.get(node)
        if idx is None:
            raise UnknownNode(f"unknown node {node!r}")
        return idx

    def _check(self, drafts: list[Draft]) -> None:
        conflicts: list[tuple[Draft, Booking | Draft]] = []
        seen: dict[str, list[Draft]] = {}
        for d in drafts:
            if d.start_s >= d.end_s:
                raise DomainError(f"booking of node {d.node!r}: start {d.start_s} is not before end {d.end_s}")
            clash = self.overlapping(d.node, d.start_s, d.end_s)
            if clash:
                conflicts.append((d, clash[0]))
                continue
            mine = seen.setdefault(d.node, [])
            other = next((o for o in mine if o.start_s < d.end_s and d.start_s < o.end_s), None)
            if other is not None:
                conflicts.append((d, other))
            mine.append(d)
        if conflicts:
            raise BookingConflict(conflicts)

    def _insert(self, d: Draft, booking_id: int | None = None) -> Booking:
        bid = booking_id if booking_id is not None else self._next_id
        self._next_id = max(self._next_id, bid + 1)
        booking = Booking(bid, d.node, d.start_s, d.end_s, d.kind, d.holder)
        self._bookings[bid] = booking
        self._index_booking(booking)
        if self._used == self._node.size:
            self._grow()
        slot = self._used
        self._node[slot] = self.node_index[d.node]
        self._start[slot] = d.start_s
        self._end[slot] = d.end_s
        self._slot[bid] = slot
        self._used += 1
        return booking

    def _index_booking(self, b: Booking) -> None:
        bisect.insort(self._per_node[self.node_index[b.node]], (b.start_s, b.end_s, b.id))

    def _unindex(self, b: Booking) -> None:
        entries = self._per_node[self.node_index[b.node]]
        entries.remove((b.start_s, b.end_s, b.id))

    def _grow(self) -> None:
        size = self._node.size * 2
        self._node = np.resize(self._node, size)
        self._start = np.resize(self._start, size)
        self._end = np.resize(self._end, size)
