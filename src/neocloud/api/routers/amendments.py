"""A lease's amendments that the operator makes directly: announced maintenance windows.

Extend, shrink, terminate and swaps record their amendments through the routes that
make them (routers/leases.py, routers/health.py); every lease body lists them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.idempotent import respond
from neocloud.api.schemas import PROBLEMS, LeaseMaintenanceIn, LeaseOut, seconds
from neocloud.domain.leases import Lease
from neocloud.services.idempotency import Claim

router = APIRouter(prefix="/v1/leases", tags=["leases"], responses=PROBLEMS)


@router.post("/{lease_id}/maintenance", status_code=201, response_model=LeaseOut)
def announce_maintenance(
    lease_id: str, body: LeaseMaintenanceIn, who: OperatorDep, svc: ServicesDep, request: Request
) -> Response:
    """Announce a maintenance window on the whole lease (operator only), at least its
    maintenance notice ahead (409 with the reason and the earliest start otherwise);
    the SLA leaves the window out. Honours ``Idempotency-Key``."""

    def act(claim: Claim[Lease] | None) -> Lease:
        start_s, end_s = seconds(body.start) or 0, seconds(body.end) or 0
        return svc.leasing.announce_maintenance(
            lease_id, start_s, end_s, actor=who.actor, reason=body.reason, claim=claim
        )

    return respond(request, who=who, payload=body, status=201, act=act, view=LeaseOut.of)
