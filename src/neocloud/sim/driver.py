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

from neocloud.placement.fragmentation import measure_pool
from neocloud.placement.jobs import JobPlacement
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Policy, run_cycle
from neocloud.scheduling.jobs import JobSpec, Preempt, Start
from neocloud.sim.failures import FailureModel

COMPLETE, UP, DOWN, FAIL, ARRIVE, REVIEW = 0, 1, 2, 3, 4, 5
#: A run stops when jobs have waited this long with nothing running and nothing still
#: to arrive: a simulated year, our own bound [D] (longer than any trace here spans).
IDLE_LIMIT_S = 365 * 86_400.0


class OutOfOrder(ValueError):
    """A job stream that is not sorted by submission time."""


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


#: Fragmentation is measured every this many cycles (a recount of the pool: too dear
#: for every cycle of a 200,000-cycle replay, cheap at one in 64).
FRAGMENTATION_EVERY = 64


@dataclass(slots=True)
class Trajectory:
    """Used and offered GPUs and waiting jobs after each instant (step functions), and
    the stranded fraction of free GPUs (docs/placement.md) sampled every
    :data:`FRAGMENTATION_EVERY` cycles."""

    t_s: list[float] = field(default_factory=list)
    used: list[int] = field(default_factory=list)
    offered: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    stranded: list[float] = field(default_factory=list)

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
    or was rejected, or what waits can no longer run (nothing runs, nothing is still to
    arrive, and no capacity is still to come back); ``progress`` is called with the jobs
    submitted so far."""
    loop = _Loop(cluster, policy, placement, failures, progress)
    for outage in outages:
        loop.push(outage.start_s, DOWN, outage.node)
        if outage.end_s != math.inf:
            loop.push(outage.end_s, UP, outage.node)
            loop.returns += 1
    if failures is not None:
        for node, at in enumerate(failures.first_failures(loop.rng, cluster.pool.snap.node_gpus)):
            loop.push(float(at), FAIL, node)
    return loop.run(iter(jobs))


class _Loop:
    """The event loop's state: the heap, each node's outages, what is still to come."""

    def __init__(
        self,
        cluster: Cluster,
        policy: Policy,
        placement: JobPlacement,
        failures: FailureModel | None,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.cluster = cluster
        self.policy = policy
        self.placement = placement
        self.failures = failures
        self.rng = (failures or FailureModel()).rng()
        self.progress = progress
        self.review = getattr(policy, "next_review_s", None)
        self.heap: list[tuple[float, int, int, int, int]] = []  # (time, kind, seq, job or node, run)
        self.seq = 0
        self.down = np.zeros(len(cluster.pool.capacity), np.int32)  # outages holding each node now
        self.returns = 0  # UP events still to come: capacity that may come back
        self.pending: JobSpec | None = None
        self.trajectory = Trajectory()
        self.cycles = self.interruptions = 0
        self.now = 0.0
        self.idle_since: float | None = None

    def push(self, t: float, kind: int, what: int, run: int = 0) -> None:
        heapq.heappush(self.heap, (t, kind, self.seq, what, run))
        self.seq += 1

    def live(self) -> bool:
        """Whether anything can still happen to the jobs: one is still to arrive or
        runs, or one waits for capacity still to come back and has not waited with
        nothing running for :data:`IDLE_LIMIT_S` (failures that never leave enough
        nodes up at once would keep such a run going forever)."""
        cluster = self.cluster
        if self.pending is not None or cluster.running:
            self.idle_since = None
            return True
        if not cluster.waiting or self.returns <= 0:
            return False
        if self.idle_since is None:
            self.idle_since = self.now
        return self.heap[0][0] - self.idle_since <= IDLE_LIMIT_S

    def run(self, source: Iterator[JobSpec]) -> Run:
        self.source = source
        self._arrival(None)
        now = 0.0
        while self.heap and self.live():
            now = self.now = self.heap[0][0]
            while self.heap and self.heap[0][0] == now:
                _, kind, _, what, run = heapq.heappop(self.heap)
                self._event(kind, what, run, now)
            self._cycle(now)
        return Run(self.cluster, self.trajectory, self.cycles, now, self.interruptions)

    def _arrival(self, last: JobSpec | None) -> None:
        self.pending = _next_job(self.source, last)
        if self.pending is not None:
            self.push(self.pending.submit_s, ARRIVE, -1)

    def _event(self, kind: int, what: int, run: int, now: float) -> None:
        cluster = self.cluster
        if kind == COMPLETE:
            if what in cluster.running and cluster.runs[what] == run:
                cluster.finish(what, now)
        elif kind == UP:
            self.returns -= 1
            self.down[what] -= 1
            if self.down[what] == 0:
                cluster.pool.set_capacity(what, int(cluster.pool.snap.node_gpus[what]))
        elif kind == DOWN:
            self._take_down(what, now, "capacity left its node")
        elif kind == FAIL:
            failures = self.failures
            assert failures is not None
            self._take_down(what, now, "node failed")
            self.push(now + failures.repair_s, UP, what)
            self.returns += 1
            gpus = int(cluster.pool.snap.node_gpus[what])
            self.push(now + failures.repair_s + failures.next_failure_s(self.rng, gpus), FAIL, what)
        elif kind == REVIEW:
            if what in cluster.running and cluster.runs[what] == run:
                self._next_review(what, now)  # the next queue limit of the same run
        elif kind == ARRIVE:
            pending = self.pending
            assert pending is not None
            cluster.submit(pending)
            if self.progress is not None:
                self.progress(cluster.size)
            self._arrival(pending)

    def _take_down(self, node: int, now: float, reason: str) -> None:
        """One more outage holds ``node``: its jobs are preempted, it offers nothing."""
        cluster = self.cluster
        self.down[node] += 1
        for job in sorted(cluster.on_node.get(node, ())):
            cluster.apply(Preempt(job, reason), now)
            self.interruptions += 1
        cluster.pool.set_capacity(node, 0)

    def _cycle(self, now: float) -> None:
        cluster = self.cluster
        decisions = run_cycle(cluster, now, self.policy, self.placement)
        for decision in decisions:
            if isinstance(decision, Start):
                job = decision.job
                ends = cluster.ends_s(job)
                self.push(ends, COMPLETE, job, int(cluster.runs[job]))
                self._next_review(job, now)
        self.cycles += 1
        pool = cluster.pool
        self.trajectory.record(now, pool.total_used, pool.total_capacity, len(cluster.waiting))
        if self.cycles % FRAGMENTATION_EVERY == 1:
            self.trajectory.stranded.append(measure_pool(pool).stranded_fraction)

    def _next_review(self, job: int, now: float) -> None:
        """A review when running ``job`` next crosses a queue limit before it ends."""
        if self.review is None:
            return
        cluster = self.cluster
        at = self.review(cluster, job, now)
        if at is not None and now < at < cluster.ends_s(job):
            self.push(at, REVIEW, job, int(cluster.runs[job]))


def _next_job(source: Iterator[JobSpec], last: JobSpec | None) -> JobSpec | None:
    spec = next(source, None)
    if spec is not None and last is not None and spec.submit_s < last.submit_s:
        raise OutOfOrder(
            f"job {spec.id} comes after job {last.id} but is submitted {last.submit_s - spec.submit_s:g} s"
            " before it: the jobs are not in arrival order"
        )
    return spec
