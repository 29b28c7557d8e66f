"""Weighted fair share across tenants with quotas, in Kueue's terms.

Each tenant (a Kueue ClusterQueue; all of them form one cohort) has a ``nominal``
quota of GPUs, a ``borrowing_limit`` (how many GPUs beyond its nominal quota it may
use of what others leave unused; ``None``: no limit) and a ``lending_limit`` (how
many of its unused nominal GPUs others may borrow; ``None``: all), and a ``weight``.
A job is admitted when its tenant stays within its nominal quota, or borrows no more
than its borrowing limit and than the cohort has left to lend (the unused nominal GPUs
others lend, less what is already borrowed). Waiting jobs are walked by their tenant's
weighted share (GPUs held / weight, lowest first; Kueue's fair sharing orders by a
weighted share of usage too), then in submission order; jobs that do not fit or are
not admitted are skipped. Not preemptive: borrowed GPUs return as jobs end (Kueue's
``reclaimWithinCohort`` preemption is not modelled).

Default quotas (no quotas given): every tenant an equal nominal share of the pool's
GPUs, borrowing and lending unlimited, weight 1: work-conserving fair share.
"""

from __future__ import annotations

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
        """One quota per tenant of ``cluster``; equal nominal shares by default."""
        n = len(cluster.tenants)
        equal = Quota(cluster.pool.total_capacity // n if n else 0)
        return [self.quotas.get(name, equal) for name in cluster.tenants]

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        quotas = self.quotas_of(cluster)
        share = [cluster.tenant_gpus[t] / q.weight for t, q in enumerate(quotas)]
        key = np.fromiter((share[cluster.jobs[j].tenant] for j in jobs.tolist()), np.float64, len(jobs))
        return jobs[np.lexsort((jobs, key))]

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return _Quotas(cluster, self.quotas_of(cluster))


class _Quotas:
    def __init__(self, cluster: Cluster, quotas: list[Quota]) -> None:
        self.cluster = cluster
        self.quotas = quotas
        self.used = list(cluster.tenant_gpus)

    def _lendable(self, to: int) -> int:
        """GPUs the cohort can still lend to tenant ``to``: the others' unused nominal
        GPUs within their lending limits, less what is borrowed already."""
        lend = borrowed = 0
        for t, (q, used) in enumerate(zip(self.quotas, self.used, strict=True)):
            borrowed += max(used - q.nominal, 0)
            if t != to:
                unused = max(q.nominal - used, 0)
                lend += unused if q.lending_limit is None else min(unused, q.lending_limit)
        return lend - borrowed

    def admits(self, job: int) -> bool:
        spec = self.cluster.jobs[job]
        q = self.quotas[spec.tenant]
        after = self.used[spec.tenant] + spec.gpus
        if after <= q.nominal:
            return True
        borrow = after - max(q.nominal, self.used[spec.tenant])
        own_borrowed = max(self.used[spec.tenant] - q.nominal, 0)
        if q.borrowing_limit is not None and own_borrowed + borrow > q.borrowing_limit:
            return False
        return borrow <= self._lendable(spec.tenant)

    def started(self, job: int, alloc: Allocation) -> None:
        self.used[self.cluster.jobs[job].tenant] += alloc.total

    def blocked(self, job: int) -> bool:
        return False
