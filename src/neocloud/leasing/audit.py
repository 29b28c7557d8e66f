"""The audit shape of every leasing decision: one place builds each kind of event."""

from __future__ import annotations

from typing import Any

from neocloud.domain.changes import Change, Event
from neocloud.domain.leases import Lease


def lease_view(lease: Lease, gpus: int | None = None) -> dict[str, object]:
    """What a lease event records of the lease before and after."""
    return {
        "state": lease.state.value,
        "tenant": lease.tenant,
        "model": lease.model,
        "gpus": gpus if gpus is not None else lease.gpus,
        "start": lease.start_s,
        "end": lease.end_s,
        "contract": [[seg.start_s, seg.end_s, seg.gpus] for seg in lease.contract],
    }


def lease_event(
    kind: str,
    lease: Lease,
    now_s: int,
    actor: str,
    *,
    node: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    """An event about ``lease`` (its tenant and id recorded for filtering)."""
    return Event(
        kind, lease.id, now_s, actor, tenant=lease.tenant, lease_id=lease.id, node=node, before=before, after=after
    )


def lease_change(
    kind: str,
    before: Lease,
    after: Lease,
    now_s: int,
    actor: str,
    *,
    truncate: tuple[tuple[int, int], ...] = (),
    release: tuple[int, ...] = (),
) -> Change:
    """A lease record replaced, with the event saying what it was and what it is."""
    event = lease_event(kind, after, now_s, actor, before=lease_view(before), after=lease_view(after))
    return Change(truncate=truncate, release=release, leases=(after,), events=(event,))


def node_event(
    kind: str,
    node: str,
    now_s: int,
    actor: str,
    *,
    subject: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> Event:
    """An event about a node (health, maintenance) that names no tenant."""
    return Event(kind, subject or node, now_s, actor, node=node, before=before, after=after)
