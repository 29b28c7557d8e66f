"""One scheduling cycle: decisions from the state, as values; the state is left as it was.

:func:`schedule` runs numbered phases over the cluster at ``now_s``:

0. **Admit.** A job submitted since the last cycle that asks for more GPUs (of its
   model) than the whole fleet has is rejected, whatever the policy: it could only
   wait forever; so is one the policy says it can never admit (``never_admits``, a
   quota policy's limits).
1. **Order.** The policy orders the candidates: the waiting jobs, or for a preemptive
   policy every active job (running and waiting).
2. **Select** (preemptive policies only). Walking that order, a job is kept while its
   GPUs fit the pool's capacity by count (jobs that do not fit are skipped, smaller
   ones after them may still fit); running jobs not kept are to be preempted, and
   their GPUs count as free for the next phase. After it, a job to be preempted whose
   GPUs no start took keeps running (placement may not find room for a job the count
   kept): no GPU is freed for nothing.
3. **Place.** Walking the candidates (for a preemptive policy: the kept waiting
   ones), each job the policy's gate admits is placed by the placement policy on
   what is free so far; a job that does not fit asks the gate whether the walk stops
   (strict FIFO) or goes on (backfill, SJF, LAS).
4. **Undo.** Every tentative take and give on the pool is reverted; the caller
   applies the decisions (:meth:`~neocloud.scheduling.cluster.Cluster.apply_cycle`).

:func:`run_cycle` is the same phases followed by the apply, for a driver (the
simulator's loop) that applies every cycle it runs: instead of reverting the
tentative takes and gives and making them again, it keeps them as the applied pool
state (the pool then holds exactly what applying the decisions to it would give) and
applies the rest of each decision. That halves the pool's bookkeeping per start; a
property test holds the two paths to the same runs.

A job that failed to place makes every later job of its constraints (model,
consolidation) needing at least as many GPUs fail too in the same cycle where that
holds (by count; by topology over nodes of one size), so the walk skips those without
asking placement again.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neocloud.placement.jobs import JobPlacement, place_job
from neocloud.placement.pool import Allocation, GpuPool
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
    undo = _Tentative(cluster.pool)
    try:
        return _decide(cluster, now_s, policy, placement, undo)
    finally:
        undo.revert()  # 4. undo


def run_cycle(cluster: Cluster, now_s: float, policy: Policy, placement: JobPlacement) -> list[Decision]:
    """One cycle's decisions, applied to ``cluster`` at ``now_s``: the same as
    :func:`schedule` then ``cluster.apply_cycle``, with the cycle's tentative pool
    state kept as the applied one (module doc)."""
    undo = _Tentative(cluster.pool)
    try:
        decisions = _decide(cluster, now_s, policy, placement, undo)
    except BaseException:
        undo.revert()
        raise
    cluster.apply_cycle(decisions, now_s, pool_applied=True)
    return decisions


def _decide(
    cluster: Cluster, now_s: float, policy: Policy, placement: JobPlacement, undo: _Tentative
) -> list[Decision]:
    """Phases 0-3 (module doc); the pool is left as the decisions would leave it, with
    every change recorded in ``undo``."""
    if not cluster.waiting:
        return []  # nothing to admit, start or run instead of a running job
    decisions: list[Decision] = []
    rejected = _admit(cluster, policy, decisions)
    # 1. order, and 2. select (preemptive policies, when not everything fits by count)
    preempted: list[tuple[int, Allocation]] = []
    if policy.preemptive and cluster.active_gpus > cluster.pool.total_capacity:
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
            undo.give(held)
            preempted.append((job, held))
        candidates: Iterable[int] = order[kept & ~running].tolist()
    elif len(cluster.waiting) - len(rejected) <= 1:  # one job has no order to find
        candidates = [j for j in cluster.waiting if j not in rejected]
    elif policy.in_submission_order:  # FIFO and backfill: no sort, the walk stops early
        waiting_jobs = cluster.waiting_in_order()
        candidates = (j for j in waiting_jobs if j not in rejected) if rejected else waiting_jobs
    else:
        waiting = np.fromiter((j for j in cluster.waiting if j not in rejected), np.int64)
        candidates = np.asarray(policy.order(cluster, now_s, waiting), np.int64).tolist()
    # 3. place
    starts: list[Decision] = []
    _place(cluster, now_s=now_s, policy=policy, placement=placement, candidates=candidates, undo=undo, out=starts)
    # 2b. keep running what no start needed: a job selected by count may still not
    # have found room by placement, and then the GPUs it was to take stay with the
    # job that holds them (highest ranked first)
    for job, held in preempted:
        if all(undo.pool.free_at(n) >= k for n, k in zip(held.nodes, held.gpus, strict=True)):
            undo.take(held)
        else:
            decisions.append(Preempt(job, f"{policy.name}: outranked"))
    decisions += starts  # applied in order: preemptions free the GPUs starts take
    return decisions


def _admit(cluster: Cluster, policy: Policy, decisions: list[Decision]) -> set[int]:
    """0. admit: reject the new jobs that can never run; their numbers."""
    rejected: set[int] = set()
    never_admits = getattr(policy, "never_admits", None)
    for job in cluster.fresh:
        reason = _never_fits(cluster, cluster.jobs[job])
        if not reason and never_admits is not None:
            reason = never_admits(cluster, job)
        if reason:
            decisions.append(Reject(job, reason))
            rejected.add(job)
    return rejected


class _Tentative:
    """Takes and gives on the pool during a cycle, reverted at its end."""

    def __init__(self, pool: GpuPool) -> None:
        self.pool = pool
        self.done: list[tuple[bool, Allocation]] = []

    def take(self, alloc: Allocation) -> None:
        self.pool.take(alloc)
        self.done.append((True, alloc))

    def give(self, alloc: Allocation) -> None:
        self.pool.give(alloc)
        self.done.append((False, alloc))

    def revert(self) -> None:
        for took, alloc in reversed(self.done):
            if took:
                self.pool.give(alloc)
            else:
                self.pool.take(alloc)
        self.done.clear()


def _place(
    cluster: Cluster,
    *,
    now_s: float,
    policy: Policy,
    placement: JobPlacement,
    candidates: Iterable[int],
    undo: _Tentative,
    out: list[Decision],
) -> None:
    """3. place the candidates the gate admits, on what is free so far."""
    pool = cluster.pool
    gate = policy.gate(cluster, now_s)
    failed: dict[tuple[int | None, bool], int] = {}  # constraints -> fewest GPUs that failed
    for job in candidates:
        if pool.total_free == 0:
            break
        spec = cluster.jobs[job]
        if not gate.admits(job):
            continue
        key = (spec.model, spec.consolidate)
        monotone = _failure_grows_with_size(pool, placement, spec)
        alloc: Allocation | None = None
        if not monotone or spec.gpus < failed.get(key, spec.gpus + 1):
            alloc = place_job(pool, spec.gpus, placement, model=spec.model, consolidate=spec.consolidate)
        if alloc is None:
            if monotone:
                failed[key] = min(failed.get(key, spec.gpus), spec.gpus)
            if gate.blocked(job):
                break
            continue
        undo.take(alloc)
        out.append(Start(job, alloc, resume=bool(cluster.runs[job])))
        gate.started(job, alloc)


def _failure_grows_with_size(pool: GpuPool, placement: JobPlacement, spec: JobSpec) -> bool:
    """True when a job of ``spec``'s constraints that did not fit means no larger one
    fits either: by count always; by topology only over nodes of one size (else a job
    too large for the largest node may span whole smaller ones that a smaller job could
    not use), and never for a job held to its smallest unit (consolidation)."""
    if placement is JobPlacement.COUNT:
        return True
    if spec.consolidate:
        return False
    if placement is JobPlacement.CONSOLIDATED:
        return True  # it falls back to any free GPUs
    return pool.uniform if spec.model is None else pool.model_uniform[spec.model]


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
    pool = cluster.pool
    if spec.model is None:
        most = pool.fleet_gpus
        what = "GPUs"
    else:
        most = pool.model_gpus[spec.model]
        what = f"{pool.snap.models[spec.model]} GPUs"
    if spec.gpus > most:
        return f"asks for {spec.gpus} GPUs; the fleet has {most} {what}"
    return ""
