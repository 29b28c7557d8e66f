"""FIFO with EASY backfill (Lifka 1995, as Slurm's and Maui's backfill): jobs start in
submission order; when the first waiting job does not fit, it gets a reservation at
the earliest time enough GPUs free up by the running jobs' estimated ends (the shadow
time), and later jobs may start now if they fit and either end (by their estimate)
before the shadow time or use only the GPUs the reservation leaves spare.

Estimates: a job's estimated run time is ``JobSpec.estimate_s`` (the driver sets it
from the duration and the estimate error; oracle by default); a running job is
expected to end at its start plus its remaining run time scaled by estimate /
duration. The reservation counts GPUs, not nodes: the head job may still have to wait
for a node-local fit at the shadow time (placement decides then).
"""

from __future__ import annotations

import numpy as np

from neocloud.placement.pool import Allocation
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Gate, IntArray


class Backfill:
    name = "backfill"
    preemptive = False

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        return np.sort(jobs)

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return _Reservation(cluster, now_s)


def estimated_end_s(cluster: Cluster, job: int) -> float:
    """When running ``job`` is expected to end, by its estimate."""
    spec = cluster.jobs[job]
    scale = spec.estimate_s / spec.duration_s if spec.duration_s > 0 else 1.0
    return float(cluster.run_start_s[job] + cluster.remaining_s[job] * scale)


class _Reservation:
    def __init__(self, cluster: Cluster, now_s: float) -> None:
        self.cluster = cluster
        self.now_s = now_s
        self.started_now: list[tuple[float, int]] = []  # (estimated end, GPUs) of this cycle's starts
        self.shadow_s: float | None = None
        self.extra = 0

    def admits(self, job: int) -> bool:
        if self.shadow_s is None:
            return True
        spec = self.cluster.jobs[job]
        return self.now_s + spec.estimate_s <= self.shadow_s or spec.gpus <= self.extra

    def started(self, job: int, alloc: Allocation) -> None:
        spec = self.cluster.jobs[job]
        end = self.now_s + spec.estimate_s
        if self.shadow_s is None:
            self.started_now.append((end, alloc.total))
        elif end > self.shadow_s:
            self.extra -= alloc.total  # it still holds its GPUs at the shadow time

    def blocked(self, job: int) -> bool:
        if self.shadow_s is None:
            self._reserve(job)
        return False

    def _reserve(self, head: int) -> None:
        """The head job's shadow time and the GPUs spare at it."""
        cluster = self.cluster
        need = cluster.jobs[head].gpus
        free = cluster.pool.total_free
        ends = sorted([(estimated_end_s(cluster, j), a.total) for j, a in cluster.running.items()] + self.started_now)
        for end, gpus in ends:
            if free >= need:
                break
            free += gpus
            self.shadow_s = end
        if free < need:  # never by ends alone (capacity is down): nothing may delay it further
            self.shadow_s, self.extra = self.now_s, 0
            return
        if self.shadow_s is None:
            self.shadow_s = self.now_s
        self.extra = free - need
