"""Strict FIFO: jobs start in submission order; the first that does not fit stops the
cycle (head-of-line blocking, nothing overtakes it)."""

from __future__ import annotations

import numpy as np

from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Gate, IntArray, OpenGate


class Fifo:
    name = "fifo"
    preemptive = False
    in_submission_order = True

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        return np.sort(jobs)  # job numbers are submission order

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        return OpenGate(strict=True)
