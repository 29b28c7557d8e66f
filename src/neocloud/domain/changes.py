"""Decisions as values: a Change says what to write; applying it is a separate step.

The engine returns a :class:`Change`; the service persists it in one transaction
(bookings, lease records, node health, events) and then applies it to its cache.
Order inside a change: truncations and releases first, then new bookings, so that a
node handed from one holder to another at the same instant never overlaps itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neocloud.domain.health import Health
from neocloud.domain.leases import Lease
from neocloud.domain.ledger import Booking, Draft


@dataclass(frozen=True, slots=True)
class Event:
    """One line of the append-only event log."""

    kind: str
    subject: str
    at_s: int
    actor: str
    tenant: str | None = None
    lease_id: str | None = None
    node: str | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class HealthChange:
    node: str
    from_state: Health
    to_state: Health
    at_s: int
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """Everything one decision writes."""

    truncate: tuple[tuple[int, int], ...] = ()
    release: tuple[int, ...] = ()
    book: tuple[Draft, ...] = ()
    leases: tuple[Lease, ...] = ()
    health: tuple[HealthChange, ...] = ()
    events: tuple[Event, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def __add__(self, other: Change) -> Change:
        return Change(
            self.truncate + other.truncate,
            self.release + other.release,
            self.book + other.book,
            self.leases + other.leases,
            self.health + other.health,
            self.events + other.events,
            self.notes + other.notes,
        )

    @property
    def empty(self) -> bool:
        return not (self.truncate or self.release or self.book or self.leases or self.health or self.events)


class StoreError(Exception):
    """The store cannot do what was asked (no schema, no fleet, wrong database)."""


@dataclass(frozen=True, slots=True)
class Delta:
    """What changed after a version: rows as they are now (an empty booking
    interval means the booking was released)."""

    version: int
    bookings: list[Booking] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)
    health: dict[str, Health] = field(default_factory=dict)
    tenants: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class EventQuery:
    lease_id: str | None = None
    node: str | None = None
    tenant: str | None = None
    kind: str | None = None
    since_s: int | None = None
    until_s: int | None = None
    after_seq: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class StoredEvent:
    seq: int
    event: Event


@dataclass(frozen=True, slots=True)
class IdempotentResult:
    """The first response to a request sent with an ``Idempotency-Key``."""

    request_hash: str
    status: int
    body: str
    created_s: int
