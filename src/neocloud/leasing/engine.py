"""The leasing engine: every lease decision, computed on an in-memory view of the ledger.

The engine holds the fleet snapshot (node order), the ledger of bookings, the lease
records and each node's current health. Each operation checks its rules and returns
a :class:`Change` without touching that state; :meth:`Engine.apply` applies a change
(the service calls it after the database committed the same change). The engine
never reads a clock: every ``now_s`` is passed in.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from neocloud.domain.changes import Change, Event, HealthChange
from neocloud.domain.clock import from_s
from neocloud.domain.errors import DomainError
from neocloud.domain.health import Health, transition_problem
from neocloud.domain.leases import (
    LIVE_STATES,
    HeldByOthers,
    Lease,
    LeaseRequest,
    LeaseRuleError,
    LeaseState,
    Segment,
    change_state,
    contract_from,
    validate_request,
)
from neocloud.domain.ledger import Booking, Draft, HolderKind, Ledger
from neocloud.domain.money import Money
from neocloud.domain.shape import LOOSER, Locality, Shape
from neocloud.placement.carve import Infeasible, Placement, carve
from neocloud.placement.snapshot import HEALTH_CODES, HEALTHY_CODE, FleetSnapshot

HOUR_S = 3600
MAX_LATER_STARTS = 200


class RequestError(DomainError):
    """A request with invalid fields; ``problems`` names each field and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class NotFound(DomainError):
    """No such lease or node (for a tenant: not one of theirs, see ``services.visibility``)."""


@dataclass(frozen=True, slots=True)
class Alternative:
    """A change to the request that would fit."""

    kind: str  # "later_start" | "fewer_gpus" | "looser_locality"
    description: str
    start_s: int | None = None
    gpus: int | None = None
    locality: Locality | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    """A placement plan for a request: nodes, spares and price. Nothing is booked."""

    request: LeaseRequest
    model: str
    gpus: int
    layers: tuple[tuple[tuple[str, ...], int, int], ...]  # (nodes, start_s, end_s)
    spares: tuple[str, ...]
    contract: tuple[Segment, ...]
    gpu_hours: Decimal
    total: Money
    blocks: dict[str, int]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(n for layer in self.layers for n in layer[0])


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a request cannot be placed, and what would fit instead."""

    reason: str
    alternatives: tuple[Alternative, ...] = ()


class Engine:
    """Decisions on a view of the fleet, the ledger and the leases."""

    def __init__(self, snap: FleetSnapshot, ledger: Ledger, leases: Iterable[Lease] = ()) -> None:
        if ledger.node_ids != snap.node_ids:
            raise ValueError("the ledger must be built on the snapshot's node order")
        self.snap = snap
        self.ledger = ledger
        self.leases: dict[str, Lease] = {}
        self._due: list[tuple[int, str]] = []  # (time the clock next moves the lease, lease id)
        for lease in leases:
            self._store_lease(lease)
        self.health = snap.node_health.copy()
        self.node_index = ledger.node_index
        self.per_node_gpus = snap.node_gpus

    # -- quotes -------------------------------------------------------------
    def quote(self, request: LeaseRequest, now_s: int) -> Quote | Refusal:
        """Place ``request`` on free capacity; a plan, or the reason and alternatives."""
        problems = validate_request(request, now_s)
        if problems:
            raise RequestError(problems)
        plan = self._plan(request)
        if isinstance(plan, Quote):
            return plan
        return Refusal(plan.reason, self._alternatives(request, plan))

    def _plan(self, request: LeaseRequest, exclude: npt.NDArray[np.bool_] | None = None) -> Quote | Infeasible:
        shape = request.shape
        contract_levels = _levels(request, shape)
        if isinstance(contract_levels, str):
            return Infeasible(contract_levels, 0)
        unavailable = self.ledger.unavailable(request.start_s, request.end_s)
        if exclude is not None:
            unavailable |= exclude
        base = carve(self.snap, unavailable, _with_gpus(shape, contract_levels[0][2]))
        if isinstance(base, Infeasible):
            return base
        layers = [(base.nodes, request.start_s, request.end_s)]
        taken = np.zeros(len(self.snap.node_ids), np.bool_)
        taken[base.nodes] = True
        scope = self._scope_mask(base, shape.locality)
        for start_s, end_s, extra in contract_levels[1:]:
            window = self.ledger.unavailable(start_s, end_s) | taken | ~scope
            more = carve(self.snap, window, Shape((base.model,), gpus=extra, locality=Locality.ANYWHERE))
            if isinstance(more, Infeasible):
                return Infeasible(f"step from {start_s}: {more.reason}", 0)
            taken[more.nodes] = True
            layers.append((more.nodes, start_s, end_s))
        spares = self._spares(request, base, unavailable | taken)
        if isinstance(spares, str):
            return Infeasible(spares, 0)
        contract = (
            contract_from(request, base.gpus)
            if shape.unit is None
            else (Segment(request.start_s, request.end_s, base.gpus),)
        )
        hours = sum((Decimal(s.gpus) * Decimal(s.end_s - s.start_s) / HOUR_S for s in contract), Decimal(0))
        ids = self.snap.node_ids
        placed = np.flatnonzero(taken)
        per_block = np.bincount(self.snap.node_block[placed], minlength=len(self.snap.block_names))
        blocks = {self.snap.block_names[k]: int(c) for k, c in enumerate(per_block) if c}
        return Quote(
            request=request,
            model=base.model,
            gpus=base.gpus,
            layers=tuple((tuple(ids[i] for i in nodes), s, e) for nodes, s, e in layers),
            spares=tuple(ids[i] for i in spares),
            contract=contract,
            gpu_hours=hours,
            total=request.price_per_gpu_hour.times(hours),
            blocks=blocks,
        )

    def _scope_mask(self, base: Placement, locality: Locality) -> npt.NDArray[np.bool_]:
        """Nodes in the same locality unit as ``base`` (all nodes for ``anywhere``)."""
        snap = self.snap
        unit_of = {
            Locality.NVLINK_DOMAIN: snap.node_domain,
            Locality.BLOCK: snap.node_block,
            Locality.POD: snap.node_pod,
            Locality.SITE: snap.node_site,
        }.get(locality)
        if unit_of is None:
            return np.ones(len(snap.node_ids), np.bool_)
        return np.isin(unit_of, np.unique(unit_of[base.nodes]))

    def _spares(
        self, request: LeaseRequest, base: Placement, unavailable: npt.NDArray[np.bool_]
    ) -> npt.NDArray[np.int64] | str:
        policy = request.spares
        if policy is None:
            return np.zeros(0, np.int64)
        snap = self.snap
        unit_of = snap.node_domain if policy.per == "nvlink_domain" else snap.node_block
        model = snap.models.index(base.model.split("+")[0])
        free = ~unavailable & (self.health == HEALTHY_CODE) & (snap.node_model == model)
        chosen: list[npt.NDArray[np.int64]] = []
        for unit in np.unique(unit_of[base.nodes]):
            cand = np.flatnonzero(free & (unit_of == unit))
            if cand.size < policy.count:
                name = snap.domain_ids[unit] if policy.per == "nvlink_domain" else snap.block_names[unit]
                return (
                    f"spares: {policy.count} spare node(s) wanted per {policy.per.replace('_', ' ')}, "
                    f"but {name} has {cand.size} free"
                )
            chosen.append(cand[-policy.count :].astype(np.int64))
        return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)

    def _alternatives(self, request: LeaseRequest, failed: Infeasible) -> tuple[Alternative, ...]:
        out: list[Alternative] = []
        shape = request.shape
        if shape.unit is None and 0 < failed.max_gpus < (shape.gpus or 0):
            out.append(
                Alternative(
                    "fewer_gpus", f"{failed.max_gpus:,} GPUs fit with the same locality and dates", gpus=failed.max_gpus
                )
            )
        looser = LOOSER.get(shape.locality)
        while looser is not None:
            attempt = replace(request, shape=replace(shape, locality=looser))
            if isinstance(self._plan(attempt), Quote):
                out.append(Alternative("looser_locality", f"fits with locality {looser.value}", locality=looser))
                break
            looser = LOOSER.get(looser)
        duration = request.end_s - request.start_s
        for t in self.ledger.change_times(request.start_s, MAX_LATER_STARTS):
            attempt = _shifted(request, t - request.start_s)
            if isinstance(self._plan(attempt), Quote):
                when = from_s(t).strftime("%Y-%m-%d %H:%M UTC")
                days = duration / 86_400
                out.append(
                    Alternative("later_start", f"fits if it starts at {when} for the same {days:g} days", start_s=t)
                )
                break
        return tuple(out)

    # -- booking ------------------------------------------------------------
    def create(
        self,
        request: LeaseRequest,
        *,
        lease_id: str,
        now_s: int,
        actor: str,
        hold_s: int | None = None,
    ) -> tuple[Lease, Change]:
        """Book ``request``: held for ``hold_s`` seconds when given, else confirmed."""
        quote = self.quote(request, now_s)
        if isinstance(quote, Refusal):
            raise Unplaceable(quote)
        return self.book_quote(quote, lease_id=lease_id, now_s=now_s, actor=actor, hold_s=hold_s)

    def book_quote(
        self, quote: Quote, *, lease_id: str, now_s: int, actor: str, hold_s: int | None = None
    ) -> tuple[Lease, Change]:
        if lease_id in self.leases:
            raise LeaseRuleError(f"lease {lease_id} already exists")
        request = quote.request
        lease = Lease(lease_id, request, LeaseState.QUOTED, quote.model, quote.contract, now_s)
        target = LeaseState.HELD if hold_s is not None else LeaseState.CONFIRMED
        reason = f"held for {hold_s} s" if hold_s is not None else "booked"
        lease = change_state(lease, target, at_s=now_s, actor=actor, reason=reason)
        if hold_s is not None:
            lease = replace(lease, hold_expires_s=now_s + hold_s)
        drafts = [
            Draft(node, start_s, end_s, HolderKind.LEASE, lease_id)
            for nodes, start_s, end_s in quote.layers
            for node in nodes
        ]
        drafts += [Draft(n, request.start_s, request.end_s, HolderKind.SPARE, lease_id) for n in quote.spares]
        event = self._event("lease.created", lease, now_s, actor, before=None, after=_lease_view(lease, quote.gpus))
        return lease, Change(book=tuple(drafts), leases=(lease,), events=(event,))

    def assign_pool(self, pool: str, shape: Shape, *, start_s: int, end_s: int, now_s: int, actor: str) -> Change:
        """Hold capacity for an internal pool (training, spot resale, spares) over a window."""
        if not pool.strip():
            raise RequestError(["pool: must not be empty"])
        if start_s >= end_s:
            raise RequestError(["start: must be before end"])
        if start_s < now_s:
            raise RequestError(["start: is in the past"])
        placed = carve(self.snap, self.ledger.unavailable(start_s, end_s), shape)
        if isinstance(placed, Infeasible):
            raise Unplaceable(Refusal(f"pool {pool}: {placed.reason}"))
        drafts = tuple(Draft(self.snap.node_ids[i], start_s, end_s, HolderKind.POOL, pool) for i in placed.nodes)
        event = Event(
            "pool.assigned",
            pool,
            now_s,
            actor,
            after={"pool": pool, "model": placed.model, "gpus": placed.gpus, "start": start_s, "end": end_s},
        )
        return Change(book=drafts, events=(event,))

    def confirm(self, lease_id: str, *, now_s: int, actor: str) -> Change:
        lease = self.lease(lease_id)
        if lease.state is LeaseState.HELD and lease.hold_expires_s is not None and now_s >= lease.hold_expires_s:
            raise LeaseRuleError(f"lease {lease_id}: the hold expired at {lease.hold_expires_s}; quote again")
        updated = replace(
            change_state(lease, LeaseState.CONFIRMED, at_s=now_s, actor=actor, reason="confirmed"), hold_expires_s=None
        )
        return self._lease_change("lease.confirmed", lease, updated, now_s, actor)

    def cancel(self, lease_id: str, *, now_s: int, actor: str, reason: str = "cancelled") -> Change:
        lease = self.lease(lease_id)
        if lease.state is LeaseState.ACTIVE:
            raise LeaseRuleError(f"lease {lease_id} is active since {lease.start_s}; terminate it instead")
        updated = change_state(lease, LeaseState.CANCELLED, at_s=now_s, actor=actor, reason=reason)
        releases = tuple(b.id for b in self.ledger.of_holder(lease_id))
        return self._lease_change("lease.cancelled", lease, updated, now_s, actor, release=releases)

    def terminate(self, lease_id: str, *, at_s: int, now_s: int, actor: str) -> Change:
        """End an active lease early at ``at_s`` (not in the past); nodes free from then."""
        lease = self.lease(lease_id)
        if lease.state is not LeaseState.ACTIVE:
            raise LeaseRuleError(
                f"lease {lease_id} is {lease.state.value}: only an active lease can be terminated"
                + ("; cancel it instead" if lease.state in (LeaseState.HELD, LeaseState.CONFIRMED) else "")
            )
        if at_s < now_s:
            raise LeaseRuleError(f"terminate at {at_s}: that is in the past (now {now_s})")
        if at_s >= lease.end_s:
            raise LeaseRuleError(f"terminate at {at_s}: the lease already ends at {lease.end_s}")
        updated = change_state(lease, LeaseState.TERMINATED, at_s=now_s, actor=actor, reason=f"effective {at_s}")
        updated = replace(updated, contract=_clip(lease.contract, at_s))
        truncate, release = self._cut_bookings(lease_id, at_s)
        return self._lease_change("lease.terminated", lease, updated, now_s, actor, truncate=truncate, release=release)

    def extend(self, lease_id: str, new_end_s: int, *, now_s: int, actor: str, allow_swap: bool = False) -> Change:
        """Move the end later; conflicting nodes may be swapped for free nodes of the same block."""
        lease = self.lease(lease_id)
        if lease.state not in LIVE_STATES:
            raise LeaseRuleError(
                f"lease {lease_id} is {lease.state.value}: only held, confirmed or active leases extend"
            )
        old_end = lease.end_s
        if new_end_s <= old_end:
            raise LeaseRuleError(f"extend to {new_end_s}: the lease already ends at {old_end}; use shrink or terminate")
        tail = [b for b in self.ledger.of_holder(lease_id) if b.end_s == old_end]
        keep, blocked = self._split_free(tail, old_end, new_end_s)
        swaps: list[tuple[Booking, int]] = []
        if blocked:
            swaps_or_reason = self._swap_targets(blocked, old_end, new_end_s, exclude={b.node for b in tail})
            if isinstance(swaps_or_reason, str):
                raise LeaseRuleError(f"extend {lease_id} to {new_end_s} refused: {swaps_or_reason}")
            if not allow_swap:
                moves = tuple((b.node, self.snap.node_ids[t]) for b, t in swaps_or_reason)
                holders = self._holders(blocked, old_end, new_end_s)
                raise HeldByOthers(lease_id, new_end_s, len(blocked), old_end, holders, moves)
            swaps = swaps_or_reason
        drafts = [Draft(b.node, old_end, new_end_s, b.kind, lease_id) for b in keep]
        drafts += [Draft(self.snap.node_ids[t], old_end, new_end_s, b.kind, lease_id) for b, t in swaps]
        contract = (*lease.contract[:-1], replace(lease.contract[-1], end_s=new_end_s))
        updated = replace(lease, contract=contract)
        notes = tuple(f"swapped {b.node} for {self.snap.node_ids[t]} from {old_end}" for b, t in swaps)
        change = self._lease_change("lease.extended", lease, updated, now_s, actor)
        return change + Change(book=tuple(drafts), notes=notes)

    def shrink(self, lease_id: str, gpus: int, *, from_s: int, now_s: int, actor: str) -> Change:
        """From ``from_s`` on, hold ``gpus`` GPUs: the lease's loosest nodes are released."""
        lease = self.lease(lease_id)
        if lease.state not in LIVE_STATES:
            raise LeaseRuleError(f"lease {lease_id} is {lease.state.value}: only live leases shrink")
        if lease.request.shape.unit is not None:
            raise LeaseRuleError(f"lease {lease_id} holds whole units; it cannot shrink by GPU count")
        if from_s < now_s or not lease.start_s <= from_s < lease.end_s:
            raise LeaseRuleError(f"shrink from {from_s}: must be now or later, within [{lease.start_s}, {lease.end_s})")
        if any(s.start_s > from_s for s in lease.contract):
            raise LeaseRuleError(f"shrink from {from_s}: the lease has steps after that; shrink after its last step")
        held = lease.contracted_at(from_s)
        live = [
            b for b in self.ledger.of_holder(lease_id) if b.kind is HolderKind.LEASE and b.start_s <= from_s < b.end_s
        ]
        per_node = int(self.per_node_gpus[self.node_index[live[0].node]]) if live else 1
        if not 0 < gpus < held or (held - gpus) % per_node:
            raise LeaseRuleError(
                f"shrink to {gpus}: must be fewer than the {held} GPUs held and leave whole {per_node}-GPU nodes"
            )
        truncate, release = self._shrink_cuts(lease_id, gpus // per_node, from_s)
        contract = (*_clip(lease.contract, from_s), Segment(from_s, lease.end_s, gpus))
        updated = replace(lease, contract=contract)
        return self._lease_change("lease.shrunk", lease, updated, now_s, actor, truncate=truncate, release=release)

    def tick(self, now_s: int, actor: str = "clock") -> Change:
        """Expire holds, start and end leases whose time has come.

        Only leases due by ``now_s`` are looked at (a heap of due times), so a tick
        costs nothing when nothing is due. Due entries are consumed: apply the change.
        """
        change = Change()
        seen: set[str] = set()
        while self._due and self._due[0][0] <= now_s:
            due_s, lease_id = heapq.heappop(self._due)
            lease = self.leases.get(lease_id)
            if lease is None or lease_id in seen or _due_time(lease) != due_s:
                continue  # stale: the lease changed since this entry was pushed
            seen.add(lease_id)
            change += self._advance(lease, now_s, actor)
        return change

    def _advance(self, lease: Lease, now_s: int, actor: str) -> Change:
        if lease.state is LeaseState.HELD and lease.hold_expires_s is not None and now_s >= lease.hold_expires_s:
            updated = change_state(lease, LeaseState.EXPIRED, at_s=now_s, actor=actor, reason="hold expired")
            releases = tuple(b.id for b in self.ledger.of_holder(lease.id))
            return self._lease_change("lease.expired", lease, updated, now_s, actor, release=releases)
        current = lease
        if current.state is LeaseState.CONFIRMED and now_s >= current.start_s:
            current = change_state(current, LeaseState.ACTIVE, at_s=now_s, actor=actor, reason="start reached")
        if current.state is LeaseState.ACTIVE and now_s >= current.end_s:
            current = change_state(current, LeaseState.ENDED, at_s=now_s, actor=actor, reason="end reached")
        if current is lease:
            return Change()
        return self._lease_change(f"lease.{current.state.value}", lease, current, now_s, actor)

    # -- health and maintenance ---------------------------------------------------
    def set_health(self, node: str, target: Health, *, at_s: int, now_s: int, actor: str, reason: str) -> Change:
        """Record a health change; a failed node in a lease is swapped for a spare or a free node."""
        idx = self._node(node)
        current = HEALTH_CODES[int(self.health[idx])]
        problem = transition_problem(node, current, target)
        if problem is not None:
            raise LeaseRuleError(problem)
        health = HealthChange(node, current, target, at_s, reason)
        event = Event(
            f"node.{target.value}",
            node,
            now_s,
            actor,
            node=node,
            before={"health": current.value},
            after={"health": target.value, "at": at_s, "reason": reason},
        )
        change = Change(health=(health,), events=(event,))
        if target is Health.FAILED:
            change += self._heal(node, at_s, now_s, actor)
        elif target is Health.HEALTHY:
            change += self._restore(node, now_s, actor)
        return change

    def maintenance(self, node: str, *, start_s: int, end_s: int, now_s: int, actor: str, window_id: str) -> Change:
        """Book a maintenance window; a lease on the node must be swapped to a free node or it is refused."""
        self._node(node)
        if start_s >= end_s:
            raise LeaseRuleError("maintenance: start must be before end")
        if start_s < now_s:
            raise LeaseRuleError(f"maintenance: start {start_s} is in the past (now {now_s})")
        clashes = self.ledger.overlapping(node, start_s, end_s)
        change = Change()
        for b in clashes:
            if b.kind is not HolderKind.LEASE:
                raise LeaseRuleError(
                    f"maintenance on {node} refused: held by {b.kind.value} {b.holder} [{b.start_s}, {b.end_s})"
                )
            target = self._replacement(node, max(start_s, b.start_s), b.end_s, self._lease_scope(b.holder), set())
            if target is None:
                raise LeaseRuleError(
                    f"maintenance on {node} refused: lease {b.holder} holds it [{b.start_s}, {b.end_s}) and no free "
                    f"healthy node in its block can take over from {max(start_s, b.start_s)}"
                )
            change += self._swap(b, target, max(start_s, b.start_s), now_s=now_s, actor=actor, why="maintenance")
        drafts = (Draft(node, start_s, end_s, HolderKind.MAINTENANCE, window_id),)
        event = Event(
            "maintenance.booked",
            window_id,
            now_s,
            actor,
            node=node,
            after={"node": node, "start": start_s, "end": end_s},
        )
        return change + Change(book=drafts, events=(event,))

    # -- reads ---------------------------------------------------------------
    def lease(self, lease_id: str) -> Lease:
        lease = self.leases.get(lease_id)
        if lease is None:
            raise NotFound(f"no lease {lease_id!r}")
        return lease

    def lease_nodes(self, lease_id: str) -> list[Booking]:
        return self.ledger.of_holder(lease_id)

    # -- applying ------------------------------------------------------------
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
            for booking in booked:
                self.ledger.restore(booking)
        for lease in change.leases:
            self._store_lease(lease)
        for h in change.health:
            self.health[self.node_index[h.node]] = HEALTH_CODES.index(h.to_state)
        return booked

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
            self.health[self.node_index[node]] = HEALTH_CODES.index(state)

    # -- helpers -------------------------------------------------------------
    def _store_lease(self, lease: Lease) -> None:
        self.leases[lease.id] = lease
        due = _due_time(lease)
        if due is not None:
            heapq.heappush(self._due, (due, lease.id))

    def _node(self, node: str) -> int:
        idx = self.node_index.get(node)
        if idx is None:
            raise NotFound(f"no node {node!r}")
        return idx

    def _event(
        self,
        kind: str,
        lease: Lease,
        now_s: int,
        actor: str,
        *,
        before: dict[str, object] | None,
        after: dict[str, object] | None,
    ) -> Event:
        return Event(kind, lease.id, now_s, actor, tenant=lease.tenant, lease_id=lease.id, before=before, after=after)

    def _lease_change(
        self,
        kind: str,
        before: Lease,
        after: Lease,
        now_s: int,
        actor: str,
        *,
        truncate: tuple[tuple[int, int], ...] = (),
        release: tuple[int, ...] = (),
    ) -> Change:
        event = self._event(kind, after, now_s, actor, before=_lease_view(before), after=_lease_view(after))
        return Change(truncate=truncate, release=release, leases=(after,), events=(event,))

    def _cut_bookings(self, holder: str, at_s: int) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
        truncate: list[tuple[int, int]] = []
        release: list[int] = []
        for b in self.ledger.of_holder(holder):
            if b.end_s <= at_s:
                continue
            if b.start_s >= at_s:
                release.append(b.id)
            else:
                truncate.append((b.id, at_s))
        return tuple(truncate), tuple(release)

    def _split_free(self, bookings: list[Booking], start_s: int, end_s: int) -> tuple[list[Booking], list[Booking]]:
        free: list[Booking] = []
        blocked: list[Booking] = []
        for b in bookings:
            (blocked if self.ledger.overlapping(b.node, start_s, end_s) else free).append(b)
        return free, blocked

    def _holders(self, bookings: list[Booking], start_s: int, end_s: int) -> tuple[str, ...]:
        holders = {
            f"{o.kind.value} {o.holder}" for b in bookings for o in self.ledger.overlapping(b.node, start_s, end_s)
        }
        return tuple(sorted(holders))

    def _swap_targets(
        self, blocked: list[Booking], start_s: int, end_s: int, exclude: set[str]
    ) -> list[tuple[Booking, int]] | str:
        out: list[tuple[Booking, int]] = []
        used = set(exclude)
        for b in blocked:
            target = self._replacement(b.node, start_s, end_s, self._block_mask(b.node), used)
            if target is None:
                block = self.snap.block_names[int(self.snap.node_block[self.node_index[b.node]])]
                return f"node {b.node} is taken after {start_s} and block {block} has no free healthy node to swap in"
            used.add(self.snap.node_ids[target])
            out.append((b, target))
        return out

    def _replacement(
        self, node: str, start_s: int, end_s: int, scope: npt.NDArray[np.bool_], exclude: set[str]
    ) -> int | None:
        """A free, healthy node of the same model and size in ``scope``, same block first."""
        idx = self.node_index[node]
        snap = self.snap
        ok = (
            scope
            & ~self.ledger.unavailable(start_s, end_s)
            & (self.health == HEALTHY_CODE)
            & (snap.node_model == snap.node_model[idx])
            & (snap.node_gpus == snap.node_gpus[idx])
        )
        ok[idx] = False
        for name in exclude:
            ok[self.node_index[name]] = False
        same_block = np.flatnonzero(ok & (snap.node_block == snap.node_block[idx]))
        if same_block.size:
            return int(same_block[0])
        anywhere = np.flatnonzero(ok)
        return int(anywhere[0]) if anywhere.size else None

    def _block_mask(self, node: str) -> npt.NDArray[np.bool_]:
        block = self.snap.node_block[self.node_index[node]]
        mask: npt.NDArray[np.bool_] = self.snap.node_block == block
        return mask

    def _lease_scope(self, lease_id: str) -> npt.NDArray[np.bool_]:
        """Where a lease's replacement nodes may come from: its locality unit(s)."""
        lease = self.leases.get(lease_id)
        nodes = np.array([self.node_index[b.node] for b in self.ledger.of_holder(lease_id)], np.int64)
        locality = lease.request.shape.locality if lease is not None else Locality.BLOCK
        if locality is Locality.NVLINK_DOMAIN:
            locality = Locality.BLOCK  # a whole NVL rack cannot take a tray from elsewhere
        unit_of = {
            Locality.BLOCK: self.snap.node_block,
            Locality.POD: self.snap.node_pod,
            Locality.SITE: self.snap.node_site,
        }.get(locality)
        if unit_of is None or not nodes.size:
            return np.ones(len(self.snap.node_ids), np.bool_)
        return np.isin(unit_of, np.unique(unit_of[nodes]))

    def _heal(self, node: str, at_s: int, now_s: int, actor: str) -> Change:
        change = Change()
        used_spares: set[int] = set()  # one spare booking serves one failed booking
        used_nodes: set[str] = set()
        for b in self.ledger.overlapping(node, at_s, 2**62):
            lease = self.leases.get(b.holder)
            if b.kind is not HolderKind.LEASE or lease is None or lease.state not in LIVE_STATES:
                continue
            from_s = max(at_s, b.start_s)
            spare = self._spare_for(lease.id, node, from_s, b.end_s, exclude=used_spares)
            if spare is not None:
                used_spares.add(spare.id)
                used_nodes.add(spare.node)
                change += Change(
                    truncate=((spare.id, from_s),) if from_s > spare.start_s else (),
                    release=(spare.id,) if from_s <= spare.start_s else (),
                )
                change += self._swap(
                    b, self.node_index[spare.node], from_s, now_s=now_s, actor=actor, why="node failed (spare)"
                )
                continue
            target = self._replacement(node, from_s, b.end_s, self._lease_scope(lease.id), used_nodes)
            if target is not None:
                used_nodes.add(self.snap.node_ids[target])
                change += self._swap(b, target, from_s, now_s=now_s, actor=actor, why="node failed")
                continue
            marked = replace(lease, degraded_nodes=tuple(sorted({*lease.degraded_nodes, node})))
            deficit = Event(
                "lease.degraded",
                lease.id,
                now_s,
                actor,
                tenant=lease.tenant,
                lease_id=lease.id,
                node=node,
                before={"degraded_nodes": list(lease.degraded_nodes)},
                after={
                    "degraded_nodes": list(marked.degraded_nodes),
                    "from": from_s,
                    "reason": "no spare or free healthy node in the lease's locality",
                },
            )
            change += Change(
                leases=(marked,),
                events=(deficit,),
                notes=(f"lease {lease.id} degraded: {node} failed, no replacement",),
            )
        return change

    def _spare_for(
        self, lease_id: str, node: str, start_s: int, end_s: int, exclude: set[int] | None = None
    ) -> Booking | None:
        idx = self.node_index[node]
        for b in self.ledger.of_holder(lease_id):
            if exclude and b.id in exclude:
                continue
            j = self.node_index[b.node]
            if (
                b.kind is HolderKind.SPARE
                and b.start_s <= start_s < b.end_s
                and b.end_s >= end_s
                and self.health[j] == HEALTHY_CODE
                and self.snap.node_model[j] == self.snap.node_model[idx]
            ):
                return b
        return None

    def _swap(self, booking: Booking, target: int, from_s: int, *, now_s: int, actor: str, why: str) -> Change:
        lease = self.leases.get(booking.holder)
        new_node = self.snap.node_ids[target]
        cut = Change(truncate=((booking.id, from_s),)) if from_s > booking.start_s else Change(release=(booking.id,))
        draft = Draft(new_node, from_s, booking.end_s, HolderKind.LEASE, booking.holder)
        event = Event(
            "lease.swapped",
            booking.holder,
            now_s,
            actor,
            tenant=lease.tenant if lease else None,
            lease_id=booking.holder,
            node=booking.node,
            before={"node": booking.node},
            after={"node": new_node, "from": from_s, "reason": why},
        )
        return cut + Change(
            book=(draft,), events=(event,), notes=(f"{booking.holder}: {booking.node} -> {new_node} ({why})",)
        )

    def _restore(self, node: str, now_s: int, actor: str) -> Change:
        """A repaired node stops counting as a deficit of the leases it was left in."""
        change = Change()
        for lease in self.leases.values():
            if node not in lease.degraded_nodes:
                continue
            restored = replace(lease, degraded_nodes=tuple(n for n in lease.degraded_nodes if n != node))
            event = Event(
                "lease.restored",
                lease.id,
                now_s,
                actor,
                tenant=lease.tenant,
                lease_id=lease.id,
                node=node,
                before={"degraded_nodes": list(lease.degraded_nodes)},
                after={"degraded_nodes": list(restored.degraded_nodes)},
            )
            change += Change(leases=(restored,), events=(event,))
        return change

    def _shrink_cuts(
        self, lease_id: str, keep_nodes: int, from_s: int
    ) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
        """Cuts that leave ``keep_nodes`` nodes from ``from_s`` on, at every later moment too.

        A lease's nodes can change over time (an extension on swapped nodes), so the
        count is enforced at ``from_s`` and at every later booking start: bookings
        over the count are cut there, preferring nodes already dropped, then the
        nodes whose blocks hold the fewest of the lease's nodes.
        """
        bookings = [b for b in self.ledger.of_holder(lease_id) if b.kind is HolderKind.LEASE and b.end_s > from_s]
        cut_at: dict[int, int] = {}
        dropped: set[str] = set()
        moments = sorted({from_s} | {b.start_s for b in bookings if b.start_s > from_s})
        for t in moments:
            live = [b for b in bookings if b.start_s <= t < b.end_s and cut_at.get(b.id, b.end_s) > t]
            excess = len(live) - keep_nodes
            if excess <= 0:
                continue
            for b in self._loosest(live, excess, prefer=dropped):
                cut_at[b.id] = t
                dropped.add(b.node)
        bookings_by_id = {b.id: b for b in bookings}
        truncate = tuple((i, t) for i, t in cut_at.items() if t > bookings_by_id[i].start_s)
        release = tuple(i for i, t in cut_at.items() if t <= bookings_by_id[i].start_s)
        return truncate, release

    def _loosest(self, bookings: list[Booking], count: int, prefer: set[str] | None = None) -> list[Booking]:
        """The ``count`` bookings whose removal keeps the lease most compact."""
        block = self.snap.node_block
        per_block: dict[int, int] = {}
        for b in bookings:
            k = int(block[self.node_index[b.node]])
            per_block[k] = per_block.get(k, 0) + 1
        chosen = prefer or set()
        ranked = sorted(
            bookings,
            key=lambda b: (
                b.node not in chosen,
                per_block[int(block[self.node_index[b.node]])],
                -self.node_index[b.node],
            ),
        )
        return ranked[:count]


class Unplaceable(DomainError):
    """A request that does not fit; carries the refusal with its alternatives."""

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        alts = "; ".join(a.description for a in refusal.alternatives)
        super().__init__(refusal.reason + (f". Alternatives: {alts}" if alts else ""))


def _due_time(lease: Lease) -> int | None:
    """When the clock next moves this lease: hold expiry, start or end."""
    if lease.state is LeaseState.HELD:
        return lease.hold_expires_s
    if lease.state is LeaseState.CONFIRMED:
        return lease.start_s
    if lease.state is LeaseState.ACTIVE:
        return lease.end_s
    return None


def _levels(request: LeaseRequest, shape: Shape) -> list[tuple[int, int, int]] | str:
    """Layers (start, end, GPUs) that together give the contracted GPUs over time."""
    if shape.unit is not None or not request.steps:
        return [(request.start_s, request.end_s, shape.gpus or 0)]
    points = [(request.start_s, shape.gpus or 0), *((s.at_s, s.gpus) for s in request.steps)]
    ends = [p[0] for p in points[1:]] + [request.end_s]
    segments = [(s, e, g) for (s, g), e in zip(points, ends, strict=True)]
    levels = sorted({g for _, _, g in segments})
    layers: list[tuple[int, int, int]] = []
    previous = 0
    for level in levels:
        covered = [(s, e) for s, e, g in segments if g >= level]
        start, end = covered[0][0], covered[-1][1]
        if sum(e - s for s, e in covered) != end - start:
            return "steps that go down and up again are not supported; split the lease in two"
        layers.append((start, end, level - previous))
        previous = level
    return layers


def _with_gpus(shape: Shape, gpus: int) -> Shape:
    return shape if shape.unit is not None else replace(shape, gpus=gpus)


def _shifted(request: LeaseRequest, by_s: int) -> LeaseRequest:
    steps = tuple(replace(s, at_s=s.at_s + by_s) for s in request.steps)
    return replace(request, start_s=request.start_s + by_s, end_s=request.end_s + by_s, steps=steps)


def _clip(contract: tuple[Segment, ...], at_s: int) -> tuple[Segment, ...]:
    return tuple(replace(s, end_s=min(s.end_s, at_s)) for s in contract if s.start_s < at_s)


def _lease_view(lease: Lease, gpus: int | None = None) -> dict[str, object]:
    return {
        "state": lease.state.value,
        "tenant": lease.tenant,
        "model": lease.model,
        "gpus": gpus if gpus is not None else lease.gpus,
        "start": lease.start_s,
        "end": lease.end_s,
        "contract": [[seg.start_s, seg.end_s, seg.gpus] for seg in lease.contract],
    }
