"""A live job queue: the simulator's scheduler on a journal instead of a simulated clock.

A :class:`LiveQueue` is one internal pool's queue (Kueue's ClusterQueue): its
:class:`~neocloud.scheduling.cluster.Cluster` and policy, and the journal of what
happened to it, as :class:`~neocloud.domain.queue.Entry` values numbered from 1. Every question it answers
returns the entries to record and changes nothing; :meth:`LiveQueue.apply` applies
entries (the service calls it after the database committed the same entries, as the
leasing engine's ``apply``). So the state is a pure function of the journal: a
process that starts, or one that sees another's commits, replays the entries it has
not seen and holds the same floats, bit for bit, as the one that wrote them.

- ``submit``: a workload (name, team, GPUs, estimated run time, priority) joins;
- ``cycle``: one scheduling cycle, :func:`~neocloud.scheduling.cycle.schedule` on the
  cluster at ``now``: its ``Start``, ``Preempt`` and ``Reject`` decisions, then a
  ``cycle`` marker (the jobs submitted before it have been seen by a cycle);
- ``finish``: a running workload reports it is done (neocloud decides who runs where
  and when; it does not launch or watch processes);
- ``capacity``: a node offers a number of GPUs from now (the pool's ledger bookings
  and the node's health decide it); when it drops below what jobs hold, the jobs on
  the node are preempted first, as the simulator's driver does for an outage.

Times are float seconds from the pool's origin (its creation), not epoch seconds:
the same arithmetic, and the same rounding, as a simulator run of the same trace.
The live system runs its estimate as the run time (``duration_s = estimate_s``):
it cannot know more, and a workload ends when it says so.
"""

from __future__ import annotations

from collections.abc import Iterable

from neocloud.domain.queue import MAX_ESTIMATE_S, MAX_PRIORITY, MAX_WORKLOAD_GPUS, Entry, Kind, label_problems
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import Allocation, GpuPool
from neocloud.placement.snapshot import FleetSnapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import Policy, schedule
from neocloud.scheduling.jobs import Decision, JobSpec, Preempt, Reject, Start


class QueueError(ValueError):
    """A request the queue refuses (the message names the field and the problem)."""


class UnknownWorkload(QueueError):
    """No workload of that number in the pool."""


class LiveQueue:
    """One pool's queue (module doc). ``capacity`` is what each node of ``snap``
    offers at the origin (0: not the pool's)."""

    def __init__(
        self,
        snap: FleetSnapshot,
        policy: Policy,
        placement: JobPlacement,
        *,
        restart_s: float,
        capacity: Iterable[int] | None = None,
    ) -> None:
        import numpy as np

        offered = None if capacity is None else np.fromiter(capacity, np.int32, len(snap.node_ids))
        self.cluster = Cluster(GpuPool(snap, offered), tenants=(), restart_s=restart_s)
        self.policy = policy
        self.placement = placement
        self.seq = 0  # entries applied
        self.at_s = 0.0  # the latest entry's time
        self.names: list[str] = []  # per job number
        self._by_name: dict[str, int] = {}
        self._node = {node: k for k, node in enumerate(snap.node_ids)}

    # -- questions: the entries to record; nothing changes -----------------------------
    def submit(self, at_s: float, *, name: str, team: str, gpus: int, estimate_s: float, priority: int = 0) -> Entry:
        self._check_time(at_s)
        problems = label_problems("name", name) + label_problems("team", team)
        if not problems and name in self._by_name:
            problems.append(f"name: {name!r} names workload {self._by_name[name]} of this pool already")
        if isinstance(gpus, bool) or not isinstance(gpus, int) or not 0 < gpus <= MAX_WORKLOAD_GPUS:
            problems.append(f"gpus: {gpus!r} is not a whole number from 1 to {MAX_WORKLOAD_GPUS:,}")
        if not 0 < estimate_s <= MAX_ESTIMATE_S:
            problems.append(f"estimate_s: {estimate_s!r} is not a number of seconds above 0 and at most 10 years")
        if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > MAX_PRIORITY:
            problems.append(f"priority: {priority!r} is not a whole number from -{MAX_PRIORITY:,} to {MAX_PRIORITY:,}")
        if problems:
            raise QueueError("; ".join(problems))
        return Entry(
            self.seq + 1,
            at_s,
            Kind.SUBMIT,
            self.cluster.size,
            name=name,
            team=team,
            gpus=gpus,
            estimate_s=float(estimate_s),
            priority=priority,
        )

    def cycle(self, at_s: float) -> tuple[list[Decision], list[Entry]]:
        """One scheduling cycle at ``at_s``: its decisions and their entries (none when
        nothing is decided and no new job is waiting to be seen)."""
        self._check_time(at_s)
        cluster = self.cluster
        decisions = schedule(cluster, at_s, self.policy, self.placement)
        if not decisions and not cluster.fresh:
            return [], []
        entries = [self._entry(self.seq + 1 + k, at_s, d) for k, d in enumerate(decisions)]
        entries.append(Entry(self.seq + 1 + len(entries), at_s, Kind.CYCLE))
        return decisions, entries

    def finish(self, at_s: float, job: int) -> Entry:
        self._check_time(at_s)
        if job not in self.cluster.running:
            state = self.state(job)
            raise QueueError(f"workload {self._name(job)}: is {state}, not running; only a running workload finishes")
        return Entry(self.seq + 1, at_s, Kind.FINISH, job)

    def cancel(self, at_s: float, job: int, reason: str) -> Entry:
        """Withdraw a queued or running workload: it never runs again (its GPUs, if it
        holds any, are free for the next cycle)."""
        self._check_time(at_s)
        if problems := label_problems("reason", reason):
            raise QueueError("; ".join(problems))
        state = self.state(job)
        if state not in ("queued", "running"):
            raise QueueError(f"workload {self._name(job)}: is {state}; only a queued or running workload is cancelled")
        return Entry(self.seq + 1, at_s, Kind.CANCEL, job, reason=reason)

    def set_capacity(self, at_s: float, node: str, gpus: int, reason: str) -> list[Entry]:
        """Node ``node`` offers ``gpus`` GPUs from ``at_s``: the jobs on it first when it
        no longer holds them (preempted, in job order), then the capacity."""
        self._check_time(at_s)
        k = self._node.get(node)
        if k is None:
            raise QueueError(f"node: {node!r} is not in the fleet")
        pool = self.cluster.pool
        if isinstance(gpus, bool) or not isinstance(gpus, int) or not 0 <= gpus <= int(pool.snap.node_gpus[k]):
            raise QueueError(f"gpus: {gpus!r} is not 0 to the {int(pool.snap.node_gpus[k])} GPUs of node {node}")
        if gpus == int(pool.capacity[k]):
            return []
        entries: list[Entry] = []
        if gpus < int(pool.used[k]):
            for job in sorted(self.cluster.on_node.get(k, ())):
                entries.append(Entry(self.seq + 1 + len(entries), at_s, Kind.PREEMPT, job, reason=reason))
        entries.append(Entry(self.seq + 1 + len(entries), at_s, Kind.CAPACITY, nodes=(node,), gpus=gpus, reason=reason))
        return entries

    def due_s(self, now_s: float) -> float | None:
        """When a cycle is next due after ``now_s`` without any new event: the earliest
        time a running job crosses a limit of the policy (2D-LAS's queue limits) before
        it ends, or ``None`` (the simulator's driver reviews at the same times)."""
        review = getattr(self.policy, "next_review_s", None)
        if review is None:
            return None
        cluster = self.cluster
        due = [
            t
            for job in cluster.running
            if (t := review(cluster, job, now_s)) is not None and now_s < t < cluster.ends_s(job)
        ]
        return min(due) if due else None

    def state(self, job: int) -> str:
        cluster = self.cluster
        if not 0 <= job < cluster.size:
            raise UnknownWorkload(f"workload: no workload number {job} in this pool")
        if job in cluster.running:
            return "running"
        if job in cluster.waiting:
            return "queued"
        if job in cluster.rejected:
            return "rejected"
        if job in cluster.cancelled:
            return "cancelled"
        return "finished"

    # -- the only way state changes -----------------------------------------------------
    def apply(self, entries: Iterable[Entry]) -> None:
        """Apply journal entries in order (each must be the next: ``seq`` one more than
        the last applied)."""
        cluster = self.cluster
        for e in entries:
            if e.seq != self.seq + 1:
                raise QueueError(f"journal: entry {e.seq} is not the next one ({self.seq + 1})")
            if e.kind is Kind.SUBMIT:
                spec = JobSpec(e.name, e.at_s, e.gpus, e.estimate_s, e.estimate_s, cluster.tenant(e.team), e.priority)
                self._by_name[e.name] = cluster.submit(spec)
                self.names.append(e.name)
            elif e.kind is Kind.START:
                alloc = Allocation(tuple(self._node[n] for n in e.nodes), e.counts)
                cluster.apply(Start(e.job, alloc, resume=e.resume), e.at_s)
            elif e.kind is Kind.PREEMPT:
                cluster.apply(Preempt(e.job, e.reason), e.at_s)
            elif e.kind is Kind.REJECT:
                cluster.apply(Reject(e.job, e.reason), e.at_s)
            elif e.kind is Kind.CYCLE:
                cluster.fresh.clear()
            elif e.kind is Kind.FINISH:
                cluster.finish(e.job, e.at_s)
            elif e.kind is Kind.CANCEL:
                cluster.cancel(e.job, e.at_s, e.reason)
            elif e.kind is Kind.CAPACITY:
                cluster.pool.set_capacity(self._node[e.nodes[0]], e.gpus)
            self.seq = e.seq
            self.at_s = e.at_s

    # -- helpers ------------------------------------------------------------------------
    def _entry(self, seq: int, at_s: float, decision: Decision) -> Entry:
        snap = self.cluster.pool.snap
        if isinstance(decision, Start):
            nodes = tuple(snap.node_ids[n] for n in decision.alloc.nodes)
            return Entry(
                seq, at_s, Kind.START, decision.job, nodes=nodes, counts=decision.alloc.gpus, resume=decision.resume
            )
        if isinstance(decision, Preempt):
            return Entry(seq, at_s, Kind.PREEMPT, decision.job, reason=decision.reason)
        return Entry(seq, at_s, Kind.REJECT, decision.job, reason=decision.reason)

    def _check_time(self, at_s: float) -> None:
        if not at_s >= self.at_s:  # NaN fails too
            raise QueueError(f"time: {at_s} s is before the queue's last entry at {self.at_s} s")

    def _name(self, job: int) -> str:
        return self.names[job] if 0 <= job < len(self.names) else str(job)
