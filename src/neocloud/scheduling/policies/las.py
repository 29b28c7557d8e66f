"""Tiresias' discretized two-dimensional LAS (Gu et al., NSDI 2019): jobs are ranked by
the GPU-seconds they have received (GPUs x run time, the two dimensions), in
discrete priority queues split at ``thresholds``; a new job enters the first queue,
and a job moves down when its attained service crosses its queue's limit. Within a
queue, running jobs come first, then waiting ones, each in FIFO order (submission):
Tiresias' simulator moves a queue's pending jobs behind its running ones after every
cycle, so a running job is never displaced by a job of its own queue. Each cycle
every active job is walked in that order and kept while its GPUs fit by count, the
rest are skipped, and running jobs not kept are preempted (they pay the restart cost
when they resume).

Default thresholds: 3,250, 7,200 and 18,000 GPU-seconds, the queue limits of
Tiresias' own simulator (SymbioticLab/Tiresias ``simulator/jobs.py``; its 2D-LAS uses
them with attained service in GPU-seconds).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Gate, IntArray, OpenGate

TIRESIAS_THRESHOLDS = (3250.0, 7200.0, 18000.0)


class Las:
    name = "las"
    preemptive = True

    def __init__(self, thresholds: Sequence[float] = TIRESIAS_THRESHOLDS) -> None:
        if list(thresholds) != sorted(thresholds) or any(t <= 0 for t in thresholds):
            raise ValueError("thresholds: must be positive and ascending")
        self.thresholds = tuple(thresholds)
        self._limits = np.asarray(self.thresholds, np.float64)

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        queue = np.searchsorted(self._limits, cluster.attained_of(jobs, now_s), side="right")
        return jobs[np.lexsort((jobs, ~cluster.is_running[jobs], queue))]

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return OpenGate()

    def next_review_s(self, cluster: Cluster, job: int, now_s: float) -> float | None:
        """When running ``job`` next crosses a queue limit (a cycle is due then), or None."""
        got = cluster.attained(job, now_s)
        q = bisect_right(self.thresholds, got)
        if q >= len(self.thresholds):
            return None
        at = now_s + (self.thresholds[q] - got) / cluster.jobs[job].gpus
        # rounding may leave the attained service a hair below the limit at ``at``: step
        # forward until it is not, so the review sees the job in its next queue
        while cluster.attained_at(job, at) < self.thresholds[q]:
            at = math.nextafter(at, math.inf)
        return at
