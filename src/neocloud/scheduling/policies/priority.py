"""Priority preemption: higher ``JobSpec.priority`` first; within a priority, running
jobs before waiting ones, each in submission order. Each cycle the active jobs are
kept in that order while they fit by count; a running job not kept (outranked by a
higher priority that needs its GPUs) is preempted and pays the restart cost
(``Cluster.restart_s``, default from economics.md 5.3) when it resumes. Jobs of one
priority never preempt each other."""

from __future__ import annotations

import numpy as np

from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Gate, IntArray, OpenGate


class Priority:
    name = "priority"
    preemptive = True
    in_submission_order = False

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        priority = np.fromiter((cluster.jobs[j].priority for j in jobs.tolist()), np.int64, len(jobs))
        return jobs[np.lexsort((jobs, ~cluster.is_running[jobs], -priority))]

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return OpenGate()
