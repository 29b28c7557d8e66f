"""Fleet-wide availability: free GPUs per model over a window (tenants too)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from neocloud.api.auth import PrincipalDep, ServicesDep
from neocloud.api.read_cache import cached
from neocloud.api.schemas import PROBLEMS, AvailabilityOut, Instant, json_response, seconds

router = APIRouter(prefix="/v1", tags=["availability"], responses=PROBLEMS)


@router.get("/availability", response_model=list[AvailabilityOut])
def availability(
    *,
    request: Request,
    _: PrincipalDep,
    svc: ServicesDep,
    start: Annotated[Instant, Query(description="Window start, ISO 8601 (UTC).")],
    end: Annotated[Instant, Query(description="Window end (exclusive), ISO 8601 (UTC).")],
    model: Annotated[list[str] | None, Query(description="GPU model(s): repeat or comma-separate.")] = None,
    site: str | None = None,
) -> Any:
    """Free GPUs for the whole window per model, the largest free units and free GPUs over time."""
    models = tuple(m for item in model or [] for m in item.split(",") if m) or None
    start_s, end_s = seconds(start) or 0, seconds(end) or 0

    def render() -> bytes:
        rows = svc.leasing.availability(start_s, end_s, models=models, site=site)
        return bytes(json_response([AvailabilityOut.of(r) for r in rows]).body)

    return cached(request, svc, ("availability", start_s, end_s, models, site), render)
