"""The custody trail of a GPU or node: operator only (a tenant key gets 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.schemas import PROBLEMS
from neocloud.api.schemas_custody import CustodyOut
from neocloud.services.visibility import Viewer

router = APIRouter(prefix="/v1/custody", tags=["custody"], responses=PROBLEMS)


@router.get("/{serial}", response_model=CustodyOut, response_model_by_alias=True)
def custody(
    serial: Annotated[str, Path(min_length=1, max_length=200, description="A GPU serial, a node serial or a node id.")],
    who: OperatorDep,
    svc: ServicesDep,
) -> CustodyOut:
    """Where the GPU or node sits, every health record, who held it when (leases, spares,
    pools, maintenance; swaps in and out), and what each tenant was billed and credited
    for it; 404 naming ``serial`` when nothing in the fleet has it."""
    return CustodyOut.of(svc.custody.trail(serial, viewer=Viewer.of(who)))
