"""The discrete-event loop.

Events are ordered by (time, priority, sequence): at one instant, completions first
(their GPUs are free for what follows), then capacity changes, then arrivals, then
reviews (a running job crossing a 2D-LAS queue limit); the sequence keeps the order
of pushes. All events of an instant are applied, then one scheduling cycle runs and
its decisions are applied. Completions and reviews carry the job's run number: one
left over from a run that was preempted is stale and ignored.

Jobs are read lazily from an iterator sorted by submission (a trace reader streams),
one pending arrival at a time, so memory grows with the jobs submitted, not with the
whole trace. The clock is the event time; nothing reads the wall clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from neocloud.placement.jobs import JobPlacement
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Policy, schedule
from neocloud.scheduling.jobs import JobSpec, Preempt, Start

COMPLETE, CAPACITY, ARRIVE, REVIEW = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class CapacityChange:
    """From ``at_s`` node index ``node`` offers ``gpus`` GPUs (0: down, leased away)."""

    at_s: float
    node: int
    gpus: int


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


def simulate(
    cluster: Cluster,
    jobs: Iterable[JobSpec],
    policy: Policy,
    placement: JobPlacement,
    *,
    capacity: Iterable[CapacityChange] = (),
    progress: Callable[[int], None] | None = None,
) -> Run:
    """Replay ``jobs`` (sorted by ``submit_s``) on ``cluster`` until every job finished
    or was rejected; ``progress`` is called with the jobs submitted so far."""
    heap: list[tuple[float, int, int, int, int]] = []  # (time, priority, seq, job or index, run)
    seq = 0

    def push(t: float, kind: int, what: int, run: int = 0) -> None:
        nonlocal seq
        heapq.heappush(heap, (t, kind, seq, what, run))
        seq += 1

    changes = sorted(capacity, key=lambda c: c.at_s)
    for k, change in enumerate(changes):
        push(change.at_s, CAPACITY, k)
    source: Iterator[JobSpec] = iter(jobs)
    pending = _next_job(source, None)
    if pending is not None:
        push(pending.submit_s, ARRIVE, -1)
    review = getattr(policy, "next_review_s", None)
    trajectory = Trajectory()
    cycles = 0
    now = 0.0
    while heap:
        now = heap[0][0]
        while heap and heap[0][0] == now:
            _, kind, _, what, run = heapq.heappop(heap)
            if kind == COMPLETE:
                if what in cluster.running and cluster.runs[what] == run:
                    cluster.finish(what, now)
            elif kind == CAPACITY:
                _change_capacity(cluster, changes[what], now)
            elif kind == ARRIVE:
                assert pending is not None
                cluster.submit(pending)
                if progress is not None:
                    progress(len(cluster.jobs))
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
        pool = cluster.pool
        trajectory.record(now, pool.total_used, pool.total_capacity, len(cluster.waiting))
    return Run(cluster, trajectory, cycles, now)


def _next_job(source: Iterator[JobSpec], last: JobSpec | None) -> JobSpec | None:
    spec = next(source, None)
    if spec is not None and last is not None and spec.submit_s < last.submit_s:
        raise ValueError(f"job {spec.id}: submitted at {spec.submit_s} s, before job {last.id} at {last.submit_s} s")
    return spec


def _change_capacity(cluster: Cluster, change: CapacityChange, now_s: float) -> None:
    """Offer ``change.gpus`` on the node; the jobs that no longer fit are preempted first."""
    pool = cluster.pool
    for job in sorted(cluster.on_node.get(change.node, ())):
        if pool.capacity[change.node] - pool.free_at(change.node) <= change.gpus:
            break
        cluster.apply(Preempt(job, "capacity left its node"), now_s)
    pool.set_capacity(change.node, change.gpus)
