"""API schemas of a lease's amendments: what changed after booking, in order.

Standalone (``schemas.py`` imports it for :class:`~neocloud.api.schemas.LeaseOut`).
Instants are ISO 8601 UTC. A tenant reads the amendments of its own leases whole:
every node an amendment names is one its lease holds or held, which the tenant sees
in the lease's bookings already (services/visibility.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from neocloud.domain.leases import Amendment, Segment


def _iso(t_s: int) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")


class SegmentOut(BaseModel):
    start: str | None
    end: str | None
    gpus: int

    @classmethod
    def of(cls, s: Segment) -> SegmentOut:
        return cls(start=_iso(s.start_s), end=_iso(s.end_s), gpus=s.gpus)


class NodeMoveOut(BaseModel):
    out: str = Field(description="The node that left the lease.")
    replacement: str | None = Field(description="The node that took over; null: none (released by a shrink).")


class WindowOut(BaseModel):
    start: str
    end: str


class AmendmentOut(BaseModel):
    """One change of the lease after booking (kind: extend, shrink, terminate, swap, maintenance)."""

    kind: str
    at: str = Field(description="When it was recorded.")
    effective: str = Field(description="From when it changes what is delivered.")
    actor: str
    reason: str
    before: list[SegmentOut] = Field(description="The whole contract before it.")
    after: list[SegmentOut] = Field(description="The whole contract after it (equal for swap and maintenance).")
    nodes: list[NodeMoveOut]
    window: WindowOut | None = Field(description="A maintenance window [start, end) the SLA leaves out.")

    @classmethod
    def of(cls, a: Amendment) -> AmendmentOut:
        return cls(
            kind=a.kind.value,
            at=_iso(a.at_s),
            effective=_iso(a.effective_s),
            actor=a.actor,
            reason=a.reason,
            before=[SegmentOut.of(s) for s in a.before],
            after=[SegmentOut.of(s) for s in a.after],
            nodes=[NodeMoveOut(out=out, replacement=into) for out, into in a.nodes],
            window=None if a.window is None else WindowOut(start=_iso(a.window[0]), end=_iso(a.window[1])),
        )
