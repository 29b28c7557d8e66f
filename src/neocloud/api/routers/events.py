"""The event log: who changed what, when. A tenant sees its own events and the health of its nodes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from neocloud.api.auth import PrincipalDep, ServicesDep
from neocloud.api.schemas import PROBLEMS, EventOut, Instant, PageOut, seconds
from neocloud.domain.changes import EventQuery
from neocloud.services.leasing import MAX_SEQ
from neocloud.services.visibility import Viewer

router = APIRouter(prefix="/v1", tags=["events"], responses=PROBLEMS)


@router.get("/events", response_model=PageOut[EventOut])
def events(
    *,
    who: PrincipalDep,
    svc: ServicesDep,
    lease: str | None = None,
    node: str | None = None,
    tenant: str | None = None,
    kind: Annotated[str | None, Query(description="Kind, or a prefix of it such as 'lease.'.")] = None,
    since: Instant | None = None,
    until: Instant | None = None,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ, description="Only events after this seq (the cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Events in log order; ``next_cursor`` is the ``after`` of the next page. A tenant sees
    its own events and the health events of nodes while its leases held them."""
    query = EventQuery(
        lease_id=lease,
        node=node,
        tenant=tenant,
        kind=kind,
        since_s=seconds(since),
        until_s=seconds(until),
        after_seq=after,
        limit=limit,
    )
    found = svc.visibility.events(Viewer.of(who), query)
    more = str(found[-1].seq) if len(found) == limit else None
    return {"items": [EventOut.of(e) for e in found], "next_cursor": more}
