"""The cost model over the served fleet: operator only (a tenant key gets 403)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.schemas import PROBLEMS
from neocloud.api.schemas_economics import FleetTcoOut

router = APIRouter(prefix="/v1/economics", tags=["economics"], responses=PROBLEMS)


@router.get("/tco", response_model=FleetTcoOut)
def tco(
    _: OperatorDep,
    svc: ServicesDep,
    site: str | None = Query(None, max_length=200, description="Only this site"),
    model: str | None = Query(None, max_length=200, description="Only this GPU model"),
) -> FleetTcoOut:
    """The owner's TCO per GPU-hour and per MW-year of IT load, per site and GPU model, with
    the breakdown and every input's source; 422 for a site or model the fleet lacks."""
    result = svc.cost.fleet_tco(site=site, model=model)
    return FleetTcoOut.of(result, svc.cost.assumptions())
