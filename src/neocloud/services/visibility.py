"""Who may see what: one rule, here, for every edge (API, dashboard, CLI).

The operator sees everything. A tenant sees:

- its own leases. Another tenant's lease, or a query naming another tenant, is "not
  found", word for word as for one that never existed;
- the bookings of its own leases (their nodes and spares). Of any other booking it
  learns only that the node is taken (:attr:`NodesNow.taken`): never by whom, never
  for how long;
- the nodes its leases hold or held (node pages, the nodes list). The fleet's
  inventory, node health and free capacity are public to every key (``/v1/nodes``,
  availability) and are not decided here;
- the events of its tenant (its leases, its keys, itself), and the health events
  (``node.*``, which carry no tenant) of a node at a time one of its leases held it;
- refusals that say what blocks it ("3 of your nodes are booked after 2027-05-30")
  without naming the other holders (:meth:`Viewer.shown`).

Edges build a :class:`Viewer` from the request's principal and pass it to the
services; they never filter by tenant themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from neocloud.domain.access import AccessDenied, Principal
from neocloud.domain.changes import EventQuery, StoredEvent
from neocloud.domain.errors import DomainError
from neocloud.domain.fleet import Node
from neocloud.domain.leases import HeldByOthers, Lease, LeaseRuleError
from neocloud.domain.ledger import Booking, BookingConflict
from neocloud.leasing.engine import NotFound

if TYPE_CHECKING:
    from neocloud.services.leasing import LeasingService

HEALTH_KINDS = "node."  # health events: a node's state changed (no tenant in them)
EVENT_PAGE = 500  # health events read per store query while filtering them for a tenant
FOREVER_S = 2**62  # a time after every booking


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking: ``tenant`` names a tenant; ``None`` is the operator (see :data:`OPERATOR`)."""

    tenant: str | None

    def __post_init__(self) -> None:
        if self.tenant is not None and not self.tenant:
            raise ValueError("a tenant viewer needs the tenant's name")

    @classmethod
    def of(cls, who: Principal) -> Viewer:
        """The viewer a request's principal is; a tenant key without a tenant sees nothing."""
        if who.is_operator:
            return OPERATOR
        if not who.tenant:
            raise AccessDenied("this key belongs to no tenant")
        return cls(who.tenant)

    @property
    def is_operator(self) -> bool:
        return self.tenant is None

    def scope(self, asked: str | None = None) -> str | None:
        """The tenant a query covers: the operator's choice (``None``: all); a tenant
        only its own, and naming another is "not found", as a tenant that does not exist."""
        if self.tenant is None:
            return asked
        if asked is not None and asked != self.tenant:
            raise NotFound(f"no tenant {asked!r}")
        return self.tenant

    def sees(self, lease: Lease) -> bool:
        return self.tenant is None or lease.tenant == self.tenant

    def lease(self, lease: Lease) -> Lease:
        """``lease`` if this viewer may see it, else "not found" in the words used for a missing one."""
        if not self.sees(lease):
            raise NotFound(f"no lease {lease.id!r}")
        return lease

    def shown(self, error: DomainError) -> DomainError:
        """A refusal as this viewer may read it: for a tenant, without other holders."""
        if self.tenant is None:
            return error
        if isinstance(error, HeldByOthers):
            return error.for_tenant()
        if isinstance(error, BookingConflict):
            return LeaseRuleError(f"{len(error.conflicts)} node interval(s) are already taken; quote again")
        return error


OPERATOR = Viewer(None)


@dataclass(frozen=True, slots=True)
class NodesNow:
    """The nodes a viewer may list and what it sees holding them at one instant.

    ``nodes`` is ``None`` for all; ``held`` the viewer-visible booking holding a node
    then; ``taken`` the nodes held then by someone the viewer may not see.
    """

    nodes: set[str] | None
    held: dict[str, Booking]
    taken: set[str]


@dataclass(frozen=True, slots=True)
class NodeView:
    """One node as a viewer sees it: its bookings and its events."""

    node: Node
    bookings: list[Booking]
    events: list[StoredEvent]


class Visibility:
    """Reads of bookings, nodes and events as a :class:`Viewer` may see them."""

    def __init__(self, leasing: LeasingService) -> None:
        self.leasing = leasing

    def holdings(self, viewer: Viewer) -> list[Booking]:
        """Every booking (lease or spare) of the viewer's leases, as the ledger has it now."""
        if viewer.is_operator:
            return self.leasing.bookings(0, FOREVER_S)
        return self.leasing.bookings_of(le.id for le in self.leasing.leases(viewer=viewer))

    def bookings(self, viewer: Viewer, start_s: int, end_s: int) -> list[Booking]:
        """The bookings overlapping ``[start_s, end_s)`` that the viewer may see."""
        if viewer.is_operator:
            return self.leasing.bookings(start_s, end_s)
        return [b for b in self.holdings(viewer) if b.start_s < end_s and b.end_s > start_s]

    def nodes_at(self, viewer: Viewer, t_s: int) -> NodesNow:
        """What the viewer may list of the nodes and sees holding them at instant ``t_s``."""
        now = self.leasing.bookings(t_s, t_s + 1)
        if viewer.is_operator:
            return NodesNow(None, {b.node: b for b in now}, set())
        mine = self.holdings(viewer)
        nodes = {b.node for b in mine}
        held = {b.node: b for b in mine if b.start_s <= t_s < b.end_s}
        taken = {b.node for b in now if b.node in nodes and b.node not in held}
        return NodesNow(nodes, held, taken)

    def node(self, viewer: Viewer, node_id: str, *, events: int = 200) -> NodeView:
        """A node with the bookings and (up to ``events``) events the viewer may see;
        "not found" for a tenant whose leases never held it."""
        node = next((n for n in self.leasing.fleet().nodes if n.id == node_id), None)
        if node is None:
            raise NotFound(f"no node {node_id!r}")
        if viewer.is_operator:
            bookings = self.leasing.node_bookings(node_id)
        else:
            bookings = [b for b in self.holdings(viewer) if b.node == node_id]
            if not bookings:
                raise NotFound(f"no node {node_id!r}")
        found = self.events(viewer, EventQuery(node=node_id, limit=events))
        return NodeView(node, sorted(bookings, key=lambda b: b.start_s), found)

    def events(self, viewer: Viewer, query: EventQuery) -> list[StoredEvent]:
        """Events in log order after ``query.after_seq``, at most ``query.limit``, that the viewer may see."""
        if viewer.is_operator:
            return self.leasing.events(query)
        own = self.leasing.events(replace(query, tenant=viewer.scope(query.tenant)))
        kind = _health_kind(query.kind)
        if kind is None or query.lease_id is not None:  # health events belong to no lease
            return own
        held = _intervals(self.holdings(viewer))
        if query.node is not None and query.node not in held:
            return own
        until_seq = own[-1].seq if len(own) >= query.limit else None  # later ones would not make the page
        health = self._health(replace(query, tenant=None, kind=kind), held, until_seq)
        return sorted([*own, *health], key=lambda e: e.seq)[: query.limit]

    def _health(
        self, query: EventQuery, held: dict[str, list[tuple[int, int]]], until_seq: int | None
    ) -> list[StoredEvent]:
        """Health events of nodes at times the viewer held them: read a page at a time
        until ``query.limit`` are found, the log ends, or ``until_seq`` is passed."""
        out: list[StoredEvent] = []
        after = query.after_seq
        while len(out) < query.limit:
            batch = self.leasing.events(replace(query, after_seq=after, limit=EVENT_PAGE))
            for stored in batch:
                if until_seq is not None and stored.seq > until_seq:
                    return out
                if _held_then(stored, held):
                    out.append(stored)
            if len(batch) < EVENT_PAGE:
                break
            after = batch[-1].seq
        return out[: query.limit]


def _health_kind(kind: str | None) -> str | None:
    """The health-event prefix that matches a kind filter (``None``: no health event can match)."""
    if kind is None or HEALTH_KINDS.startswith(kind):
        return HEALTH_KINDS
    return kind if kind.startswith(HEALTH_KINDS) else None


def _intervals(bookings: Iterable[Booking]) -> dict[str, list[tuple[int, int]]]:
    out: dict[str, list[tuple[int, int]]] = {}
    for b in bookings:
        out.setdefault(b.node, []).append((b.start_s, b.end_s))
    return out


def _held_then(stored: StoredEvent, held: dict[str, list[tuple[int, int]]]) -> bool:
    """A health event of a node the viewer held when it took effect. The end counts: a
    failure cuts the failed node's booking at the very time it reports."""
    e = stored.event
    if e.tenant is not None or e.node is None or not e.kind.startswith(HEALTH_KINDS):
        return False
    at = (e.after or {}).get("at", e.at_s)
    at_s = at if isinstance(at, int) else e.at_s
    return any(start <= at_s <= end for start, end in held.get(e.node, ()))
