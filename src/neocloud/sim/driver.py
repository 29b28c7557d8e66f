"""The discrete-event loop.

Events are ordered by (time, priority, sequence): at one instant, completions first
(their GPUs are free for what follows), then capacity returning, then capacity
leaving, then arrivals, then reviews (a running job crossing a 2D-LAS queue limit);
the sequence keeps the order of pushes. All events of an instant are applied, then
one scheduling cycle runs and its decisions are applied. Completions and reviews
carry the job's run number: one left over from a run that was preempted is stale and
ignored.

Capacity leaves and returns as :class:`Outage` values (a lease of the node starting
and ending, an announced maintenance window, a failure from a health-event trace)
and as random failures (:class:`~neocloud.sim.failures.FailureModel`). A node offers
its GPUs while no outage holds it; when one starts, the jobs on it are preempted
first (they pay the restart cost) and its capacity drops to 0.

Jobs are read lazily from an iterator sorted by submission (a trace reader streams),
one pending arrival at a time, so memory grows with the jobs submitted, not with the
whole trace. The clock is the event time; nothing reads the wall clock.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from neocloud.placement.jobs import JobPlacement
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Policy, schedule
from neocloud.scheduling.jobs import JobSpec, Preempt, Start
from neocloud.sim.failures import FailureModel

COMPLETE, UP, DOWN, FAIL, ARRIVE, REVIEW = 0, 1, 2, 3, 4, 5


@dataclass(frozen=True, slots=True)
class Outage:
    """Node index ``node`` offers nothing over ``[start_s, end_s)`` (``cause``: lease,
    maintenance, failure...; ``end_s`` may be ``inf``)."""

    start_s: float
    end_s: float
    node: int
    cause: str = "outage"

    def __post_init__(self) -> None:
        if not self.end_s > self.start_s:
            raise ValueError(f"outage of node {self.node}: ends at {self.end_s}, not after its start {self.start_s}")


@dataclass(slots=True)
class Trajectory:
    """Used and offered GPUs and waiting jobs after each instant (step functions)."""

    t_s: list[float] = field(default_factory=list)
    used: list[int] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)

    def record(self, t_s: float, used: int, offered: int, waiting: int) -> None:
        if self.t_s and self.t_s[-1] == t_s:
            self.used[-1], self.offered[-1], self.waiting[-1] = used, offered, waiting
        else:
            self.t_s.append(t_s)
            self.used.append(used)
            self.offered.append(offered)
            self.waiting.append(waiting)


@dataclass(slots=True)
class Run:
    cluster: Cluster
    trajectory: Trajectory
    cycles: int
    end_s: float
    interruptions: int = 0  # jobs preempted because their node failed or left


def simulate(
    cluster: Cluster,
    jobs: Iterable[JobSpec],
    policy: Policy,
    placement: JobPlacement,
    *,
    outages: Iterable[Outage] = (),
    failures: FailureModel | None = None,
    progress: Callable[[int], None] | None = None,
) -> Run:
    """Replay ``jobs`` (sorted by ``submit_s``) on ``cluster`` until every job finished
    or was rejected, or what waits can no longer run; ``progress`` is called with the
    jobs submitted so far."""
    heap: list[tuple[float, int, int, int, int]] = []  # (time, priority, seq, job or node, run)
    seq = 0

    def push(t: float, kind: int, what: int, run: int = 0) -> None:
        nonlocal seq
        heapq.heappush(heap, (t, kind, seq, what, run))
        seq += 1

    pool = cluster.pool
    down = np.zeros(len(pool.capacity), np.int32)  # outages holding each node now
    planned = 0  # outage starts and ends still to come: capacity that may change
    for outage in outages:
        push(outage.start_s, DOWN, outage.node)
        planned += 1
        if outage.end_s != math.inf:
            push(outage.end_s, UP, outage.node)
            planned += 1
    repairs = 0
    rng = failures.rng() if failures is not None else None
    if failures is not None and rng is not None:
        for node, at in enumerate(failures.first_failures(rng, pool.snap.node_gpus)):
            push(float(at), FAIL, node)
    source: Iterator[JobSpec] = iter(jobs)
    pending = _next_job(source, None)
    if pending is not None:
        push(pending.submit_s, ARRIVE, -1)
    review = getattr(policy, "next_review_s", None)
    trajectory = Trajectory()
    cycles = interruptions = 0
    now = 0.0
    while heap and (pending is not None or cluster.running or (cluster.waiting and planned + repairs > 0)):
        now = heap[0][0]
        while heap and heap[0][0] == now:
            _, kind, _, what, run = heapq.heappop(heap)
            if kind == COMPLETE:
                if what in cluster.running and cluster.runs[what] == run:
                    cluster.finish(what, now)
            elif kind == UP:
                planned -= 1
                down[what] -= 1
                if down[what] == 0:
                    pool.set_capacity(what, int(pool.snap.node_gpus[what]))
            elif kind == DOWN:
                planned -= 1
                interruptions += _take_down(cluster, down, what, now, "capacity left its node")
            elif kind == FAIL:
                assert failures is not None and rng is not None
                interruptions += _take_down(cluster, down, what, now, "node failed")
                push(now + failures.repair_s, UP, what)
                repairs += 1
                planned += 1
                push(now + failures.repair_s + failures.next_failure_s(rng, int(pool.snap.node_gpus[what])), FAIL, what)
            elif kind == ARRIVE:
                assert pending is not None
                cluster.submit(pending)
                if progress is not None:
                    progress(cluster.size)
                pending = _next_job(source, pending)
                if pending is not None:
                    push(pending.submit_s, ARRIVE, -1)
        decisions = schedule(cluster, now, policy, placement)
        cluster.apply_cycle(decisions, now)
        for decision in decisions:
            if isinstance(decision, Start):
                job = decision.job
                push(cluster.ends_s(job), COMPLETE, job, cluster.runs[job])
                if review is not None:
                    at = review(cluster, job, now)
                    if at is not None and at < cluster.ends_s(job):
                        push(at, REVIEW, job, cluster.runs[job])
        cycles += 1
        trajectory.record(now, pool.total_used, pool.total_capacity, len(cluster.waiting))
    return Run(cluster, trajectory, cycles, now, interruptions)


def _next_job(source: Iterator[JobSpec], last: JobSpec | None) -> JobSpec | None:
    spec = next(source, None)
    if spec is not None and last is not None and spec.submit_s < last.submit_s:
        raise ValueError(f"job {spec.id}: submitted at {spec.submit_s} s, before job {last.id} at {last.submit_s} s")
    return spec


def _take_down(cluster: Cluster, down: npt.NDArray[np.int32], node: int, now_s: float, reason: str) -> int:
    """One more outage holds ``node``: the jobs on it are preempted and it offers
    nothing. How many jobs were interrupted."""
    down[node] += 1
    hit = sorted(cluster.on_node.get(node, ()))
    for job in hit:
        cluster.apply(Preempt(job, reason), now_s)
    cluster.pool.set_capacity(node, 0)
    return len(hit)
