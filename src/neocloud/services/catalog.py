"""Read-side queries for the API: fleet units and nodes with filters, and pages of leases.

Pages are cut by an opaque cursor: the URL-safe base64 of the sort key of the last
item returned; the next page starts strictly after it, so a walk sees each item
exactly once however many pages it takes.
"""

from __future__ import annotations

import base64
import binascii
import bisect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from neocloud.domain.fleet import Fleet, Node, SiteSummary, summarize
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseState
from neocloud.domain.ledger import Booking
from neocloud.leasing.engine import NotFound, RequestError
from neocloud.services.leasing import LeasingService
from neocloud.services.visibility import Viewer

T = TypeVar("T")
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """Up to ``limit`` items and the cursor of the next page (``None`` on the last)."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class NodeFilter:
    """Nodes of one site, health state and GPU model; ``None`` matches all."""

    site: str | None = None
    state: Health | None = None
    model: str | None = None

    def matches(self, node: Node) -> bool:
        return (
            (self.site is None or node.site == self.site)
            and (self.state is None or node.health is self.state)
            and (self.model is None or node.gpu_model == self.model)
        )


@dataclass(frozen=True, slots=True)
class UnitSummary:
    """A pod or a fabric block: its nodes and GPUs by model and by health."""

    name: str
    site: str
    pod: str
    nodes: int
    gpus: int
    gpus_by_model: dict[str, int] = field(default_factory=dict)
    nodes_by_health: dict[str, int] = field(default_factory=dict)


class Catalog:
    """Filtered, paged views of the fleet and the leases, over :class:`LeasingService`."""

    def __init__(self, leasing: LeasingService) -> None:
        self.leasing = leasing

    def sites(self, where: NodeFilter, limit: int, cursor: str | None) -> Page[SiteSummary]:
        fleet = self._filtered(where)
        sites, _ = summarize(fleet)
        return page(sites, lambda s: s.name, limit, cursor)

    def pods(self, where: NodeFilter, limit: int, cursor: str | None) -> Page[UnitSummary]:
        units = group_nodes(self._filtered(where).nodes, lambda n: (n.site, n.pod, n.pod))
        return page(units, _unit_key, limit, cursor)

    def blocks(self, where: NodeFilter, limit: int, cursor: str | None) -> Page[UnitSummary]:
        units = group_nodes(self._filtered(where).nodes, lambda n: (n.site, n.pod, n.block))
        return page(units, _unit_key, limit, cursor)

    def nodes(self, where: NodeFilter, limit: int, cursor: str | None) -> Page[Node]:
        nodes = sorted(self._filtered(where).nodes, key=lambda n: n.id)
        return page(nodes, lambda n: n.id, limit, cursor)

    def node(self, node_id: str) -> Node:
        found = next((n for n in self.leasing.fleet().nodes if n.id == node_id), None)
        if found is None:
            raise NotFound(f"no node {node_id!r}")
        return found

    def leases(
        self, viewer: Viewer, *, tenant: str | None, state: LeaseState | None, limit: int, cursor: str | None
    ) -> Page[Lease]:
        """Leases the viewer may see (of ``tenant`` if given), in creation order, a page at a time."""
        found = self.leasing.leases(tenant=tenant, state=state, viewer=viewer)
        return page(found, lambda lease: f"{lease.created_s:015d}|{lease.id}", limit, cursor)

    def lease_bookings(self, lease_id: str, *, viewer: Viewer, limit: int, cursor: str | None) -> Page[Booking]:
        """A lease's bookings (nodes and spares) in the order they were made (by id), a
        page at a time: a bisection into them, not a sort (a whole-site lease has tens of
        thousands); another tenant's lease is :class:`NotFound`."""
        check_limit(limit)
        found = sorted(self.leasing.lease_bookings(lease_id, viewer=viewer), key=_booking_id)  # sorted already
        start = bisect.bisect_right(found, _after_id(cursor), key=_booking_id) if cursor else 0
        chosen = found[start : start + limit]
        more = start + limit < len(found)
        return Page(chosen, encode_cursor(str(chosen[-1].id)) if more else None)

    def _filtered(self, where: NodeFilter) -> Fleet:
        fleet = self.leasing.fleet()
        self._check(fleet, where)
        keep = {s.name for s in fleet.sites if where.site is None or s.name == where.site}
        return replace(
            fleet,
            sites=[s for s in fleet.sites if s.name in keep],
            pods=[p for p in fleet.pods if p.site in keep],
            blocks=[b for b in fleet.blocks if b.site in keep],
            racks=[r for r in fleet.racks if r.site in keep],
            nodes=[n for n in fleet.nodes if where.matches(n)],
        )

    def _check(self, fleet: Fleet, where: NodeFilter) -> None:
        problems = []
        names = [s.name for s in fleet.sites]
        if where.site is not None and where.site not in names:
            problems.append(f"site: unknown site {where.site!r}; known: {', '.join(names)}")
        models = sorted({n.gpu_model for n in fleet.nodes})
        if where.model is not None and where.model not in models:
            problems.append(f"model: no {where.model!r} GPUs in the fleet; it has {', '.join(models)}")
        if problems:
            raise RequestError(problems)


def group_nodes(nodes: Sequence[Node], key: Callable[[Node], tuple[str, str, str]]) -> list[UnitSummary]:
    """One summary per ``(site, pod, name)`` key, sorted by it."""
    gpus: dict[tuple[str, str, str], Counter[str]] = {}
    health: dict[tuple[str, str, str], Counter[str]] = {}
    for node in nodes:
        k = key(node)
        gpus.setdefault(k, Counter())[node.gpu_model] += node.gpu_count
        health.setdefault(k, Counter())[node.health.value] += 1
    return [
        UnitSummary(
            name=k[2],
            site=k[0],
            pod=k[1],
            nodes=sum(health[k].values()),
            gpus=sum(gpus[k].values()),
            gpus_by_model=dict(sorted(gpus[k].items())),
            nodes_by_health={h.value: health[k].get(h.value, 0) for h in Health},
        )
        for k in sorted(gpus)
    ]


def page(items: Sequence[T], key: Callable[[T], str], limit: int, cursor: str | None) -> Page[T]:
    """The items after ``cursor`` in ``key`` order, at most ``limit`` of them."""
    check_limit(limit)
    after = decode_cursor(cursor) if cursor else None
    rest = sorted((item for item in items if after is None or key(item) > after), key=key)
    chosen = rest[:limit]
    more = len(rest) > limit
    return Page(chosen, encode_cursor(key(chosen[-1])) if more and chosen else None)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise RequestError([f"limit: must be between 1 and {MAX_LIMIT}"])


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise RequestError([f"cursor: {cursor!r} is not a cursor this API returned"]) from None


def _unit_key(unit: UnitSummary) -> str:
    return f"{unit.site}/{unit.pod}/{unit.name}"


def _booking_id(b: Booking) -> int:
    return b.id


def _after_id(cursor: str) -> int:
    """The booking id a bookings cursor names."""
    text = decode_cursor(cursor)
    if not (text.isascii() and text.isdigit()):
        raise RequestError([f"cursor: {cursor!r} is not a cursor this API returned"])
    return int(text)
