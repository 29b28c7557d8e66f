"""The event log: who changed what, when. Tenants see only their own tenant's events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from neocloud.api.auth import PrincipalDep, ServicesDep, tenant_scope
from neocloud.api.schemas import PROBLEMS, EventOut, Instant, PageOut, seconds
from neocloud.domain.changes import EventQuery
from neocloud.services.leasing import MAX_SEQ

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
    """Events in log order; ``next_cursor`` is the ``after`` of the next page."""
    query = EventQuery(
        lease_id=lease,
        node=node,
        tenant=tenant_scope(who, tenant),
        kind=kind,
        since_s=seconds(since),
        until_s=seconds(until),
        after_seq=after,
        limit=limit,
    )
    found = svc.leasing.events(query)
    more = str(found[-1].seq) if len(found) == limit else None
    return {"items": [EventOut.of(e) for e in found], "next_cursor": more}
