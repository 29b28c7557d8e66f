"""Internal pools' job queues, live: the simulator's scheduler admitting real work.

Internal teams submit workloads (GPUs, estimated run time, priority, team) to an
internal pool's queue; each cycle runs :func:`~neocloud.scheduling.cycle.schedule`,
the function the simulator runs, on the pool's capacity now: the nodes the ledger
books to the pool (``assign_pool``) that are healthy. Admissions, preemptions,
rejections, completions and capacity changes are appended to the pool's journal in
the database (:mod:`neocloud.domain.queue`), and the in-memory
:class:`~neocloud.scheduling.live.LiveQueue` applies them after the commit. Any
process catches up by replaying the entries it has not seen, so several server
workers share one queue; two writers of the same next entry cannot both commit (the
journal's key), and the loser's cached queue is dropped and replayed.

neocloud decides who runs where and when; it does not launch processes: a workload
reports that it finished (the hand-off to Slurm or Kubernetes comes later).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from neocloud.domain.changes import StoreError
from neocloud.domain.clock import Clock
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.queue import MAX_RESTART_S, Entry, Kind, PoolConfig, TeamQuota, label_problems
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.snapshot import FleetSnapshot
from neocloud.scheduling.cluster import DEFAULT_RESTART_S
from neocloud.scheduling.cycle import Policy
from neocloud.scheduling.live import LiveQueue, QueueError, UnknownWorkload
from neocloud.scheduling.policies import POLICIES
from neocloud.scheduling.policies.fairshare import FairShare, Quota
from neocloud.services.idempotency import Claim, Replayed
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import QueueStore

#: How many of a pool's latest journal entries a queue view shows.
RECENT_ENTRIES = 50
#: How often a cycle reads the ledger again when the journal moved meanwhile [D].
CYCLE_ATTEMPTS = 3
log = logging.getLogger(__name__)
#: A pool's name: it is a path segment of the API and the holder of its ledger bookings.
POOL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")


@dataclass(frozen=True, slots=True)
class WorkloadView:
    """One workload as the queue sees it now (times in epoch seconds)."""

    pool: str
    number: int
    name: str
    team: str
    gpus: int
    estimate_s: float
    priority: int
    state: str  # queued, running, finished, rejected, cancelled
    submitted_s: float
    started_s: float | None  # the first start
    expected_end_s: float | None  # running: when its estimate runs out
    nodes: tuple[tuple[str, int], ...]  # running: (node, GPUs)
    preemptions: int
    reason: str  # rejected or cancelled: why


@dataclass(frozen=True, slots=True)
class QueueView:
    pool: PoolConfig
    now_s: float
    offered_gpus: int
    used_gpus: int
    workloads: list[WorkloadView]
    recent: list[Entry]  # the latest entries, oldest first
    next_cycle_due_s: float | None  # a policy's review (2D-LAS) with no event before it


class QueueService:
    def __init__(self, store: QueueStore, leasing: LeasingService, clock: Clock) -> None:
        self.store = store
        self.leasing = leasing
        self.clock = clock
        self._queues: dict[str, tuple[PoolConfig, LiveQueue]] = {}
        self._mutex = threading.RLock()

    # -- pools --------------------------------------------------------------------------
    def create_pool(
        self,
        name: str,
        *,
        policy: str = "fifo",
        placement: str = "firstfit",
        restart_s: float = DEFAULT_RESTART_S,
        quotas: Sequence[TeamQuota] = (),
        actor: str,
        claim: Claim[PoolConfig] | None = None,
    ) -> PoolConfig:
        """A queue for internal pool ``name`` (its capacity: what the ledger books to
        the pool). Refuses, naming the field, a bad name, policy, placement, restart
        cost or quota, and a pool that has a queue already."""
        problems = []
        if not POOL_NAME.fullmatch(name):
            problems.append(
                f"name: {name!r} is not 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        if policy not in POLICIES:
            problems.append(f"policy: {policy!r} is not one of {', '.join(POLICIES)}")
        if placement not in {p.value for p in JobPlacement}:
            problems.append(f"placement: {placement!r} is not one of {', '.join(p.value for p in JobPlacement)}")
        if not 0 <= restart_s <= MAX_RESTART_S:
            problems.append(f"restart_s: {restart_s!r} is not a number of seconds from 0 to 30 days")
        if quotas and policy != "fairshare":
            problems.append(f"quotas: apply to policy fairshare, not {policy}")
        teams = [q.team for q in quotas]
        for k, q in enumerate(quotas):
            problems += [f"quotas[{k}]: {p}" for p in _quota(q).problems(q.team) + label_problems("team", q.team)]
            if teams.index(q.team) != k:
                problems.append(f"quotas[{k}]: team {q.team!r} has a quota already")
        if problems:
            raise RequestError(problems)
        now = self.clock.now().timestamp()
        pool = PoolConfig(
            name, policy, placement, float(restart_s), math.floor(now), math.floor(now), actor, tuple(quotas)
        )
        with self._mutex, self.store.writing() as writer:
            if claim is not None:
                claim.check(writer)
            writer.add_queue_pool(pool)
            if claim is not None:
                claim.keep(writer, pool, math.floor(now))
        return pool

    def pools(self) -> list[PoolConfig]:
        return self.store.queue_pools()

    # -- workloads ----------------------------------------------------------------------
    def submit(
        self,
        pool: str,
        *,
        name: str,
        team: str,
        gpus: int,
        estimate_s: float,
        priority: int = 0,
        claim: Claim[WorkloadView] | None = None,
    ) -> WorkloadView:
        """Queue a workload; it starts when a cycle admits it. ``claim``: an
        ``Idempotency-Key``, settled in the transaction that appends the entry (as each
        write here)."""
        entries = self._op(
            pool,
            lambda q, now: [q.submit(now, name=name, team=team, gpus=gpus, estimate_s=estimate_s, priority=priority)],
            claim=claim,
        )
        return self.workload(pool, entries[0].job)

    def finish(self, pool: str, number: int, *, claim: Claim[WorkloadView] | None = None) -> WorkloadView:
        """A running workload reports it is done: its GPUs are free for the next cycle."""
        self._op(pool, lambda q, now: [q.finish(now, number)], claim=claim)
        return self.workload(pool, number)

    def cancel(
        self, pool: str, number: int, *, actor: str, reason: str = "", claim: Claim[WorkloadView] | None = None
    ) -> WorkloadView:
        """Withdraw a queued or running workload (its GPUs, if any, are free for the next
        cycle); ``reason`` says who and why in the journal."""
        if reason and (problems := label_problems("reason", reason)):
            raise RequestError(problems)
        why = f"cancelled by {actor}" + (f": {reason}" if reason else "")
        self._op(pool, lambda q, now: [q.cancel(now, number, why)], claim=claim)
        return self.workload(pool, number)

    def cycle(self, pool: str) -> list[Entry]:
        """One scheduling cycle now: the pool's capacity brought up to the ledger's
        (jobs on nodes that left it preempted first), then the policy's decisions. The
        entries written, in order.

        The ledger is read before the store's write lock is taken (``_op``); if the
        journal moved on between that read and the lock (another process's cycle saw a
        newer ledger), the read is stale and is made again, up to
        :data:`CYCLE_ATTEMPTS` times."""
        with self._mutex:
            for _ in range(CYCLE_ATTEMPTS):
                _, seen = self._caught_up(pool)  # an unknown pool is NotFound before the ledger is asked
                at = seen.seq
                snap, offered = self.leasing.pool_capacity(pool, math.floor(self.clock.now().timestamp()))
                try:
                    question = functools.partial(_cycle_on, snap=snap, offered=offered, seen_seq=at)
                    return self._op(pool, question, applies=True)
                except _StaleCapacity:
                    continue
            raise StoreError(f"pool {pool}: the journal kept moving while the ledger was read; try again")

    def cycle_all(self) -> int:
        """A cycle of every pool's queue (the server's ticker); the entries written. A
        pool whose cycle fails is logged and the others still cycle."""
        written = 0
        for p in self.pools():
            try:
                written += len(self.cycle(p.name))
            except Exception:
                log.exception("pool %s: the cycle failed; the next tick tries again", p.name)
        return written

    # -- reads --------------------------------------------------------------------------
    def workload(self, pool: str, number: int) -> WorkloadView:
        with self._mutex:
            config, queue = self._caught_up(pool)
            try:
                state = queue.state(number)
            except QueueError as e:
                raise NotFound(f"pool {pool}: no workload number {number}") from e
            return _view(config, queue, number, state)

    def queue(self, pool: str) -> QueueView:
        with self._mutex:
            return self._queue_view(pool)

    def _queue_view(self, pool: str) -> QueueView:
        config, queue = self._caught_up(pool)
        cluster = queue.cluster
        now = self.clock.now().timestamp() - config.origin_s
        workloads = [_view(config, queue, j, queue.state(j)) for j in range(cluster.size)]
        recent = [e for e in self.store.queue_entries(pool, max(queue.seq - RECENT_ENTRIES, 0)) if e.seq <= queue.seq]
        due = queue.due_s(max(now, queue.at_s))
        return QueueView(
            config,
            config.origin_s + now,
            cluster.pool.total_capacity,
            cluster.pool.total_used,
            workloads,
            recent,
            None if due is None else config.origin_s + due,
        )

    # -- the write path -----------------------------------------------------------------
    def _op(
        self,
        pool: str,
        question: Callable[[LiveQueue, float], list[Entry]],
        *,
        applies: bool = False,
        claim: Claim[WorkloadView] | None = None,
    ) -> list[Entry]:
        """Under this process's queue mutex and then the store's write lock: catch the
        queue up, ask ``question`` at now, append its entries, commit, then apply them
        (``applies``: the question applied them itself as it went, to ask the next part).
        Readers take the same mutex, so none sees a state the commit has not made; if
        anything fails after the queue changed (a refused commit, an apply that raises),
        the cached queue is dropped and the next call replays it from the store. The
        ledger is never asked while the store's lock is held (the leasing service takes
        its own mutex, then that lock: the other order would deadlock).

        With a ``claim`` (an ``Idempotency-Key``; the question's first entry names the
        workload), a replay raises ``Replayed`` before anything is read or written, and
        the workload's view after the entries is kept in the same transaction."""
        with self._mutex:
            config, queue = self._cached(pool, self.store.queue_pools)  # may ask the ledger: before the lock
            try:
                with self.store.writing() as writer:
                    if claim is not None:
                        claim.check(writer)
                    queue.apply(writer.queue_entries(pool, queue.seq))
                    now = max(self.clock.now().timestamp() - config.origin_s, queue.at_s)
                    try:
                        entries = question(queue, now)
                    except UnknownWorkload as e:
                        raise NotFound(f"pool {pool}: {e}") from e
                    except QueueError as e:
                        raise RequestError([str(e)]) from e
                    writer.append_queue(pool, entries)
                    if not applies:
                        queue.apply(entries)  # before the commit: a failed one drops the queue below
                    if claim is not None:
                        job = entries[0].job
                        view = _view(config, queue, job, queue.state(job))
                        claim.keep(writer, view, math.floor(config.origin_s + now))
            except (_StaleCapacity, Replayed):
                raise  # refused, or replayed, before anything changed: the cached queue stands
            except BaseException:
                self._queues.pop(pool, None)
                raise
            return entries

    def _caught_up(self, pool: str) -> tuple[PoolConfig, LiveQueue]:
        """The pool's queue with every committed entry applied (call under ``_mutex``)."""
        config, queue = self._cached(pool, self.store.queue_pools)
        try:
            queue.apply(self.store.queue_entries(pool, queue.seq))
        except BaseException:
            self._queues.pop(pool, None)
            raise
        return config, queue

    def _cached(self, pool: str, pools: Callable[[], list[PoolConfig]]) -> tuple[PoolConfig, LiveQueue]:
        found = self._queues.get(pool)
        if found is None:
            config = next((p for p in pools() if p.name == pool), None)
            if config is None:
                raise NotFound(f"pool {pool!r} has no queue")
            snap, _ = self.leasing.pool_capacity(pool, config.origin_s)
            # capacity starts at none: the first cycle brings it to the ledger's, in the journal
            queue = LiveQueue(
                snap,
                _policy(config),
                JobPlacement(config.placement),
                restart_s=config.restart_s,
                capacity=[0] * len(snap.node_ids),
            )
            found = self._queues[pool] = (config, queue)
        return found


class _StaleCapacity(Exception):
    """The ledger's answer was read before entries the journal has now."""


def _cycle_on(q: LiveQueue, now: float, *, snap: FleetSnapshot, offered: list[int], seen_seq: int) -> list[Entry]:
    if q.seq != seen_seq:
        raise _StaleCapacity
    out: list[Entry] = []
    capacity = q.cluster.pool.capacity
    for k, gpus in enumerate(offered):
        if gpus != int(capacity[k]):
            changed = q.set_capacity(now, snap.node_ids[k], gpus, _why(gpus))
            q.apply(changed)
            out += changed
    _, decided = q.cycle(now)
    q.apply(decided)
    return out + decided


def _policy(config: PoolConfig) -> Policy:
    if config.quotas:
        return FairShare({q.team: _quota(q) for q in config.quotas})
    return POLICIES[config.policy]()


def _quota(q: TeamQuota) -> Quota:
    return Quota(q.nominal, q.borrowing_limit, q.lending_limit, q.weight)


def _why(gpus: int) -> str:
    return "the pool holds the node" if gpus else "the node left the pool (its booking ended, or it is down)"


def _view(config: PoolConfig, queue: LiveQueue, job: int, state: str) -> WorkloadView:
    cluster = queue.cluster
    spec = cluster.jobs[job]
    origin = config.origin_s
    started = float(cluster.first_start_s[job])
    alloc = cluster.running.get(job)
    snap = cluster.pool.snap
    return WorkloadView(
        config.name,
        job,
        spec.id,
        cluster.tenants[spec.tenant],
        spec.gpus,
        spec.estimate_s,
        spec.priority,
        state,
        origin + spec.submit_s,
        None if math.isnan(started) else origin + started,
        origin + cluster.ends_s(job) if alloc is not None else None,
        tuple((snap.node_ids[n], k) for n, k in zip(alloc.nodes, alloc.gpus, strict=True)) if alloc else (),
        int(cluster.preemptions[job]),
        cluster.rejected.get(job, "") or cluster.cancelled.get(job, ""),
    )


__all__ = ["Kind", "QueueService", "QueueView", "WorkloadView"]
