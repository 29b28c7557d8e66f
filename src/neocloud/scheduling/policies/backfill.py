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
    in_submission_order = True

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        return np.sort(jobs)

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return _Reservation(cluster, now_s)


def estimated_end_s(cluster: Cluster, job: int) -> float:
    """When running ``job`` is expected to end, by its estimate."""
    return float(cluster.run_start_s[job] + cluster.remaining_s[job] * cluster.estimate_scale[job])


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
        """The head job's shadow time and the GPUs spare at it: the running jobs (and
        this cycle's starts) by estimated end, then GPUs, added to what is free until
        the head's GPUs are covered. One sort of arrays, not a walk over the jobs."""
        cluster = self.cluster
        need = cluster.jobs[head].gpus
        free = cluster.pool.total_free
        if free >= need:  # it fits by count but not by placement: nothing to wait for
            self.shadow_s, self.extra = self.now_s, free - need
            return
        running = np.fromiter(cluster.running, np.int64, len(cluster.running))
        ends = cluster.run_start_s[running] + cluster.remaining_s[running] * cluster.estimate_scale[running]
        gpus = cluster.gpus[running]
        if self.started_now:
            ends = np.concatenate((ends, [end for end, _ in self.started_now]))
            gpus = np.concatenate((gpus, [total for _, total in self.started_now]))
        by_end = np.lexsort((gpus, ends))
        covered = free + np.cumsum(gpus[by_end])
        k = int(np.searchsorted(covered, need))  # the first end at which the head fits
        if k == len(covered):  # never by ends alone (capacity is down): nothing may delay it further
            self.shadow_s, self.extra = self.now_s, 0
            return
        self.shadow_s = float(ends[by_end[k]])
        self.extra = int(covered[k]) - need
