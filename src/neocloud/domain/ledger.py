"""The capacity ledger: who holds each node, from when to when.

Every node, over time, is held by at most one holder: a tenant lease, a lease's
spare, an internal pool, or a maintenance window; time nobody holds is free.
Intervals are half-open ``[start_s, end_s)`` in integer seconds since the Unix
epoch (UTC). The invariant, checked on every change and enforced again by the
database: **no two bookings of one node overlap.**

Data-oriented: bookings live in parallel NumPy arrays (node index, start, end, id),
so "which nodes are taken at any time in this window" is one vectorised pass, and a
per-node sorted list answers "what overlaps this interval on this node" by
bisection. Changes are all-or-nothing: :meth:`Ledger.book` checks every draft
against the ledger and against each other before inserting any.

**Every operation costs what the change costs, not what history costs.** A holder
index answers "this lease's bookings" in O(its bookings); a released slot is
reused; and bookings that ended before the time the ledger was told (``retire``)
move from the *live* arrays to a *past* archive, so a window from that time on
scans only what is live. Windows that reach into the past scan both.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from neocloud.domain.errors import DomainError, Instant


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

    def __init__(self, conflicts: Sequence[tuple[Draft | Booking, Booking | Draft]]) -> None:
        self.conflicts = list(conflicts)
        head, other = conflicts[0]
        # what is in the way (its holder and its dates) may be another tenant's: private
        super().__init__(
            "{count} node interval(s) already taken; first: node {node} [{start}, {end})",
            private="overlaps {_holder} [{_other_start}, {_other_end})",
            count=len(conflicts),
            node=head.node,
            start=Instant(head.start_s),
            end=Instant(head.end_s),
            _other_start=Instant(other.start_s),
            _other_end=Instant(other.end_s),
            _holder=f"{other.kind.value} {other.holder}",
        )


class UnknownNode(DomainError):
    """A booking names a node that the fleet does not have."""


FOREVER_S = 2**62  # "no end": later than any booking
_EMPTY_START = np.iinfo(np.int64).max  # a free slot matches no window
_EMPTY_END = np.iinfo(np.int64).min


class _Slots:
    """Bookings as parallel arrays with a free list: one table of the ledger."""

    def __init__(self, size: int = 1024) -> None:
        self.node = np.zeros(size, np.int32)
        self.start = np.full(size, _EMPTY_START, np.int64)
        self.end = np.full(size, _EMPTY_END, np.int64)
        self.ids = np.zeros(size, np.int64)
        self.slot: dict[int, int] = {}
        self.free: list[int] = []
        self.used = 0  # high-water mark: slots at or above it were never used

    def __len__(self) -> int:
        return len(self.slot)

    def add(self, booking_id: int, node: int, start_s: int, end_s: int) -> None:
        if self.free:
            k = self.free.pop()
        else:
            if self.used == self.node.size:
                self._grow()
            k = self.used
            self.used += 1
        self.node[k], self.start[k], self.end[k], self.ids[k] = node, start_s, end_s, booking_id
        self.slot[booking_id] = k

    def extend(self, other: _Slots, rows: npt.NDArray[np.intp]) -> None:
        """Append ``other``'s rows (slot numbers) in one vectorised copy."""
        while self.used + rows.size > self.node.size:
            self._grow()
        k = np.arange(self.used, self.used + rows.size)
        self.node[k], self.start[k], self.end[k], self.ids[k] = (
            other.node[rows],
            other.start[rows],
            other.end[rows],
            other.ids[rows],
        )
        self.slot.update(zip(other.ids[rows].tolist(), k.tolist(), strict=True))
        self.used += rows.size

    def remove(self, booking_id: int) -> None:
        k = self.slot.pop(booking_id)
        self.start[k], self.end[k] = _EMPTY_START, _EMPTY_END
        self.free.append(k)

    def set_end(self, booking_id: int, end_s: int) -> None:
        self.end[self.slot[booking_id]] = end_s

    def hits(self, start_s: int, end_s: int) -> npt.NDArray[np.bool_]:
        n = self.used
        hit: npt.NDArray[np.bool_] = (self.start[:n] < end_s) & (self.end[:n] > start_s)
        return hit

    def _grow(self) -> None:
        size = self.node.size * 2
        self.node = np.resize(self.node, size)
        self.start = np.concatenate([self.start, np.full(size - self.start.size, _EMPTY_START, np.int64)])
        self.end = np.concatenate([self.end, np.full(size - self.end.size, _EMPTY_END, np.int64)])
        self.ids = np.resize(self.ids, size)


class Ledger:
    """Non-overlapping bookings per node, with vectorised window queries."""

    def __init__(self, node_ids: Sequence[str]) -> None:
        self.node_ids = tuple(node_ids)
        self.node_index = {n: i for i, n in enumerate(self.node_ids)}
        self._per_node: list[list[tuple[int, int, int]]] = [[] for _ in self.node_ids]
        self._bookings: dict[int, Booking] = {}
        self._by_holder: dict[str, dict[int, None]] = {}  # holder -> its booking ids (an ordered set)
        self._live = _Slots()
        self._past = _Slots(64)
        self._retired_before = -FOREVER_S  # every booking ending by then is in the past archive
        self._changes_since_retire = 0
        self._next_id = 1

    # -- queries ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._bookings)

    def get(self, booking_id: int) -> Booking | None:
        return self._bookings.get(booking_id)

    def bookings(self) -> list[Booking]:
        """All bookings, by id (the whole history: for exports and tests, not hot paths)."""
        return [self._bookings[k] for k in sorted(self._bookings)]

    def of_holder(self, holder: str) -> list[Booking]:
        """The holder's bookings, by id: O(its bookings)."""
        ids = self._by_holder.get(holder)
        return [self._bookings[k] for k in sorted(ids)] if ids else []

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

    def in_window(self, start_s: int, end_s: int) -> list[Booking]:
        """Every booking overlapping ``[start_s, end_s)``, by id."""
        ids = np.concatenate([t.ids[: t.used][t.hits(start_s, end_s)] for t in self._tables(start_s)])
        return [self._bookings[int(k)] for k in np.sort(ids)]

    def unavailable(self, start_s: int, end_s: int) -> npt.NDArray[np.bool_]:
        """Per node (fleet order): True if any booking overlaps ``[start_s, end_s)``."""
        mask = np.zeros(len(self.node_ids), np.bool_)
        for t in self._tables(start_s):
            mask[t.node[: t.used][t.hits(start_s, end_s)]] = True
        return mask

    def window(
        self, start_s: int, end_s: int
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Bookings overlapping ``[start_s, end_s)``: node index, start and end clipped to the window."""
        parts = []
        for t in self._tables(start_s):
            hit = t.hits(start_s, end_s)
            n = t.used
            parts.append((t.node[:n][hit], np.maximum(t.start[:n][hit], start_s), np.minimum(t.end[:n][hit], end_s)))
        if len(parts) == 1:
            return parts[0]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def busy_at(self, t_s: int) -> npt.NDArray[np.bool_]:
        """Per node: True if booked at instant ``t_s``."""
        return self.unavailable(t_s, t_s + 1)

    def change_times(self, after_s: int, limit: int = 1000) -> list[int]:
        """Distinct booking end times after ``after_s``, ascending (candidate later starts)."""
        ends = np.concatenate([t.end[: t.used] for t in self._tables(after_s)])
        later = np.unique(ends[ends > after_s])
        return [int(t) for t in later[:limit]]

    # -- changes ----------------------------------------------------------
    def book(self, drafts: Iterable[Draft]) -> list[Booking]:
        """Insert all drafts or none; raise :class:`BookingConflict` listing every clash."""
        drafts = list(drafts)
        self._check(drafts)
        return [self._insert(d) for d in drafts]

    def restore(self, booking: Booking) -> None:
        """Insert a booking with its id (loading from storage); raises on overlap."""
        self.restore_all([booking])

    def restore_all(self, bookings: Sequence[Booking]) -> None:
        """Insert bookings with their ids, all or none: checked against the ledger and
        each other first, as :meth:`book` checks drafts."""
        self._check(bookings)
        for b in bookings:
            self._insert(b, b.id)

    def release(self, booking_id: int) -> Booking:
        """Remove a booking entirely."""
        booking = self._bookings.pop(booking_id)
        self._unindex(booking)
        holders = self._by_holder[booking.holder]
        del holders[booking_id]
        if not holders:
            del self._by_holder[booking.holder]
        self._table_of(booking_id).remove(booking_id)
        self._changes_since_retire += 1
        return booking

    def truncate(self, booking_id: int, new_end_s: int) -> Booking:
        """End a booking earlier (``start < new_end <= end``); a release if it never started."""
        booking = self._bookings[booking_id]
        if new_end_s <= booking.start_s:
            return self.release(booking_id)
        if new_end_s > booking.end_s:
            raise DomainError("truncate cannot extend booking {booking}; use extend", booking=booking_id)
        self._unindex(booking)
        updated = Booking(booking.id, booking.node, booking.start_s, new_end_s, booking.kind, booking.holder)
        self._bookings[booking_id] = updated
        self._index_booking(updated)
        self._table_of(booking_id).set_end(booking_id, new_end_s)
        return updated

    def mark(self) -> tuple[int, int]:
        """The id counter and the change counter, for :meth:`reset` after a what-if."""
        return self._next_id, self._changes_since_retire

    def reset(self, mark: tuple[int, int]) -> None:
        """Counters back to a :meth:`mark` (the bookings made since must be gone)."""
        self._next_id, self._changes_since_retire = mark

    def retire(self, before_s: int) -> None:
        """Move bookings that end by ``before_s`` to the past archive, when worth it.

        Windows from ``before_s`` on then scan only live bookings. The move scans the
        live table, so it runs only once enough changed since the last one (half the
        live table): amortised O(1) per change, whatever the history.
        """
        if before_s <= self._retired_before:
            return
        if self._changes_since_retire < max(256, len(self._live) // 2):
            return
        live = self._live
        n = live.used
        occupied = live.start[:n] != _EMPTY_START
        done = np.flatnonzero(occupied & (live.end[:n] <= before_s))
        keep = np.flatnonzero(occupied & (live.end[:n] > before_s))
        self._past.extend(live, done)
        fresh = _Slots(max(1024, 2 * keep.size))
        fresh.extend(live, keep)
        self._live = fresh
        self._retired_before = before_s
        self._changes_since_retire = 0

    # -- internals --------------------------------------------------------
    def _tables(self, start_s: int) -> tuple[_Slots, ...]:
        """The tables a window from ``start_s`` must scan: the past archive only if it
        reaches before the retirement time."""
        return (self._live,) if start_s >= self._retired_before else (self._live, self._past)

    def _table_of(self, booking_id: int) -> _Slots:
        return self._live if booking_id in self._live.slot else self._past

    def _index(self, node: str) -> int:
        idx = self.node_index.get(node)
        if idx is None:
            raise UnknownNode(f"unknown node {node!r}")
        return idx

    def _check(self, drafts: Sequence[Draft | Booking]) -> None:
        conflicts: list[tuple[Draft | Booking, Booking | Draft]] = []
        seen: dict[str, list[Draft | Booking]] = {}
        for d in drafts:
            if d.start_s >= d.end_s:
                raise DomainError(
                    "booking of node {node}: start {start} is not before end {end}",
                    node=d.node,
                    start=Instant(d.start_s),
                    end=Instant(d.end_s),
                )
            clash = self.overlapping(d.node, d.start_s, d.end_s)
            if clash:
                conflicts.append((d, clash[0]))
                continue
            mine = seen.setdefault(d.node, [])
            for o in mine:
                if o.start_s < d.end_s and d.start_s < o.end_s:
                    conflicts.append((d, o))
                    break
            mine.append(d)
        if conflicts:
            raise BookingConflict(conflicts)

    def _insert(self, d: Draft | Booking, booking_id: int | None = None) -> Booking:
        bid = booking_id if booking_id is not None else self._next_id
        self._next_id = max(self._next_id, bid + 1)
        booking = Booking(bid, d.node, d.start_s, d.end_s, d.kind, d.holder)
        self._bookings[bid] = booking
        self._index_booking(booking)
        self._by_holder.setdefault(d.holder, {})[bid] = None
        table = self._past if d.end_s <= self._retired_before else self._live
        table.add(bid, self.node_index[d.node], d.start_s, d.end_s)
        self._changes_since_retire += 1
        return booking

    def _index_booking(self, b: Booking) -> None:
        bisect.insort(self._per_node[self.node_index[b.node]], (b.start_s, b.end_s, b.id))

    def _unindex(self, b: Booking) -> None:
        entries = self._per_node[self.node_index[b.node]]
        k = bisect.bisect_left(entries, (b.start_s, b.end_s, b.id))
        del entries[k]
