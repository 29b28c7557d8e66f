"""Metering: what a lease was contracted for and what it was delivered, per period, to
the second.

For one lease and one :class:`~neocloud.domain.billing.Period`:

- **contracted** GPU-seconds: the contract's segments (steps, extend, shrink and
  termination edit them) clipped to the period, once the lease was confirmed (a hold,
  or a lease cancelled or expired before its start, contracts nothing);
- **delivered-healthy** GPU-seconds: at each instant, the GPUs of the nodes booked to
  the lease (its spares are not the contract) that were healthy then, never more than
  the contract at that instant. A swapped-in spare or replacement is a booking from the
  swap, so it delivers from the swap; a failed node left in the lease (no replacement)
  is missing from the failure to its repair or swap. Health comes from the node health
  log read once, by :func:`neocloud.leasing.delivered.down_spans` (the same reading the
  lease page's delivered series uses): a degraded node delivers nothing, as only
  healthy nodes count as deliverable capacity (domain/health.py);
- **excluded** GPU-seconds: what the contract called for inside the maintenance
  windows it excludes (announced windows: the SLA does not count them);
- **shortfall** GPU-seconds: outside those windows, contracted minus delivered, with
  the evidence: which node was missing which GPUs over which interval, and why (its
  health state; ``unreplaced`` when a booked node left without a replacement; node
  ``""`` and ``unbooked`` when the contract called for GPUs no node was booked for).
  The evidence sums to the shortfall exactly.

One sweep over the lease's bookings, the health records of their nodes, the contract
segments and the windows, in time order: linear in those records (plus a sort), never
a loop per second.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from neocloud.domain.billing import Evidence, Period
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseState, Tier
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.leasing.delivered import down_spans

#: The cause of evidence for GPUs a booked node stopped delivering when its booking
#: ended before the contract did, with no booking replacing it.
UNREPLACED = "unreplaced"
#: The cause of evidence for contracted GPUs that no node was ever booked for.
UNBOOKED = "unbooked"
#: States of a lease whose contract counts: it was confirmed (a hold commits nothing;
#: a lease cancelled or expired before it started was never delivered or owed).
CONTRACTED_STATES = frozenset({LeaseState.CONFIRMED, LeaseState.ACTIVE, LeaseState.ENDED, LeaseState.TERMINATED})


@dataclass(frozen=True, slots=True)
class LeaseHistory:
    """Everything metering reads about one lease, as values.

    ``bookings``: every booking the lease ever held, truncated ones included (a booking
    of another holder is ignored; a released one is empty and counts nothing);
    ``node_gpus``: the GPUs of each booked node; ``health_log``: ``(node, at_s, state)``
    records of those nodes (any order: they are sorted by time, ties kept in order);
    ``windows``: maintenance windows ``(start_s, end_s)`` the contract excludes from
    the SLA (they may overlap)."""

    lease: Lease
    bookings: tuple[Booking, ...]
    node_gpus: Mapping[str, int]
    health_log: tuple[tuple[str, int, Health], ...] = ()
    windows: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Usage:
    """One lease's metered period (GPU-seconds, exact integers; see the module docstring)."""

    lease_id: str
    tenant: str
    tier: Tier
    period: Period
    contracted_gpu_s: int
    delivered_gpu_s: int
    excluded_gpu_s: int
    shortfall_gpu_s: int
    missing: tuple[Evidence, ...] = ()
    until_s: int | None = None  # metered to this instant (the period so far); None: the whole period

    @property
    def end_s(self) -> int:
        """Where the metered span ends: the period's end, or ``until_s`` for the period so far."""
        return self.period.end_s if self.until_s is None else self.until_s

    @property
    def counted_gpu_s(self) -> int:
        """What the SLA counts: contracted outside the excluded windows."""
        return self.contracted_gpu_s - self.excluded_gpu_s

    @property
    def available_gpu_s(self) -> int:
        """Delivered outside the excluded windows (counted minus the shortfall)."""
        return self.counted_gpu_s - self.shortfall_gpu_s

    @property
    def availability(self) -> float | None:
        """Delivered / (contracted - excluded), a share for display (None when the SLA
        counts nothing this period). Credits compare the exact integers."""
        counted = self.counted_gpu_s
        return self.available_gpu_s / counted if counted else None


def meter(history: LeaseHistory, period: Period, until_s: int | None = None) -> Usage:
    """The usage of ``history.lease`` in ``period`` (see the module docstring); with
    ``until_s``, of the period so far: ``[period.start_s, until_s)`` (an SLA breach
    building up before the invoice shows it)."""
    lease = history.lease
    end_s = period.end_s if until_s is None else max(period.start_s, min(until_s, period.end_s))
    sweep = _Sweep(period.start_s, end_s)
    for t, kind, node, gpus, cause in _events(history):
        if t >= end_s:
            break
        sweep.advance(t)
        sweep.apply(kind, node, gpus, cause)
    sweep.advance(end_s)
    sweep.close()
    return Usage(
        lease.id,
        lease.tenant,
        lease.request.tier,
        period,
        sweep.contracted,
        sweep.delivered,
        sweep.excluded,
        sweep.shortfall,
        tuple(sweep.evidence),
        None if end_s == period.end_s else end_s,
    )


def meter_all(histories: Sequence[LeaseHistory], period: Period) -> list[Usage]:
    """:func:`meter` for each lease, in order."""
    return [meter(h, period) for h in histories]


# -- the sweep ------------------------------------------------------------------------
# Event kinds, in the order they apply at one instant: a booking ends before another
# starts (a swap), a down span ends before the next begins (failed -> maintenance).
_BOOK_END, _DOWN_END, _DOWN_START, _BOOK_START, _CONTRACT, _WINDOW = range(6)
_Event = tuple[int, int, str, int, str]


def _events(history: LeaseHistory) -> list[_Event]:
    lease = history.lease
    events: list[_Event] = []
    for seg in lease.contract if lease.state in CONTRACTED_STATES else ():
        if seg.end_s > seg.start_s:
            events += [(seg.start_s, _CONTRACT, "", seg.gpus, ""), (seg.end_s, _CONTRACT, "", -seg.gpus, "")]
    for s, e in history.windows:
        if e > s:
            events += [(s, _WINDOW, "", 1, ""), (e, _WINDOW, "", -1, "")]
    mine = [b for b in history.bookings if b.kind is HolderKind.LEASE and b.holder == lease.id and b.end_s > b.start_s]
    booked = {b.node for b in mine}
    log = sorted((r for r in history.health_log if r[0] in booked), key=lambda r: r[1])
    down = down_spans(log)
    for b in mine:
        gpus = history.node_gpus.get(b.node)
        if gpus is None:
            raise ValueError(f"lease {lease.id}: node {b.node} is booked but its GPU count was not given")
        events += [(b.start_s, _BOOK_START, b.node, gpus, ""), (b.end_s, _BOOK_END, b.node, gpus, "")]
        for s, e, state in down.get(b.node, ()):
            lo, hi = max(s, b.start_s), min(e, b.end_s)
            if lo < hi:
                events += [(lo, _DOWN_START, b.node, gpus, state.value), (hi, _DOWN_END, b.node, gpus, "")]
    events.sort(key=lambda ev: (ev[0], ev[1], ev[2]))
    return events


class _Sweep:
    """The levels between events, integrated over the period; evidence as it changes."""

    def __init__(self, start_s: int, end_s: int) -> None:
        self.start_s, self.end_s = start_s, end_s
        self.t = start_s
        self.contract = self.booked = self.windows = 0
        self.down: dict[str, tuple[int, str]] = {}  # booked node -> (GPUs, state) while not healthy
        self.down_gpus = 0
        self.departed: list[tuple[str, int]] = []  # nodes that left without a replacement, latest last
        self.contracted = self.delivered = self.excluded = self.shortfall = 0
        self.open: dict[tuple[str, str], tuple[int, int, int]] = {}  # (node, cause) -> (since, GPUs, until)
        self.evidence: list[Evidence] = []

    def advance(self, t: int) -> None:
        """Integrate the current levels from the last event to ``t`` (inside the period)."""
        lo, hi = max(self.t, self.start_s), min(t, self.end_s)
        if lo < hi:
            self._integrate(lo, hi)
        self.t = max(self.t, t)

    def apply(self, kind: int, node: str, gpus: int, cause: str) -> None:
        if kind == _CONTRACT:
            self.contract += gpus
        elif kind == _WINDOW:
            self.windows += gpus
        elif kind == _BOOK_START:
            self.booked += gpus
            if self.departed:  # a booking that starts while one is missing replaces it
                self.departed.pop()
        elif kind == _BOOK_END:
            self.booked -= gpus
            if self.contract > self.booked:
                self.departed.append((node, gpus))
        elif kind == _DOWN_START:
            self.down[node] = (gpus, cause)
            self.down_gpus += gpus
        elif self.down.pop(node, None) is not None:
            self.down_gpus -= gpus
        if self.contract <= self.booked:
            self.departed.clear()  # booked in full again: nobody is missing for leaving

    def _integrate(self, lo: int, hi: int) -> None:
        dt = hi - lo
        healthy = self.booked - self.down_gpus
        delivered = min(healthy, self.contract)
        self.contracted += self.contract * dt
        self.delivered += delivered * dt
        if self.windows > 0:
            self.excluded += self.contract * dt
            self._evidence({}, lo, hi)
            return
        self.shortfall += (self.contract - delivered) * dt
        self._evidence(self._missing(healthy), lo, hi)

    def _missing(self, healthy: int) -> dict[tuple[str, str], int]:
        """Who is missing now: the shortfall split over the down nodes (by name), then
        over the nodes that left (latest first), then unbooked."""
        out: dict[tuple[str, str], int] = {}
        down_part = min(self.contract, self.booked) - min(self.contract, healthy)
        for node in sorted(self.down):
            if down_part <= 0:
                break
            gpus, state = self.down[node]
            take = min(gpus, down_part)
            out[(node, state)] = take
            down_part -= take
        unbooked = max(0, self.contract - self.booked)
        for node, gpus in reversed(self.departed):
            if unbooked <= 0:
                break
            take = min(gpus, unbooked)
            out[(node, UNREPLACED)] = out.get((node, UNREPLACED), 0) + take
            unbooked -= take
        if unbooked > 0:
            out[("", UNBOOKED)] = unbooked
        return out

    def _evidence(self, now: dict[tuple[str, str], int], lo: int, hi: int) -> None:
        """Carry the evidence over ``[lo, hi)``: a record of the same node, cause and
        GPUs that reached ``lo`` extends to ``hi``; any other closes; new ones open."""
        for key, (since, gpus, until) in list(self.open.items()):
            if now.get(key) == gpus and until == lo:
                self.open[key] = (since, gpus, hi)
            else:
                del self.open[key]
                self.evidence.append(Evidence(key[0], since, until, gpus, key[1]))
        for key, gpus in now.items():
            if key not in self.open:
                self.open[key] = (lo, gpus, hi)

    def close(self) -> None:
        """Close every open record (the end of the period)."""
        for key, (since, gpus, until) in self.open.items():
            self.evidence.append(Evidence(key[0], since, until, gpus, key[1]))
        self.open.clear()
        self.evidence.sort(key=lambda e: (e.start_s, e.node, e.cause))
