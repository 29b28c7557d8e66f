"""The serving plan: leased (or counted) GPUs -> tokens/s -> usage limits."""

from __future__ import annotations

from fastapi import APIRouter

from neocloud.api.auth import PrincipalDep, ServicesDep
from neocloud.api.schemas import PROBLEMS
from neocloud.api.schemas_serving import ServingPlanIn, ServingPlanOut
from neocloud.economics.serving.report import plan_dict
from neocloud.services.visibility import Viewer

router = APIRouter(prefix="/v1", tags=["serving"], responses=PROBLEMS)


@router.post("/serving/plan", response_model=ServingPlanOut)
def serving_plan(body: ServingPlanIn, who: PrincipalDep, svc: ServicesDep) -> ServingPlanOut:
    """Plan what capacity serves: a lease (a tenant: only its own; another's is 404), a
    site, counts or a preset; writes nothing. Bad fields 422, each named."""
    plan = svc.serving.plan(body.to_domain(), viewer=Viewer.of(who))
    return ServingPlanOut.model_validate(plan_dict(plan))
