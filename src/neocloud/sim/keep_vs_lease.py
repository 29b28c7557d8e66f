"""Keep or lease, the simulator's half: the internal workload replayed on what stays.

For a fraction ``f`` of the candidate capacity leased away, the internal workload is
replayed on the rest of the fleet (the leased nodes are outages for the whole run, as
a lease of them is to the job pool), through the same scheduler the live queues run.

- **Candidates** (:func:`candidate_units`): the units of one level (sites, pods or
  fabric blocks) that may be leased, optionally only those of some sites; a lease
  takes whole units, the last candidates in fleet order first (:func:`leased_nodes`),
  as many as bring the leased GPUs nearest ``f`` x the candidates' GPUs (the fewer
  on a tie). ``f = 1`` leases every candidate; leasing every node of the fleet is
  refused (the internal work would have nowhere to run).
- **Internal workload at the fleet's scale** (:func:`scaled_jobs`): a real trace's jobs
  with each job's GPUs multiplied by ``scale`` (rounded, at least 1), durations kept,
  arrivals compressed by ``load`` (each submit time divided by it). With ``scale`` the
  fleet's GPUs over the trace's own cluster (Philly: 2,490 GPUs), every job asks the
  same share of the fleet as it asked of its own cluster, so the trace's queueing
  (its offered load, its mix of large and small asks) carries over to a fleet of any
  size; ``load`` then scales the offered load. A policy whose settings are GPU counts or
  GPU-seconds is scaled with the jobs (:func:`scaled_policy`: 2D-LAS's queue limits).
- **One fraction's replay as data** (:class:`Replay`, run by :func:`run_replay`): what a
  worker process or a Ray task needs besides the fleet and the trace, so the study's
  fractions can be replayed side by side (docs/keep-vs-lease.md "Speed").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from neocloud.domain.workload import TraceJob
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import FleetSnapshot
from neocloud.scheduling.cluster import DEFAULT_RESTART_S, Cluster
from neocloud.scheduling.cycle import Policy
from neocloud.scheduling.jobs import JobSpec
from neocloud.scheduling.policies import POLICIES
from neocloud.scheduling.policies.las import TIRESIAS_THRESHOLDS, Las
from neocloud.sim.driver import simulate
from neocloud.sim.lease_fraction import units_to_take
from neocloud.sim.metrics import Summary, summarize
from neocloud.sim.sweep import lease_outages
from neocloud.sim.workload import Window, job_specs

IntArray = npt.NDArray[np.int64]


class CandidateLevel(StrEnum):
    SITES = "sites"
    PODS = "pods"
    BLOCKS = "blocks"


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit that may be leased: its name and its nodes (indices, fleet order)."""

    name: str
    nodes: tuple[int, ...]
    gpus: int


def candidate_units(snap: FleetSnapshot, level: CandidateLevel, within: Sequence[str] = ()) -> list[Unit]:
    """The units of ``level`` (in fleet order) that may be leased: those of the sites
    named in ``within``, or of every site. ``ValueError`` naming an unknown site or an
    empty candidate set."""
    unknown = [s for s in within if s not in snap.site_names]
    if unknown:
        raise ValueError(f"candidates: unknown site {unknown[0]!r}; the fleet has {', '.join(snap.site_names)}")
    allowed = {snap.site_names.index(s) for s in within} if within else set(range(len(snap.site_names)))
    unit_of, names = {
        CandidateLevel.SITES: (snap.node_site, snap.site_names),
        CandidateLevel.PODS: (snap.node_pod, snap.pod_names),
        CandidateLevel.BLOCKS: (snap.node_block, snap.block_names),
    }[level]
    units: list[Unit] = []
    for k, name in enumerate(names):
        nodes = np.flatnonzero(unit_of == k)
        if nodes.size and int(snap.node_site[nodes[0]]) in allowed:
            units.append(Unit(name, tuple(int(n) for n in nodes), int(snap.node_gpus[nodes].sum())))
    if not units:
        raise ValueError(f"candidates: no {level.value} to lease")
    return units


def leased_nodes(snap: FleetSnapshot, units: Sequence[Unit], fraction: float) -> tuple[IntArray, tuple[str, ...]]:
    """The nodes and unit names a lease of ``fraction`` of the candidates' GPUs takes
    (module doc); ``ValueError`` for a fraction outside 0..1 or a lease of every node."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction: {fraction} is not from 0 to 1")
    order = list(reversed(units))  # the last candidates first
    sizes = [u.gpus for u in order]
    chosen = order[: units_to_take(sizes, fraction * sum(sizes))]
    nodes = np.asarray(sorted(n for u in chosen for n in u.nodes), np.int64)
    if len(nodes) == len(snap.node_ids):
        raise ValueError(f"fraction: {fraction:g} leases every node of the fleet; the internal work needs some")
    return nodes, tuple(u.name for u in reversed(chosen))


def scaled_jobs(specs: Iterable[JobSpec], *, scale: float, load: float = 1.0) -> Iterator[JobSpec]:
    """``specs`` at the fleet's scale (module doc): GPUs x ``scale`` (rounded, at least
    1), submit times divided by ``load``."""
    if not scale > 0 or not load > 0:
        raise ValueError(f"scale {scale} and load {load}: both must be above 0")
    for s in specs:
        gpus = max(1, round(s.gpus * scale))
        yield JobSpec(
            s.id,
            s.submit_s / load,
            gpus,
            s.duration_s,
            s.estimate_s,
            s.tenant,
            s.priority,
            s.model,
            s.consolidate,
            None if s.deadline_s is None else s.submit_s / load + (s.deadline_s - s.submit_s),
        )


@dataclass(frozen=True, slots=True)
class Kept:
    """The internal workload on what stays after leasing ``fraction`` of the candidates."""

    fraction: float
    leased_units: tuple[str, ...]
    leased_gpus: dict[str, int]  # per GPU model
    kept_gpus: int
    summary: Summary


def replay_kept(
    snap: FleetSnapshot,
    trace: Iterable[TraceJob],
    units: Sequence[Unit],
    fraction: float,
    *,
    policy: Policy,
    placement: JobPlacement,
    scale: float,
    load: float = 1.0,
    window: Window | None = None,
    restart_s: float = DEFAULT_RESTART_S,
) -> Kept:
    """Replay ``trace`` at the fleet's scale (:func:`scaled_jobs`) with ``fraction`` of
    the candidates leased away for the whole run."""
    nodes, names = leased_nodes(snap, units, fraction)
    leased: dict[str, int] = {}
    for n in nodes.tolist():
        model = snap.models[int(snap.node_model[n])]
        leased[model] = leased.get(model, 0) + int(snap.node_gpus[n])
    cluster = Cluster(GpuPool(snap), tenants=(), restart_s=restart_s)
    jobs = scaled_jobs(job_specs(trace, cluster.tenant, window=window), scale=scale, load=load)
    run = simulate(cluster, jobs, policy, placement, outages=lease_outages(nodes))
    kept = snap.total_gpus - sum(leased.values())
    return Kept(fraction, names, leased, kept, summarize(run))


@dataclass(frozen=True, slots=True)
class Replay:
    """One fraction's internal replay (:func:`replay_kept`'s arguments but the fleet
    and the trace), as plain data a worker can be sent."""

    fraction: float
    units: tuple[Unit, ...]
    policy: str  # a name in ``scheduling.policies.POLICIES``
    placement: JobPlacement
    scale: float
    load: float = 1.0
    window: Window | None = None
    restart_s: float = DEFAULT_RESTART_S


def scaled_policy(name: str, scale: float) -> Policy:
    """Policy ``name`` at the fleet's scale. 2D-LAS's queue limits are GPU-seconds of
    attained service; a job scaled to ``scale`` x its GPUs crosses them ``scale`` x
    sooner, so the limits are scaled with it: a job changes queue at the same point of
    its run as on its own cluster (unscaled, every job at colossus scale leaves the
    first queue within seconds, and the policy is no longer Tiresias')."""
    if name == "las":
        return Las(tuple(t * scale for t in TIRESIAS_THRESHOLDS))
    return POLICIES[name]()


def run_replay(replay: Replay, snap: FleetSnapshot, trace: Iterable[TraceJob]) -> Kept:
    """:func:`replay_kept` for ``replay``, its policy at the replay's scale
    (:func:`scaled_policy`)."""
    return replay_kept(
        snap,
        trace,
        replay.units,
        replay.fraction,
        policy=scaled_policy(replay.policy, replay.scale),
        placement=replay.placement,
        scale=replay.scale,
        load=replay.load,
        window=replay.window,
        restart_s=replay.restart_s,
    )
