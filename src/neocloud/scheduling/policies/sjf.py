"""Shortest job first with oracle durations: the waiting job with the least run time
left starts first; jobs that do not fit are skipped, smaller ones after them may
start. Not preemptive."""

from __future__ import annotations

import numpy as np

from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Gate, IntArray, OpenGate


class ShortestFirst:
    name = "sjf"
    preemptive = False
    in_submission_order = False

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        return jobs[np.lexsort((jobs, cluster.remaining_s[jobs]))]

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return OpenGate()
