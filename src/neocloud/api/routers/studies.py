"""Stored studies: keep-vs-lease studies and sweeps, operator only (a tenant key gets 403).

``--save NAME`` on ``plan keep-vs-lease`` and ``sim sweep`` stores one; ``POST
/v1/studies/keep-vs-lease`` starts one on the served fleet in the background, its
progress visible through ``GET /v1/studies/{id}`` while it runs.
"""

from __future__ import annotations

from fastapi import APIRouter

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.schemas import PROBLEMS
from neocloud.api.schemas_studies import KeepVsLeaseIn, StudyListed, StudyOut

router = APIRouter(prefix="/v1/studies", tags=["studies"], responses=PROBLEMS)


@router.get("", response_model=list[StudyListed])
def list_studies(_: OperatorDep, svc: ServicesDep) -> list[StudyListed]:
    """Every study, newest first: kind, name, status, progress and times (no result)."""
    return [StudyListed.of(s) for s in svc.studies.studies()]


@router.get("/{study_id}", response_model=StudyOut)
def show_study(study_id: str, _: OperatorDep, svc: ServicesDep) -> StudyOut:
    """The whole record: inputs, progress and, once done, the result."""
    return StudyOut.whole(svc.studies.study(study_id))


@router.post("/keep-vs-lease", status_code=202, response_model=StudyOut)
def start_keep_vs_lease(body: KeepVsLeaseIn, who: OperatorDep, svc: ServicesDep) -> StudyOut:
    """Start a keep-vs-lease study on the served fleet: every input checked first (422
    naming the field, nothing stored; 409 for a name in use), then stored ``running`` and
    computed in the background. Poll ``GET /v1/studies/{id}`` for its progress."""
    inputs = body.model_dump(mode="json")
    study = svc.studies.start_keep_vs_lease(body.to_domain(), actor=who.actor, inputs=inputs)
    return StudyOut.whole(study)
