"""Weighted fair share across tenants with quotas, in Kueue's terms.

Each tenant (a Kueue ClusterQueue; all of them form one cohort) has a ``nominal``
quota of GPUs, a ``borrowing_limit`` (how many GPUs beyond its nominal quota it may
use of what others leave unused; ``None``: no limit), a ``lending_limit`` (how many of
its unused nominal GPUs others may borrow; ``None``: all) and a ``weight``. GPUs of the
pool outside every nominal quota are the cohort's, lendable to anyone.

Admission (:class:`_Quotas`), by count, with what this cycle already started counted:

- a job fits its tenant's quota when the tenant stays within its nominal quota, or
  borrows (use above nominal) no more than its borrowing limit;
- and the cohort can hold it: the GPUs in use afterwards stay within the pool's
  capacity less what the other tenants keep for themselves (their unused nominal GPUs
  beyond their lending limits). So a tenant's non-lendable GPUs stay free for it.

Order: Kueue's fair sharing ranks ClusterQueues by their share of borrowed resources
(usage above nominal quota, divided by the weight), lowest first. The walk is that
ranking kept up to date as jobs start: the tenant with the lowest share offers its next
job (submission order), its share grows by what it asks, and so on, so tenants
interleave within one cycle. Ties go to the lower usage per weight, then the earlier job.

Not preemptive: borrowed GPUs return as jobs end (Kueue's ``reclaimWithinCohort``
preemption is not modelled). A job no quota can ever admit (more than its tenant's
nominal quota plus borrowing limit, or than the pool) is rejected at admission.

Default quotas (no quotas given): the pool's GPUs split evenly over the tenants seen so
far (the remainder one GPU each to the first), borrowing and lending unlimited, weight 1:
work-conserving fair share. Without tenants in the trace this is FIFO that skips jobs
that do not fit.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from neocloud.placement.pool import Allocation
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Gate, IntArray


@dataclass(frozen=True, slots=True)
class Quota:
    nominal: int
    borrowing_limit: int | None = None
    lending_limit: int | None = None
    weight: float = 1.0

    def problems(self, tenant: str) -> list[str]:
        out = []
        if self.nominal < 0:
            out.append(f"quota {tenant}: nominal {self.nominal} is negative")
        for name, limit in (("borrowing_limit", self.borrowing_limit), ("lending_limit", self.lending_limit)):
            if limit is not None and limit < 0:
                out.append(f"quota {tenant}: {name} {limit} is negative")
        if not self.weight > 0:
            out.append(f"quota {tenant}: weight {self.weight} is not positive")
        return out

    def kept_unused(self, used: int) -> int:
        """Unused nominal GPUs this tenant does not lend."""
        unused = max(self.nominal - used, 0)
        return 0 if self.lending_limit is None else max(unused - self.lending_limit, 0)


class FairShare:
    name = "fairshare"
    preemptive = False
    in_submission_order = False

    def __init__(self, quotas: Mapping[str, Quota] | None = None) -> None:
        problems = [p for name, q in (quotas or {}).items() for p in q.problems(name)]
        if problems:
            raise ValueError("; ".join(problems))
        self.quotas = dict(quotas or {})

    def quotas_of(self, cluster: Cluster) -> list[Quota]:
        """One quota per tenant of ``cluster``: the given ones, an even split of the
        pool otherwise (module doc)."""
        n = len(cluster.tenants)
        if self.quotas:
            return [self.quotas.get(name, Quota(0)) for name in cluster.tenants]
        even, extra = divmod(cluster.pool.total_capacity, n) if n else (0, 0)
        return [Quota(even + (1 if k < extra else 0)) for k in range(n)]

    def never_admits(self, cluster: Cluster, job: int) -> str:
        """Why no quota can ever admit ``job`` ("" when one could)."""
        spec = cluster.jobs[job]
        quota = self.quotas_of(cluster)[spec.tenant]
        if quota.borrowing_limit is not None and spec.gpus > quota.nominal + quota.borrowing_limit:
            most = quota.nominal + quota.borrowing_limit
            return f"asks for {spec.gpus} GPUs; tenant {cluster.tenants[spec.tenant]!r} may use at most {most}"
        return ""

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        quotas = self.quotas_of(cluster)
        used = list(cluster.tenant_gpus)
        queues: dict[int, list[int]] = {}
        for job in sorted(jobs.tolist()):
            queues.setdefault(cluster.jobs[job].tenant, []).append(job)

        def key(t: int) -> tuple[float, float, int]:
            q = quotas[t]
            return (max(used[t] - q.nominal, 0) / q.weight, used[t] / q.weight, queues[t][0])

        heap = [(key(t), t) for t in queues]
        heapq.heapify(heap)
        out: list[int] = []
        while heap:
            _, t = heapq.heappop(heap)
            job = queues[t].pop(0)
            out.append(job)
            used[t] += cluster.jobs[job].gpus  # as if it starts: the next pick sees it
            if queues[t]:
                heapq.heappush(heap, (key(t), t))
        return np.asarray(out, np.int64)

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return _Quotas(cluster, self.quotas_of(cluster))


class _Quotas:
    def __init__(self, cluster: Cluster, quotas: list[Quota]) -> None:
        self.cluster = cluster
        self.quotas = quotas
        self.used = list(cluster.tenant_gpus)

    def admits(self, job: int) -> bool:
        spec = self.cluster.jobs[job]
        t = spec.tenant
        q = self.quotas[t]
        after = self.used[t] + spec.gpus
        if q.borrowing_limit is not None and after - q.nominal > q.borrowing_limit:
            return False
        kept_by_others = sum(
            o.kept_unused(u) for k, (o, u) in enumerate(zip(self.quotas, self.used, strict=True)) if k != t
        )
        return sum(self.used) + spec.gpus <= self.cluster.pool.total_capacity - kept_by_others

    def started(self, job: int, alloc: Allocation) -> None:
        self.used[self.cluster.jobs[job].tenant] += alloc.total

    def blocked(self, job: int) -> bool:
        return False
