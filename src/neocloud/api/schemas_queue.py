"""API schemas of internal pools' live job queues (operator only)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field

from neocloud.api.schemas import Schema
from neocloud.domain.queue import (
    MAX_ESTIMATE_S,
    MAX_PRIORITY,
    MAX_RESTART_S,
    MAX_WORKLOAD_GPUS,
    Entry,
    PoolConfig,
    TeamQuota,
)
from neocloud.scheduling.cluster import DEFAULT_RESTART_S
from neocloud.services.queue import QueueView, WorkloadView


def iso_f(t_s: float | None) -> str | None:
    """Epoch seconds (fractions kept to the microsecond) as ISO 8601 UTC."""
    return None if t_s is None else datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")


class QuotaIn(Schema):
    team: str = Field(min_length=1, max_length=200)
    nominal: int = Field(ge=0, description="Kueue's nominalQuota, in GPUs")
    borrowing_limit: int | None = Field(None, ge=0, description="GPUs beyond nominal it may borrow; null: no limit")
    lending_limit: int | None = Field(None, ge=0, description="Unused nominal GPUs others may borrow; null: all")
    weight: float = Field(1.0, gt=0, allow_inf_nan=False)

    def to_domain(self) -> TeamQuota:
        return TeamQuota(self.team, self.nominal, self.borrowing_limit, self.lending_limit, self.weight)


class PoolIn(Schema):
    name: str = Field(max_length=63, description="The internal pool (the holder of its ledger bookings)")
    policy: str = Field("fifo", description="fifo, backfill, sjf, las, fairshare or priority")
    placement: str = Field("firstfit", description="count, firstfit, bestfit or consolidated")
    restart_s: float = Field(
        DEFAULT_RESTART_S, ge=0, le=MAX_RESTART_S, allow_inf_nan=False, description="Run time a preemption costs (s)"
    )
    quotas: list[QuotaIn] = Field(default_factory=list, max_length=1000, description="fairshare: per team")


class QuotaOut(Schema):
    team: str
    nominal: int
    borrowing_limit: int | None
    lending_limit: int | None
    weight: float


class PoolOut(Schema):
    name: str
    policy: str
    placement: str
    restart_s: float
    origin: str | None = Field(description="The journal's time 0")
    created_by: str
    quotas: list[QuotaOut]

    @classmethod
    def of(cls, p: PoolConfig) -> PoolOut:
        quotas = [QuotaOut(**{f: getattr(q, f) for f in QuotaOut.model_fields}) for q in p.quotas]
        return cls(
            name=p.name,
            policy=p.policy,
            placement=p.placement,
            restart_s=p.restart_s,
            origin=iso_f(p.origin_s),
            created_by=p.actor,
            quotas=quotas,
        )


class WorkloadIn(Schema):
    name: str = Field(max_length=200, description="Unique in the pool")
    team: str = Field(min_length=1, max_length=200)
    gpus: int = Field(gt=0, le=MAX_WORKLOAD_GPUS)
    estimate_s: float = Field(
        gt=0, le=MAX_ESTIMATE_S, allow_inf_nan=False, description="Estimated run time (s); run as such"
    )
    priority: int = Field(0, ge=-MAX_PRIORITY, le=MAX_PRIORITY, description="priority policy: higher first")


class CancelIn(Schema):
    reason: str = Field("", max_length=200, description="Why, for the journal (printable text)")


class NodeGpus(Schema):
    node: str
    gpus: int


class WorkloadOut(Schema):
    pool: str
    number: int
    name: str
    team: str
    gpus: int
    estimate_s: float
    priority: int
    state: str = Field(description="queued, running, finished, rejected or cancelled")
    submitted: str | None
    started: str | None = Field(description="The first start")
    expected_end: str | None = Field(description="Running: when its estimate runs out")
    nodes: list[NodeGpus]
    preemptions: int
    reason: str = Field(description="Rejected or cancelled: why")

    @classmethod
    def of(cls, w: WorkloadView) -> WorkloadOut:
        return cls(
            pool=w.pool,
            number=w.number,
            name=w.name,
            team=w.team,
            gpus=w.gpus,
            estimate_s=w.estimate_s,
            priority=w.priority,
            state=w.state,
            submitted=iso_f(w.submitted_s),
            started=iso_f(w.started_s),
            expected_end=iso_f(w.expected_end_s),
            nodes=[NodeGpus(node=n, gpus=k) for n, k in w.nodes],
            preemptions=w.preemptions,
            reason=w.reason,
        )


class EntryOut(Schema):
    seq: int
    at: str | None
    kind: str = Field(description="submit, start, preempt, reject, cycle, finish or capacity")
    workload: int | None
    nodes: list[NodeGpus]
    resume: bool
    reason: str

    @classmethod
    def of(cls, e: Entry, origin_s: int) -> EntryOut:
        if e.kind.value == "capacity":
            nodes = [NodeGpus(node=e.nodes[0], gpus=e.gpus)]
        else:
            nodes = [NodeGpus(node=n, gpus=k) for n, k in zip(e.nodes, e.counts, strict=True)]
        return cls(
            seq=e.seq,
            at=iso_f(origin_s + e.at_s),
            kind=e.kind.value,
            workload=None if e.job < 0 else e.job,
            nodes=nodes,
            resume=e.resume,
            reason=e.reason,
        )


class QueueOut(Schema):
    pool: PoolOut
    now: str | None
    offered_gpus: int = Field(description="GPUs the pool's nodes offer now (as of the last cycle)")
    used_gpus: int
    queued: int
    running: int
    workloads: list[WorkloadOut]
    recent: list[EntryOut] = Field(description="The journal's latest entries, oldest first")
    next_cycle_due: str | None = Field(description="A policy review due with no event before it (2D-LAS)")

    @classmethod
    def of(cls, q: QueueView) -> QueueOut:
        return cls(
            pool=PoolOut.of(q.pool),
            now=iso_f(q.now_s),
            offered_gpus=q.offered_gpus,
            used_gpus=q.used_gpus,
            queued=sum(w.state == "queued" for w in q.workloads),
            running=sum(w.state == "running" for w in q.workloads),
            workloads=[WorkloadOut.of(w) for w in q.workloads],
            recent=[EntryOut.of(e, q.pool.origin_s) for e in q.recent],
            next_cycle_due=iso_f(q.next_cycle_due_s),
        )


class CycleOut(Schema):
    entries: list[EntryOut]
