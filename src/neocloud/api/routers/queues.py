"""Internal pools' live job queues: operator only (a tenant key gets 403).

An internal team's workload is submitted to its pool's queue, admitted by a cycle
(the scheduler the simulator runs), and reports when it finished. neocloud decides
who runs where and when; it launches nothing. The POSTs that create a queue or
change a workload honour ``Idempotency-Key`` (a retry answers the first result).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.idempotent import respond
from neocloud.api.schemas import PROBLEMS
from neocloud.api.schemas_queue import (
    CancelIn,
    CycleOut,
    EntryOut,
    PoolIn,
    PoolOut,
    QueueOut,
    WorkloadIn,
    WorkloadOut,
)
from neocloud.domain.queue import PoolConfig
from neocloud.services.idempotency import Claim
from neocloud.services.queue import WorkloadView

router = APIRouter(prefix="/v1/queues", tags=["queues"], responses=PROBLEMS)


@router.post("", status_code=201, response_model=PoolOut)
def create_pool(request: Request, body: PoolIn, who: OperatorDep, svc: ServicesDep) -> Response:
    """A queue for an internal pool: its policy, placement, restart cost and team quotas.
    Its capacity is what the ledger books to the pool (``assign_pool``); 409 if it has one."""

    def act(claim: Claim[PoolConfig] | None) -> PoolConfig:
        return svc.queues.create_pool(
            body.name,
            policy=body.policy,
            placement=body.placement,
            restart_s=body.restart_s,
            quotas=tuple(q.to_domain() for q in body.quotas),
            actor=who.actor,
            claim=claim,
        )

    return respond(request, who=who, payload=body, status=201, act=act, view=PoolOut.of)


@router.get("", response_model=list[PoolOut])
def list_pools(_: OperatorDep, svc: ServicesDep) -> list[PoolOut]:
    return [PoolOut.of(p) for p in svc.queues.pools()]


@router.get("/{pool}", response_model=QueueOut)
def show_queue(pool: str, _: OperatorDep, svc: ServicesDep) -> QueueOut:
    """The pool's workloads (queued, running, finished, rejected), capacity and latest journal entries."""
    return QueueOut.of(svc.queues.queue(pool))


@router.post("/{pool}/workloads", status_code=201, response_model=WorkloadOut)
def submit(request: Request, pool: str, body: WorkloadIn, who: OperatorDep, svc: ServicesDep) -> Response:
    """Queue a workload; the next cycle decides whether it starts."""

    def act(claim: Claim[WorkloadView] | None) -> WorkloadView:
        return svc.queues.submit(
            pool,
            name=body.name,
            team=body.team,
            gpus=body.gpus,
            estimate_s=body.estimate_s,
            priority=body.priority,
            claim=claim,
        )

    return respond(request, who=who, payload=body, status=201, act=act, view=WorkloadOut.of)


@router.get("/{pool}/workloads/{number}", response_model=WorkloadOut)
def show_workload(pool: str, number: int, _: OperatorDep, svc: ServicesDep) -> WorkloadOut:
    return WorkloadOut.of(svc.queues.workload(pool, number))


@router.post("/{pool}/workloads/{number}/finish", response_model=WorkloadOut)
def finish(request: Request, pool: str, number: int, who: OperatorDep, svc: ServicesDep) -> Response:
    """The workload finished: its GPUs are free for the next cycle (422 unless it runs)."""

    def act(claim: Claim[WorkloadView] | None) -> WorkloadView:
        return svc.queues.finish(pool, number, claim=claim)

    return respond(request, who=who, payload=None, status=200, act=act, view=WorkloadOut.of)


@router.post("/{pool}/workloads/{number}/cancel", response_model=WorkloadOut)
def cancel(  # noqa: PLR0917 (FastAPI passes the route's parameters by name)
    request: Request, pool: str, number: int, who: OperatorDep, svc: ServicesDep, body: CancelIn | None = None
) -> Response:
    """Withdraw a queued or running workload: it never runs again, its GPUs are free
    for the next cycle (422 once it finished, was rejected or was cancelled)."""

    def act(claim: Claim[WorkloadView] | None) -> WorkloadView:
        return svc.queues.cancel(pool, number, actor=who.actor, reason=body.reason if body else "", claim=claim)

    return respond(request, who=who, payload=body, status=200, act=act, view=WorkloadOut.of)


@router.post("/{pool}/cycle", response_model=CycleOut)
def cycle(pool: str, _: OperatorDep, svc: ServicesDep) -> CycleOut:
    """Run one scheduling cycle now: capacity brought up to the ledger's, then the
    policy's starts, preemptions and rejections. The journal entries written."""
    entries = svc.queues.cycle(pool)
    origin = next(p.origin_s for p in svc.queues.pools() if p.name == pool)
    return CycleOut(entries=[EntryOut.of(e, origin) for e in entries])
