"""The lease lifecycle: book, confirm, cancel, terminate, extend, shrink, and the clock.

Each function reads the view and returns a :class:`Change` (and the new lease where
one is made); nothing here changes the view. Extend, shrink and terminate each
append exactly one typed :class:`Amendment` to the lease (the contract before and
after), besides their event. Refusals carry their times and counts
as facts (``{at}``-style templates over :class:`Instant` values), so every edge
renders them in its own format, never as epoch seconds.
"""

from __future__ import annotations

from dataclasses import replace

from neocloud.domain.changes import Change, Event
from neocloud.domain.errors import Instant, RequestError, minutes_utc
from neocloud.domain.health import DOWN
from neocloud.domain.leases import (
    LIVE_STATES,
    Amendment,
    AmendmentKind,
    HeldByOthers,
    Lease,
    LeaseRuleError,
    LeaseState,
    Segment,
    amend,
    change_state,
    clip_contract,
    with_credit_terms,
)
from neocloud.domain.ledger import Booking, Draft, HolderKind
from neocloud.domain.shape import Shape
from neocloud.leasing.audit import lease_change, lease_event, lease_view
from neocloud.leasing.healing import block_mask, replacement
from neocloud.leasing.quote import Quote, Refusal, Unplaceable
from neocloud.leasing.view import LedgerView
from neocloud.placement.carve import Infeasible, carve
from neocloud.placement.snapshot import HEALTH_CODES


def book(
    view: LedgerView, quote: Quote, *, lease_id: str, now_s: int, actor: str, hold_s: int | None = None
) -> tuple[Lease, Change]:
    """Book a quote: held for ``hold_s`` seconds when given, else confirmed. The lease
    records the SLA credit tiers it is signed with (the defaults where none are stated)."""
    if lease_id in view.leases:
        raise LeaseRuleError("lease {lease} already exists", lease=lease_id)
    request = with_credit_terms(quote.request)
    down = tuple(sorted(n for n in quote.nodes if HEALTH_CODES[int(view.health[view.node(n)])] in DOWN))
    lease = Lease(lease_id, request, LeaseState.QUOTED, quote.model, quote.contract, now_s, degraded_nodes=down)
    target = LeaseState.HELD if hold_s is not None else LeaseState.CONFIRMED
    reason = f"held for {hold_s} s" if hold_s is not None else "booked"
    lease = change_state(lease, target, at_s=now_s, actor=actor, reason=reason)
    if hold_s is not None:
        lease = replace(lease, hold_expires_s=now_s + hold_s)
    drafts = [
        Draft(node, layer.start_s, layer.end_s, HolderKind.LEASE, lease_id)
        for layer in quote.layers
        for node in layer.nodes
    ]
    drafts += [Draft(n, request.start_s, request.end_s, HolderKind.SPARE, lease_id) for n in quote.spares]
    event = lease_event("lease.created", lease, now_s, actor, after=lease_view(lease, quote.gpus))
    return lease, Change(book=tuple(drafts), leases=(lease,), events=(event,))


def assign_pool(
    view: LedgerView, pool: str, shape: Shape, *, start_s: int, end_s: int, now_s: int, actor: str
) -> Change:
    """Hold capacity for an internal pool (training, spot resale, spares) over a window."""
    if not pool.strip():
        raise RequestError(["pool: must not be empty"])
    if start_s >= end_s:
        raise RequestError(["start: must be before end"])
    if start_s < now_s:
        raise RequestError(["start: is in the past"])
    counted = shape.unit is None
    free = view.eligible(start_s, end_s) if counted else view.free(start_s, end_s)
    placed = carve(view.snap, free, shape)
    if isinstance(placed, Infeasible):
        raise Unplaceable(Refusal(f"pool {pool}: {placed.reason}"))
    drafts = tuple(Draft(view.snap.node_ids[i], start_s, end_s, HolderKind.POOL, pool) for i in placed.nodes)
    after = {"pool": pool, "model": placed.model, "gpus": placed.gpus, "start": start_s, "end": end_s}
    return Change(book=drafts, events=(Event("pool.assigned", pool, now_s, actor, after=after),))


def confirm(view: LedgerView, lease_id: str, *, now_s: int, actor: str) -> Change:
    lease = view.lease(lease_id)
    if lease.state is LeaseState.HELD and lease.hold_expires_s is not None and now_s >= lease.hold_expires_s:
        raise LeaseRuleError(
            "lease {lease}: the hold expired at {expired}; quote again",
            lease=lease_id,
            expired=Instant(lease.hold_expires_s),
        )
    updated = replace(
        change_state(lease, LeaseState.CONFIRMED, at_s=now_s, actor=actor, reason="confirmed"), hold_expires_s=None
    )
    return lease_change("lease.confirmed", lease, updated, now_s, actor)


def cancel(view: LedgerView, lease_id: str, *, now_s: int, actor: str, reason: str = "cancelled") -> Change:
    lease = view.lease(lease_id)
    if lease.state is LeaseState.ACTIVE:
        raise LeaseRuleError(
            "lease {lease} is active since {start}; terminate it instead", lease=lease_id, start=Instant(lease.start_s)
        )
    updated = change_state(lease, LeaseState.CANCELLED, at_s=now_s, actor=actor, reason=reason)
    releases = tuple(b.id for b in view.ledger.of_holder(lease_id))
    return lease_change("lease.cancelled", lease, updated, now_s, actor, release=releases)


def terminate(view: LedgerView, lease_id: str, *, at_s: int, now_s: int, actor: str) -> Change:
    """End an active lease early at ``at_s`` (not in the past); nodes free from then."""
    lease = view.lease(lease_id)
    if lease.state is not LeaseState.ACTIVE:
        hint = "; cancel it instead" if lease.state in (LeaseState.HELD, LeaseState.CONFIRMED) else ""
        raise LeaseRuleError(
            "lease {lease} is {state}: only an active lease can be terminated" + hint,
            lease=lease_id,
            state=lease.state.value,
        )
    if at_s < now_s:
        raise LeaseRuleError("terminate at {at}: that is in the past (now {now})", at=Instant(at_s), now=Instant(now_s))
    if at_s >= lease.end_s:
        raise LeaseRuleError(
            "terminate at {at}: the lease already ends at {end}", at=Instant(at_s), end=Instant(lease.end_s)
        )
    reason = f"effective {minutes_utc(at_s)}"
    updated = change_state(lease, LeaseState.TERMINATED, at_s=now_s, actor=actor, reason=reason)
    terms = Amendment(
        AmendmentKind.TERMINATE,
        now_s,
        at_s,
        actor,
        "ended early",
        lease.contract,
        clip(lease.contract, at_s),
    )
    updated = amend(updated, terms)
    truncate, release = _cut_bookings(view, lease_id, at_s)
    return lease_change("lease.terminated", lease, updated, now_s, actor, truncate=truncate, release=release)


def extend(
    view: LedgerView, lease_id: str, new_end_s: int, *, now_s: int, actor: str, allow_swap: bool = False
) -> Change:
    """Move the end later; conflicting nodes may be swapped for free nodes of the same block."""
    lease = view.lease(lease_id)
    if lease.state not in LIVE_STATES:
        raise LeaseRuleError(
            "lease {lease} is {state}: only held, confirmed or active leases extend",
            lease=lease_id,
            state=lease.state.value,
        )
    old_end = lease.end_s
    if new_end_s <= old_end:
        raise LeaseRuleError(
            "extend to {end}: the lease already ends at {old_end}; use shrink or terminate",
            end=Instant(new_end_s),
            old_end=Instant(old_end),
        )
    tail = [b for b in view.ledger.of_holder(lease_id) if b.end_s == old_end]
    blocked = [b for b in tail if view.ledger.overlapping(b.node, old_end, new_end_s)]
    keep = [b for b in tail if b not in blocked]
    swaps: list[tuple[Booking, int]] = []
    if blocked:
        found = _swap_targets(view, blocked, old_end, new_end_s, exclude={b.node for b in tail})
        facts = {"lease": lease_id, "end": Instant(new_end_s), "blocked": len(blocked), "after": Instant(old_end)}
        holders = _holders(view, blocked, old_end, new_end_s)
        if found is None:
            raise LeaseRuleError(
                "extend {lease} to {end} refused: {blocked} of its nodes are booked after {after} and their "
                "blocks have no free healthy node to take over",
                private="held by {_holders}",
                _holders=", ".join(holders),
                **facts,
            )
        if not allow_swap:
            moves = tuple((b.node, view.snap.node_ids[t]) for b, t in found)
            raise HeldByOthers(lease_id, new_end_s, len(blocked), old_end, holders, moves)
        swaps = found
    drafts = [Draft(b.node, old_end, new_end_s, b.kind, lease_id) for b in keep]
    drafts += [Draft(view.snap.node_ids[t], old_end, new_end_s, b.kind, lease_id) for b, t in swaps]
    contract = (*lease.contract[:-1], replace(lease.contract[-1], end_s=new_end_s))
    moved: tuple[tuple[str, str | None], ...] = tuple((b.node, view.snap.node_ids[t]) for b, t in swaps)
    reason = "extended" + (f", {len(moved)} node(s) swapped for free ones" if moved else "")
    updated = amend(
        lease, Amendment(AmendmentKind.EXTEND, now_s, old_end, actor, reason, lease.contract, contract, moved)
    )
    notes = tuple(f"swapped {b.node} for {view.snap.node_ids[t]}" for b, t in swaps)
    return lease_change("lease.extended", lease, updated, now_s, actor) + Change(book=tuple(drafts), notes=notes)


def shrink(view: LedgerView, lease_id: str, gpus: int, *, from_s: int | None, now_s: int, actor: str) -> Change:
    """From ``from_s`` on, hold ``gpus`` GPUs: the lease's loosest nodes are released.

    Without ``from_s``: from now, or from its start for a lease that has not started.
    """
    lease = view.lease(lease_id)
    if lease.state not in LIVE_STATES:
        raise LeaseRuleError(
            "lease {lease} is {state}: only live leases shrink", lease=lease_id, state=lease.state.value
        )
    if lease.request.shape.unit is not None:
        raise LeaseRuleError("lease {lease} holds whole units; it cannot shrink by GPU count", lease=lease_id)
    at_s = max(now_s, lease.start_s) if from_s is None else from_s
    if at_s < now_s or not lease.start_s <= at_s < lease.end_s:
        raise LeaseRuleError(
            "shrink from {at}: must be now or later, within the lease [{start}, {end})",
            at=Instant(at_s),
            start=Instant(lease.start_s),
            end=Instant(lease.end_s),
        )
    if any(s.start_s > at_s for s in lease.contract):
        raise LeaseRuleError(
            "shrink from {at}: the lease has steps after that; shrink after its last step", at=Instant(at_s)
        )
    held = lease.contracted_at(at_s)
    live = [b for b in view.ledger.of_holder(lease_id) if b.kind is HolderKind.LEASE and b.start_s <= at_s < b.end_s]
    per_node = view.node_gpus(live[0].node) if live else 1
    if not 0 < gpus < held or (held - gpus) % per_node:
        raise LeaseRuleError(
            "shrink to {gpus}: must be fewer than the {held} GPUs held and leave whole {per_node}-GPU nodes",
            gpus=gpus,
            held=held,
            per_node=per_node,
        )
    truncate, release = _shrink_cuts(view, lease_id, gpus // per_node, at_s)
    contract = (*clip(lease.contract, at_s), Segment(at_s, lease.end_s, gpus))
    node_of = {b.id: b.node for b in view.ledger.of_holder(lease_id)}
    dropped = sorted({node_of[i] for i in (*(i for i, _ in truncate), *release)})
    released: tuple[tuple[str, str | None], ...] = tuple((n, None) for n in dropped)
    reason = "shrunk"
    terms = Amendment(AmendmentKind.SHRINK, now_s, at_s, actor, reason, lease.contract, contract, released)
    updated = amend(lease, terms)
    return lease_change("lease.shrunk", lease, updated, now_s, actor, truncate=truncate, release=release)


def tick(view: LedgerView, now_s: int, actor: str = "clock") -> Change:
    """Expire holds, start and end leases whose time has come.

    Only leases due by ``now_s`` are looked at (the view's heap of due times), so a
    tick costs nothing when nothing is due. Reading changes nothing: apply the change.
    """
    change = Change()
    for lease in view.due(now_s):
        change += _advance(view, lease, now_s, actor)
    return change


def clip(contract: tuple[Segment, ...], at_s: int) -> tuple[Segment, ...]:
    """The contract up to ``at_s`` (the domain's rule, which amendments are checked by)."""
    return clip_contract(contract, at_s)


# -- helpers ----------------------------------------------------------------------
def _advance(view: LedgerView, lease: Lease, now_s: int, actor: str) -> Change:
    if lease.state is LeaseState.HELD and lease.hold_expires_s is not None and now_s >= lease.hold_expires_s:
        updated = change_state(lease, LeaseState.EXPIRED, at_s=now_s, actor=actor, reason="hold expired")
        releases = tuple(b.id for b in view.ledger.of_holder(lease.id))
        return lease_change("lease.expired", lease, updated, now_s, actor, release=releases)
    current = lease
    if current.state is LeaseState.CONFIRMED and now_s >= current.start_s:
        current = change_state(current, LeaseState.ACTIVE, at_s=now_s, actor=actor, reason="start reached")
    if current.state is LeaseState.ACTIVE and now_s >= current.end_s:
        current = change_state(current, LeaseState.ENDED, at_s=now_s, actor=actor, reason="end reached")
    if current is lease:
        return Change()
    return lease_change(f"lease.{current.state.value}", lease, current, now_s, actor)


def _cut_bookings(view: LedgerView, holder: str, at_s: int) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    truncate: list[tuple[int, int]] = []
    release: list[int] = []
    for b in view.ledger.of_holder(holder):
        if b.end_s <= at_s:
            continue
        if b.start_s >= at_s:
            release.append(b.id)
        else:
            truncate.append((b.id, at_s))
    return tuple(truncate), tuple(release)


def _holders(view: LedgerView, bookings: list[Booking], start_s: int, end_s: int) -> tuple[str, ...]:
    found = {f"{o.kind.value} {o.holder}" for b in bookings for o in view.ledger.overlapping(b.node, start_s, end_s)}
    return tuple(sorted(found))


def _swap_targets(
    view: LedgerView, blocked: list[Booking], start_s: int, end_s: int, exclude: set[str]
) -> list[tuple[Booking, int]] | None:
    out: list[tuple[Booking, int]] = []
    used = set(exclude)
    for b in blocked:
        target = replacement(view, b.node, start_s, end_s, scope=block_mask(view, b.node), exclude=used)
        if target is None:
            return None
        used.add(view.snap.node_ids[target])
        out.append((b, target))
    return out


def _shrink_cuts(
    view: LedgerView, lease_id: str, keep_nodes: int, from_s: int
) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """Cuts that leave ``keep_nodes`` nodes from ``from_s`` on, at every later moment too.

    A lease's nodes can change over time (an extension on swapped nodes), so the
    count is enforced at ``from_s`` and at every later booking start: bookings
    over the count are cut there, preferring nodes already dropped, then the
    nodes whose blocks hold the fewest of the lease's nodes.
    """
    bookings = [b for b in view.ledger.of_holder(lease_id) if b.kind is HolderKind.LEASE and b.end_s > from_s]
    cut_at: dict[int, int] = {}
    dropped: set[str] = set()
    moments = sorted({from_s} | {b.start_s for b in bookings if b.start_s > from_s})
    for t in moments:
        live = [b for b in bookings if b.start_s <= t < b.end_s and cut_at.get(b.id, b.end_s) > t]
        excess = len(live) - keep_nodes
        if excess <= 0:
            continue
        for b in _loosest(view, live, excess, prefer=dropped):
            cut_at[b.id] = t
            dropped.add(b.node)
    by_id = {b.id: b for b in bookings}
    truncate = tuple((i, t) for i, t in cut_at.items() if t > by_id[i].start_s)
    release = tuple(i for i, t in cut_at.items() if t <= by_id[i].start_s)
    return truncate, release


def _loosest(view: LedgerView, bookings: list[Booking], count: int, prefer: set[str]) -> list[Booking]:
    """The ``count`` bookings whose removal keeps the lease most compact."""
    block = view.snap.node_block
    index = view.ledger.node_index
    per_block: dict[int, int] = {}
    for b in bookings:
        k = int(block[index[b.node]])
        per_block[k] = per_block.get(k, 0) + 1
    ranked = sorted(
        bookings,
        key=lambda b: (b.node not in prefer, per_block[int(block[index[b.node]])], -index[b.node]),
    )
    return ranked[:count]
