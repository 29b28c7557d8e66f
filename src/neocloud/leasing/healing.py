"""Health and maintenance: record a node's health, heal the leases it was in.

A failed node in a live lease is swapped for the lease's spare (same model, same
unit), else for a free healthy node in the lease's locality (same block first);
with neither, the lease is marked degraded until the node is healthy again. A
maintenance window is booked only if every lease on the node can move off it.

Every swap (a failed node healed, a node moved off for maintenance) appends exactly
one typed ``swap`` :class:`Amendment` to its lease, besides its event. A change
reported late (``at_s`` before ``now_s``) stands in the health log from ``at_s``,
but the healing happens now: a replacement cannot have served the past, so the
lease is short of the failed node from ``at_s`` until the swap.

:func:`announce_maintenance` is the other kind of maintenance: a window on a whole
lease, announced at least the contract's notice ahead, which its SLA does not count.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from neocloud.domain.changes import Change, Event, HealthChange
from neocloud.domain.errors import Instant, RequestError
from neocloud.domain.health import Health, transition_problem
from neocloud.domain.leases import LIVE_STATES, Amendment, AmendmentKind, Lease, LeaseRuleError, amend
from neocloud.domain.ledger import FOREVER_S, Booking, Draft, HolderKind
from neocloud.domain.shape import Locality
from neocloud.leasing.audit import lease_event, node_event
from neocloud.leasing.plan import scope_mask
from neocloud.leasing.view import LedgerView
from neocloud.placement.snapshot import HEALTH_CODES, HEALTHY_CODE

BoolArray = npt.NDArray[np.bool_]


def set_health(
    view: LedgerView, node: str, target: Health, *, at_s: int, now_s: int, actor: str, reason: str
) -> Change:
    """Record a health change; a failed node in a lease is swapped for a spare or a free node."""
    current = HEALTH_CODES[int(view.health[view.node(node)])]
    problem = transition_problem(node, current, target)
    if problem is not None:
        raise LeaseRuleError(problem)  # no facts: the text is shown as it is
    health = HealthChange(node, current, target, at_s, reason)
    after = {"health": target.value, "at": at_s, "reason": reason}
    event = node_event(f"node.{target.value}", node, now_s, actor, before={"health": current.value}, after=after)
    change = Change(health=(health,), events=(event,))
    if target is Health.FAILED:
        change += heal(view, node, at_s, now_s, actor)
    elif target is Health.HEALTHY:
        change += restore(view, node, now_s, actor)
    return change


def maintenance(
    view: LedgerView, node: str, *, start_s: int, end_s: int, now_s: int, actor: str, window_id: str
) -> Change:
    """Book a maintenance window; a lease on the node must be swapped to a free node or it is refused."""
    view.node(node)
    if start_s >= end_s:
        raise LeaseRuleError("maintenance: start must be before end")
    if start_s < now_s:
        raise LeaseRuleError(
            "maintenance: start {start} is in the past (now {now})", start=Instant(start_s), now=Instant(now_s)
        )
    change = Change()
    touched: dict[str, Lease] = {}  # each lease record once, with all of its swaps
    for b in view.ledger.overlapping(node, start_s, end_s):
        facts = {"node": node, "start": Instant(b.start_s), "end": Instant(b.end_s), "_holder": f"{b.kind} {b.holder}"}
        if b.kind is not HolderKind.LEASE:
            raise LeaseRuleError(
                "maintenance on {node} refused: it is held [{start}, {end})", private="by {_holder}", **facts
            )
        from_s = max(start_s, b.start_s)
        target = replacement(view, node, from_s, b.end_s, scope=lease_scope(view, b.holder), exclude=set())
        if target is None:
            raise LeaseRuleError(
                "maintenance on {node} refused: a lease holds it [{start}, {end}) and no free healthy node in "
                "its block can take over from {from_}",
                private="lease {_holder}",
                from_=Instant(from_s),
                **facts,
            )
        change += swap(view, b, target, from_s, now_s=now_s, actor=actor, why="maintenance", touched=touched)
    drafts = (Draft(node, start_s, end_s, HolderKind.MAINTENANCE, window_id),)
    after = {"node": node, "start": start_s, "end": end_s}
    event = node_event("maintenance.booked", node, now_s, actor, subject=window_id, after=after)
    return change + Change(book=drafts, leases=tuple(touched.values()), events=(event,))


def announce_maintenance(
    view: LedgerView, lease_id: str, *, start_s: int, end_s: int, now_s: int, actor: str, reason: str
) -> Change:
    """Announce a maintenance window ``[start_s, end_s)`` on a whole lease: one
    ``maintenance`` amendment the SLA leaves out (the contract is unchanged, nothing is
    booked). Refused unless the lease is live, the window lies within its term, does
    not overlap a window already announced, and starts at least the contract's
    ``maintenance_notice_s`` after ``now_s``."""
    lease = view.lease(lease_id)
    if start_s >= end_s:
        raise RequestError(["end: the window must end after its start"])
    if lease.state not in LIVE_STATES:
        raise LeaseRuleError(
            "lease {lease} is {state}: only a held, confirmed or active lease takes a maintenance window",
            lease=lease_id,
            state=lease.state.value,
        )
    _refuse_window(lease, start_s, end_s, now_s)
    window = (start_s, end_s)
    terms = Amendment(
        AmendmentKind.MAINTENANCE, now_s, start_s, actor, reason, lease.contract, lease.contract, window=window
    )
    updated = amend(lease, terms)
    after = {"start": start_s, "end": end_s, "reason": reason}
    event = lease_event("lease.maintenance_announced", updated, now_s, actor, after=after)
    return Change(leases=(updated,), events=(event,))


def heal(view: LedgerView, node: str, at_s: int, now_s: int, actor: str) -> Change:
    """Swap ``node`` out of every live lease it serves from now on (it failed at
    ``at_s``, now or earlier); a lease left without a replacement is degraded from
    ``at_s``. Each swap appends one ``swap`` amendment to its lease."""
    change = Change()
    used_spares: set[int] = set()  # one spare booking serves one failed booking
    used_nodes: set[str] = set()
    touched: dict[str, Lease] = {}  # each lease record once, with all of its amendments
    for b in view.ledger.overlapping(node, now_s, FOREVER_S):
        lease = view.leases.get(b.holder)
        if b.kind is not HolderKind.LEASE or lease is None or lease.state not in LIVE_STATES:
            continue
        from_s = max(now_s, b.start_s)
        spare = _spare_for(view, lease.id, node, from_s, b.end_s, exclude=used_spares)
        if spare is not None:
            used_spares.add(spare.id)
            used_nodes.add(spare.node)
            change += Change(
                truncate=((spare.id, from_s),) if from_s > spare.start_s else (),
                release=(spare.id,) if from_s <= spare.start_s else (),
            )
            why = "node failed (spare)"
            change += swap(view, b, view.node(spare.node), from_s, now_s=now_s, actor=actor, why=why, touched=touched)
            continue
        target = replacement(view, node, from_s, b.end_s, scope=lease_scope(view, lease.id), exclude=used_nodes)
        if target is not None:
            used_nodes.add(view.snap.node_ids[target])
            change += swap(view, b, target, from_s, now_s=now_s, actor=actor, why="node failed", touched=touched)
            continue
        change += _degrade(touched.get(lease.id, lease), node, max(at_s, b.start_s), now_s, actor, touched=touched)
    return change + Change(leases=tuple(touched.values()))


def restore(view: LedgerView, node: str, now_s: int, actor: str) -> Change:
    """A repaired node stops counting as a deficit of the leases it was left in."""
    change = Change()
    for lease in view.leases.values():
        if node not in lease.degraded_nodes:
            continue
        restored = replace(lease, degraded_nodes=tuple(n for n in lease.degraded_nodes if n != node))
        event = lease_event(
            "lease.restored",
            lease,
            now_s,
            actor,
            node=node,
            before={"degraded_nodes": list(lease.degraded_nodes)},
            after={"degraded_nodes": list(restored.degraded_nodes)},
        )
        change += Change(leases=(restored,), events=(event,))
    return change


def replacement(
    view: LedgerView, node: str, start_s: int, end_s: int, *, scope: BoolArray, exclude: set[str]
) -> int | None:
    """A free, healthy node of the same model and size in ``scope``, same block first."""
    idx = view.node(node)
    snap = view.snap
    ok = (
        scope
        & view.eligible(start_s, end_s)
        & (snap.node_model == snap.node_model[idx])
        & (snap.node_gpus == snap.node_gpus[idx])
    )
    ok[idx] = False
    for name in exclude:
        ok[view.node(name)] = False
    same_block = np.flatnonzero(ok & (snap.node_block == snap.node_block[idx]))
    if same_block.size:
        return int(same_block[0])
    anywhere = np.flatnonzero(ok)
    return int(anywhere[0]) if anywhere.size else None


def block_mask(view: LedgerView, node: str) -> BoolArray:
    """The nodes of ``node``'s fabric block."""
    mask: BoolArray = view.snap.node_block == view.snap.node_block[view.node(node)]
    return mask


def lease_scope(view: LedgerView, lease_id: str) -> BoolArray:
    """Where a lease's replacement nodes may come from: its locality unit(s)."""
    lease = view.leases.get(lease_id)
    nodes = np.array([view.node(b.node) for b in view.ledger.of_holder(lease_id)], np.int64)
    locality = lease.request.shape.locality if lease is not None else Locality.BLOCK
    if locality is Locality.NVLINK_DOMAIN:
        locality = Locality.BLOCK  # a whole NVL rack cannot take a tray from elsewhere
    return scope_mask(view, nodes, locality)


def swap(
    view: LedgerView,
    booking: Booking,
    target: int,
    from_s: int,
    *,
    now_s: int,
    actor: str,
    why: str,
    touched: dict[str, Lease],
) -> Change:
    """Move ``booking`` to node ``target`` from ``from_s`` on. Its lease gets one ``swap``
    amendment, recorded in ``touched`` (lease id -> the record as amended so far in
    this decision): the caller writes each touched lease once."""
    lease = touched.get(booking.holder) or view.leases.get(booking.holder)
    new_node = view.snap.node_ids[target]
    if lease is not None:
        moved = ((booking.node, new_node),)
        touched[lease.id] = amend(
            lease,
            Amendment(AmendmentKind.SWAP, now_s, from_s, actor, why, lease.contract, lease.contract, moved),
        )
    cut = Change(truncate=((booking.id, from_s),)) if from_s > booking.start_s else Change(release=(booking.id,))
    draft = Draft(new_node, from_s, booking.end_s, booking.kind, booking.holder)
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
    note = f"{booking.holder}: {booking.node} -> {new_node} ({why})"
    return cut + Change(book=(draft,), events=(event,), notes=(note,))


def _refuse_window(lease: Lease, start_s: int, end_s: int, now_s: int) -> None:
    start, end = Instant(start_s), Instant(end_s)
    if start_s < lease.start_s or end_s > lease.end_s:
        raise LeaseRuleError(
            "maintenance on {lease} [{start}, {end}): outside the lease's term [{from_}, {to})",
            lease=lease.id,
            from_=Instant(lease.start_s),
            to=Instant(lease.end_s),
            start=start,
            end=end,
        )
    notice = lease.request.maintenance_notice_s
    if start_s - now_s < notice:
        raise LeaseRuleError(
            "maintenance on {lease} from {start}: announced {given} ahead, but its contract requires {notice} "
            "of notice; the earliest start announced now is {earliest}",
            given=_span(max(start_s - now_s, 0)),
            notice=_span(notice),
            earliest=Instant(now_s + notice),
            lease=lease.id,
            start=start,
            end=end,
        )
    for s, e in lease.maintenance_windows:
        if s < end_s and start_s < e:
            raise LeaseRuleError(
                "maintenance on {lease} [{start}, {end}): overlaps the window [{s}, {e}) already announced",
                s=Instant(s),
                e=Instant(e),
                lease=lease.id,
                start=start,
                end=end,
            )


def _span(seconds: int) -> str:
    """``7 days``, ``36 hours``, ``90 minutes``, ``0 seconds``: a notice as people say it."""
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _degrade(lease: Lease, node: str, from_s: int, now_s: int, actor: str, *, touched: dict[str, Lease]) -> Change:
    marked = replace(lease, degraded_nodes=tuple(sorted({*lease.degraded_nodes, node})))
    touched[lease.id] = marked
    event = lease_event(
        "lease.degraded",
        lease,
        now_s,
        actor,
        node=node,
        before={"degraded_nodes": list(lease.degraded_nodes)},
        after={
            "degraded_nodes": list(marked.degraded_nodes),
            "from": from_s,
            "reason": "no spare or free healthy node in the lease's locality",
        },
    )
    return Change(events=(event,), notes=(f"lease {lease.id} degraded: {node} failed, no replacement",))


def _spare_for(
    view: LedgerView, lease_id: str, node: str, start_s: int, end_s: int, *, exclude: set[int]
) -> Booking | None:
    idx = view.node(node)
    healthy = view.health == HEALTHY_CODE
    for b in view.ledger.of_holder(lease_id):
        if b.id in exclude:
            continue
        j = view.node(b.node)
        if (
            b.kind is HolderKind.SPARE
            and b.start_s <= start_s < b.end_s
            and b.end_s >= end_s
            and healthy[j]
            and view.snap.node_model[j] == view.snap.node_model[idx]
        ):
            return b
    return None
