"""One scheduling cycle: decisions from the state, as values; the state is left as it was.

:func:`schedule` runs numbered phases over the cluster at ``now_s``:

0. **Admit.** A job submitted since the last cycle that asks for more GPUs (of its
   model) than the whole fleet has is rejected, whatever the policy: it could only
   wait forever.
1. **Order.** The policy orders the candidates: the waiting jobs, or for a preemptive
   policy every active job (running and waiting).
2. **Select** (preemptive policies only). Walking that order, a job is kept while its
   GPUs fit the pool's capacity by count (jobs that do not fit are skipped, smaller
   ones after them may still fit); running jobs not kept are preempted, and their
   GPUs count as free for the next phase.
3. **Place.** Walking the candidates (for a preemptive policy: the kept waiting
   ones), each job the policy's gate admits is placed by the placement policy on
   what is free so far; a job that does not fit asks the gate whether the walk stops
   (strict FIFO) or goes on (backfill, SJF, LAS).
4. **Undo.** Every tentative take and give on the pool is reverted; the caller
   applies the decisions (:meth:`~neocloud.scheduling.cluster.Cluster.apply_cycle`).

A job that failed to place makes every later job of its constraints (model,
consolidation) needing at least as many GPUs fail too in the same cycle, so the walk
skips those without asking placement again: the cycle costs what it starts, not what
waits.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neocloud.placement.jobs import JobPlacement, place_job
from neocloud.placement.pool import Allocation
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.jobs import Decision, JobSpec, Preempt, Reject, Start

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Gate(Protocol):
    """A policy's rules for one cycle's placement walk."""

    def admits(self, job: int) -> bool:
        """May ``job`` start now (quota, backfill reservation)?"""
        ...

    def started(self, job: int, alloc: Allocation) -> None:
        """``job`` was placed on ``alloc`` in this cycle."""
        ...

    def blocked(self, job: int) -> bool:
        """``job`` did not fit; True stops the walk."""
        ...


class Policy(Protocol):
    """``in_submission_order``: the policy's order is submission order (``order``
    sorts by job number), so the cycle walks the waiting jobs as the cluster keeps them
    and stops early (strict FIFO's first blocked job, or a full pool) without ranking
    every waiting job first."""

    name: str
    preemptive: bool
    in_submission_order: bool

    def order(self, cluster: Cluster, now_s: float, jobs: IntArray) -> IntArray:
        """``jobs`` (job numbers) in the order the policy would run them."""
        ...

    def gate(self, cluster: Cluster, now_s: float) -> Gate:
        """The rules of this cycle's placement walk."""
        ...


class OpenGate:
    """Admits every job; stops the walk at the first that does not fit when ``strict``."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict

    def admits(self, job: int) -> bool:
        return True

    def started(self, job: int, alloc: Allocation) -> None:
        return None

    def blocked(self, job: int) -> bool:
        return self.strict


def schedule(cluster: Cluster, now_s: float, policy: Policy, placement: JobPlacement) -> list[Decision]:
    """The decisions of one cycle (see the module doc); ``cluster`` is unchanged."""
    if not cluster.waiting:
        return []  # nothing to admit, start or run instead of a running job
    pool = cluster.pool
    decisions: list[Decision] = []
    given: list[Allocation] = []
    taken: list[Allocation] = []
    rejected: set[int] = set()
    for job in cluster.fresh:  # 0. admit
        reason = _never_fits(cluster, cluster.jobs[job])
        if reason:
            decisions.append(Reject(job, reason))
            rejected.add(job)
    try:
        # 1. order, and 2. select (preemptive policies, when not everything fits by count)
        candidates = _order_and_select(cluster, now_s, policy, rejected, given=given, decisions=decisions)
        # 3. place
        gate = policy.gate(cluster, now_s)
        failed: dict[tuple[int | None, bool], int] = {}  # constraints -> fewest GPUs that failed
        for job in candidates:
            if pool.total_free == 0:
                break
            spec = cluster.jobs[job]
            if not gate.admits(job):
                continue
            key = (spec.model, spec.consolidate)
            alloc: Allocation | None = None
            if spec.gpus < failed.get(key, spec.gpus + 1):
                alloc = place_job(pool, spec.gpus, placement, model=spec.model, consolidate=spec.consolidate)
            if alloc is None:
                failed[key] = min(failed.get(key, spec.gpus), spec.gpus)
                if gate.blocked(job):
                    break
                continue
            pool.take(alloc)
            taken.append(alloc)
            decisions.append(Start(job, alloc))
            gate.started(job, alloc)
    finally:
        # 4. undo
        for alloc in reversed(taken):
            pool.give(alloc)
        for alloc in reversed(given):
            pool.take(alloc)
    return decisions


def _order_and_select(
    cluster: Cluster,
    now_s: float,
    policy: Policy,
    rejected: set[int],
    *,
    given: list[Allocation],
    decisions: list[Decision],
) -> Iterable[int]:
    """Phases 1 and 2: the jobs to try placing, in order. A preemptive policy over an
    oversubscribed pool ranks every active job and selects by count; the running jobs
    not kept are preempted (their GPUs given back tentatively, into ``given``)."""
    pool = cluster.pool
    if policy.preemptive and cluster.active_gpus > pool.total_capacity:
        everyone = chain(cluster.running, cluster.waiting)
        if rejected:
            active = np.fromiter((j for j in everyone if j not in rejected), np.int64)
        else:
            active = np.fromiter(everyone, np.int64, len(cluster.running) + len(cluster.waiting))
        order = np.asarray(policy.order(cluster, now_s, active), np.int64)
        kept = _select_by_count(cluster, order)
        running = cluster.is_running[order]
        for job in order[running & ~kept].tolist():
            held = cluster.running[job]
            pool.give(held)
            given.append(held)
            decisions.append(Preempt(job, f"{policy.name}: outranked"))
        candidates: list[int] = order[kept & ~running].tolist()
        return candidates
    if policy.in_submission_order:
        waiting_jobs = cluster.waiting_in_order()
        return (j for j in waiting_jobs if j not in rejected) if rejected else waiting_jobs
    waiting = np.fromiter((j for j in cluster.waiting if j not in rejected), np.int64)
    ordered: list[int] = np.asarray(policy.order(cluster, now_s, waiting), np.int64).tolist()
    return ordered


def _select_by_count(cluster: Cluster, order: IntArray) -> BoolArray:
    """Which jobs of ``order`` are kept when each takes its GPUs from the pool's
    capacity by count, in order, skipping those that no longer fit (per GPU model
    when a job names one). Vectorised: a prefix that fits at once, then the smaller
    jobs after each skipped one, a round per skip."""
    if cluster.model_jobs:
        return _select_by_model(cluster, order)
    gpus = cluster.gpus[order]
    kept = np.zeros(len(order), bool)
    left = cluster.pool.total_capacity
    start = 0
    while left > 0 and start < len(order):
        rest = start + np.flatnonzero(gpus[start:] <= left)
        if not rest.size:
            break
        covered = np.cumsum(gpus[rest])
        fit = int(np.searchsorted(covered, left, side="right"))
        kept[rest[:fit]] = True
        left -= int(covered[fit - 1]) if fit else 0
        if fit == len(rest):
            break
        start = int(rest[fit]) + 1  # the first that did not fit is skipped
    return kept


def _select_by_model(cluster: Cluster, order: IntArray) -> BoolArray:
    """:func:`_select_by_count` one job at a time, with a count per GPU model."""
    pool = cluster.pool
    left = pool.total_capacity
    by_model: dict[int, int] = {}
    kept = np.zeros(len(order), bool)
    for k, job in enumerate(order.tolist()):
        spec = cluster.jobs[job]
        if spec.gpus > left:
            if left == 0:
                break
            continue
        if spec.model is not None:
            room = by_model.setdefault(spec.model, _model_capacity(cluster, spec.model))
            if spec.gpus > room:
                continue
            by_model[spec.model] = room - spec.gpus
        left -= spec.gpus
        kept[k] = True
    return kept


def _model_capacity(cluster: Cluster, model: int) -> int:
    pool = cluster.pool
    return int(pool.capacity[pool.snap.node_model == model].sum())


def _never_fits(cluster: Cluster, spec: JobSpec) -> str:
    """Why ``spec`` can never run on this fleet, or "" when it could."""
    snap = cluster.pool.snap
    if spec.model is None:
        most = snap.total_gpus
        what = "GPUs"
    else:
        most = int(snap.node_gpus[snap.node_model == spec.model].sum())
        what = f"{snap.models[spec.model]} GPUs"
    if spec.gpus > most:
        return f"asks for {spec.gpus} GPUs; the fleet has {most} {what}"
    return ""
