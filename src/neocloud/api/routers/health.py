"""Node health and maintenance windows: operator only. Each honours ``Idempotency-Key``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.idempotent import respond
from neocloud.api.schemas import PROBLEMS, ChangeOut, HealthIn, MaintenanceIn, seconds
from neocloud.domain.access import Principal
from neocloud.domain.changes import Change
from neocloud.domain.health import Health
from neocloud.services.container import Services
from neocloud.services.idempotency import Claim

router = APIRouter(prefix="/v1", tags=["health"], responses=PROBLEMS)


@router.post("/nodes/{node_id}/failure", response_model=ChangeOut)
def failure(
    node_id: str, who: OperatorDep, svc: ServicesDep, request: Request, body: HealthIn | None = None
) -> Response:
    """The node failed: its lease is healed from a spare or a free node, or marked degraded."""
    return _set(request, who, svc, node_id, Health.FAILED, body or HealthIn())


@router.post("/nodes/{node_id}/repair", response_model=ChangeOut)
def repair(
    node_id: str, who: OperatorDep, svc: ServicesDep, request: Request, body: HealthIn | None = None
) -> Response:
    """The node is healthy again."""
    return _set(request, who, svc, node_id, Health.HEALTHY, body or HealthIn())


@router.post("/nodes/{node_id}/degradation", response_model=ChangeOut)
def degradation(
    node_id: str, who: OperatorDep, svc: ServicesDep, request: Request, body: HealthIn | None = None
) -> Response:
    """The node runs but reports errors."""
    return _set(request, who, svc, node_id, Health.DEGRADED, body or HealthIn())


@router.post("/maintenance", status_code=201, response_model=ChangeOut)
def maintenance(body: MaintenanceIn, who: OperatorDep, svc: ServicesDep, request: Request) -> Response:
    """Book a maintenance window on a node (refused if a lease holds it then)."""
    start_s, end_s = seconds(body.start) or 0, seconds(body.end) or 0

    def act(claim: Claim[Change] | None) -> Change:
        return svc.leasing.maintenance(body.node, start_s, end_s, actor=who.actor, claim=claim)

    return respond(request, who=who, payload=body, status=201, act=act, view=ChangeOut.of)


def _set(request: Request, who: Principal, svc: Services, node_id: str, state: Health, body: HealthIn) -> Response:  # noqa: PLR0917
    def act(claim: Claim[Change] | None) -> Change:
        at_s = seconds(body.at)
        return svc.leasing.set_health(node_id, state, at_s=at_s, actor=who.actor, reason=body.reason, claim=claim)

    return respond(request, who=who, payload=body, status=200, act=act, view=ChangeOut.of)
