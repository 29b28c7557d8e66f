"""The leasing engine: a thin facade over the live view and the decision modules.

Each question has its own module: the live state (:mod:`.view`), where a request
goes (:mod:`.plan`), its price and alternatives (:mod:`.quote`), the lifecycle and
the clock (:mod:`.lifecycle`), health, healing and maintenance (:mod:`.healing`),
the audit shape of events (:mod:`.audit`). Every decision returns a
:class:`Change` without touching the view; :meth:`Engine.apply` applies it (the
service calls it after the database committed the same change). The engine never
reads a clock: every ``now_s`` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable

from neocloud.domain.changes import Change
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest
from neocloud.domain.ledger import Booking
from neocloud.domain.shape import Shape
from neocloud.leasing import healing, lifecycle
from neocloud.leasing.quote import Alternative, Pricer, Quote, Refusal, Unplaceable, quote
from neocloud.leasing.view import LedgerView, Undo
from neocloud.placement.snapshot import FleetSnapshot

__all__ = ["Alternative", "Engine", "NotFound", "Quote", "Refusal", "RequestError", "Unplaceable"]


class Engine:
    """Decisions on a view of the fleet, the ledger, the leases and node health."""

    def __init__(self, view: LedgerView) -> None:
        self.view = view

    @classmethod
    def of_fleet(cls, fleet: Fleet) -> Engine:
        return cls(LedgerView.of_fleet(fleet))

    @property
    def snap(self) -> FleetSnapshot:
        return self.view.snap

    # -- quotes and bookings ---------------------------------------------------
    def quote(
        self, request: LeaseRequest, now_s: int, price: Pricer | None = None, *, with_alternatives: bool = True
    ) -> Quote | Refusal:
        """Place ``request`` on free capacity; a plan priced by ``price``, or the reason
        and (``with_alternatives``) the alternatives."""
        return quote(self.view, request, now_s, price, with_alternatives=with_alternatives)

    def create(
        self, request: LeaseRequest, *, lease_id: str, now_s: int, actor: str, hold_s: int | None = None
    ) -> tuple[Lease, Change]:
        """Quote and book ``request``: held for ``hold_s`` seconds when given, else confirmed."""
        found = self.quote(request, now_s)
        if isinstance(found, Refusal):
            raise Unplaceable(found)
        return self.book_quote(found, lease_id=lease_id, now_s=now_s, actor=actor, hold_s=hold_s)

    def book_quote(
        self, found: Quote, *, lease_id: str, now_s: int, actor: str, hold_s: int | None = None
    ) -> tuple[Lease, Change]:
        return lifecycle.book(self.view, found, lease_id=lease_id, now_s=now_s, actor=actor, hold_s=hold_s)

    def assign_pool(self, pool: str, shape: Shape, *, start_s: int, end_s: int, now_s: int, actor: str) -> Change:
        return lifecycle.assign_pool(self.view, pool, shape, start_s=start_s, end_s=end_s, now_s=now_s, actor=actor)

    # -- lifecycle -------------------------------------------------------------
    def confirm(self, lease_id: str, *, now_s: int, actor: str) -> Change:
        return lifecycle.confirm(self.view, lease_id, now_s=now_s, actor=actor)

    def cancel(self, lease_id: str, *, now_s: int, actor: str, reason: str = "cancelled") -> Change:
        return lifecycle.cancel(self.view, lease_id, now_s=now_s, actor=actor, reason=reason)

    def terminate(self, lease_id: str, *, at_s: int, now_s: int, actor: str) -> Change:
        return lifecycle.terminate(self.view, lease_id, at_s=at_s, now_s=now_s, actor=actor)

    def extend(self, lease_id: str, new_end_s: int, *, now_s: int, actor: str, allow_swap: bool = False) -> Change:
        return lifecycle.extend(self.view, lease_id, new_end_s, now_s=now_s, actor=actor, allow_swap=allow_swap)

    def shrink(self, lease_id: str, gpus: int, *, from_s: int | None, now_s: int, actor: str) -> Change:
        return lifecycle.shrink(self.view, lease_id, gpus, from_s=from_s, now_s=now_s, actor=actor)

    def tick(self, now_s: int, actor: str = "clock") -> Change:
        return lifecycle.tick(self.view, now_s, actor)

    # -- health and maintenance --------------------------------------------------
    def set_health(self, node: str, target: Health, *, at_s: int, now_s: int, actor: str, reason: str) -> Change:
        return healing.set_health(self.view, node, target, at_s=at_s, now_s=now_s, actor=actor, reason=reason)

    def maintenance(self, node: str, *, start_s: int, end_s: int, now_s: int, actor: str, window_id: str) -> Change:
        return healing.maintenance(
            self.view, node, start_s=start_s, end_s=end_s, now_s=now_s, actor=actor, window_id=window_id
        )

    def announce_maintenance(
        self, lease_id: str, *, start_s: int, end_s: int, now_s: int, actor: str, reason: str
    ) -> Change:
        return healing.announce_maintenance(
            self.view, lease_id, start_s=start_s, end_s=end_s, now_s=now_s, actor=actor, reason=reason
        )

    # -- reads and applying ------------------------------------------------------
    def lease(self, lease_id: str) -> Lease:
        return self.view.lease(lease_id)

    def lease_nodes(self, lease_id: str) -> list[Booking]:
        return self.view.ledger.of_holder(lease_id)

    def apply(self, change: Change, booked: list[Booking] | None = None) -> list[Booking]:
        return self.view.apply(change, booked)

    def simulate(self, change: Change) -> Undo:
        return self.view.simulate(change)

    def absorb(self, bookings: Iterable[Booking], leases: Iterable[Lease], health: dict[str, Health]) -> None:
        self.view.absorb(bookings, leases, health)
