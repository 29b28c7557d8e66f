"""A sweep: the grid of simulator runs and the one function that runs a point of it.

``neocloud sim sweep`` replays one trace on one cluster over policies x lease fractions
x load factors x seeds. This module is the whole of what a point *is* and what it
*yields*; the executors (local processes, Ray tasks) only map :func:`run_point` over
:meth:`Grid.points` and put the rows back in grid order, so every executor gives the
same rows for the same points (docs/simulator.md "Sweeps").

- **Load factor** ``L``: every submission time (after the window is re-based to 0) is
  divided by ``L``, durations kept, so the arrival rate and the offered load scale by
  ``L``. A deadline keeps its distance from its job's submission.
- **Lease fraction** ``f``: that share of the cluster's nodes is leased away for the
  whole run, as :class:`~neocloud.sim.driver.Outage` values from 0 to infinity (cause
  ``lease``). Where the fleet has more than one fabric block the lease takes whole
  blocks, else whole nodes; either way the *last* units in fleet order, as many as
  bring the leased nodes nearest ``f x nodes`` (the fewer on a tie), never all of
  them (:func:`leased_nodes`). The row says what was leased (``leased_nodes``,
  ``leased_gpus``).

Nothing here reads a file or the wall clock: a point arrives with its trace's jobs and
its cluster's snapshot, and the executor measures ``wall_s``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from neocloud.domain.workload import TraceJob
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import FleetSnapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.jobs import JobSpec
from neocloud.scheduling.policies import POLICIES
from neocloud.sim.driver import Outage, simulate
from neocloud.sim.failures import REPAIR_S, FailureModel
from neocloud.sim.lease_fraction import units_to_take
from neocloud.sim.metrics import summarize
from neocloud.sim.workload import Window, job_specs

#: [D] our own typo guard on a grid's size: 10,000 replays is days of a 2-core machine
#: even at a second each, far past any sweep the issue describes.
MAX_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class Point:
    """One run of a sweep: where it sits in the grid (``index``), its own settings and
    the inputs every point shares (the trace and cluster as given on the command line,
    resolved by the executor's worker)."""

    index: int
    policy: str
    placement: str
    seed: int
    load: float
    lease_fraction: float
    trace: str
    cluster: str
    window: Window | None = None
    restart_s: float = 600.0  # Cluster's default: economics.md 5.3's recovery time [R95]
    estimate_error: float = 0.0  # the oracle estimate, as sim run
    failures: bool = False
    repair_s: float = REPAIR_S  # 24 h, sim/failures.py's placeholder [D]


@dataclass(frozen=True, slots=True)
class Grid:
    """Policies x lease fractions x load factors x seeds, every other setting shared.
    :meth:`points` lists them in that order, the seed changing fastest."""

    policies: tuple[str, ...]
    seeds: tuple[int, ...]
    loads: tuple[float, ...]
    lease_fractions: tuple[float, ...]
    trace: str
    cluster: str
    placement: str = "count"
    window: Window | None = None
    restart_s: float = 600.0
    estimate_error: float = 0.0
    failures: bool = False
    repair_s: float = REPAIR_S

    def __post_init__(self) -> None:
        check_grid(self)

    def __len__(self) -> int:
        return len(self.policies) * len(self.lease_fractions) * len(self.loads) * len(self.seeds)

    def points(self) -> tuple[Point, ...]:
        settings = (
            (policy, fraction, load, seed)
            for policy in self.policies
            for fraction in self.lease_fractions
            for load in self.loads
            for seed in self.seeds
        )
        return tuple(
            Point(
                index=k,
                policy=policy,
                placement=self.placement,
                seed=seed,
                load=load,
                lease_fraction=fraction,
                trace=self.trace,
                cluster=self.cluster,
                window=self.window,
                restart_s=self.restart_s,
                estimate_error=self.estimate_error,
                failures=self.failures,
                repair_s=self.repair_s,
            )
            for k, (policy, fraction, load, seed) in enumerate(settings)
        )


def check_grid(grid: Grid) -> None:
    """ValueError naming the first bad axis or setting (the CLI checks each option with
    its own message first; this keeps a grid built in code just as honest)."""
    for name in ("policies", "seeds", "loads", "lease_fractions"):
        values = getattr(grid, name)
        if not values:
            raise ValueError(f"{name}: the grid needs at least one")
        if len(set(values)) != len(values):
            raise ValueError(f"{name}: {values} names one twice")
    unknown = [p for p in grid.policies if p not in POLICIES]
    if unknown:
        raise ValueError(f"policies: {unknown[0]!r} is not one of {', '.join(POLICIES)}")
    if grid.placement not in set(JobPlacement):
        raise ValueError(f"placement: {grid.placement!r} is not one of {', '.join(JobPlacement)}")
    if any(s < 0 for s in grid.seeds):
        raise ValueError(f"seeds: {grid.seeds} has a negative seed")
    if not all(0 < load < math.inf for load in grid.loads):
        raise ValueError(f"loads: {grid.loads}: every load factor is a finite number above 0")
    if not all(0 <= f < 1 for f in grid.lease_fractions):
        raise ValueError(f"lease fractions: {grid.lease_fractions}: every fraction is from 0 to below 1")
    if len(grid) > MAX_POINTS:
        raise ValueError(f"the grid has {len(grid):,} points, more than {MAX_POINTS:,}")


@dataclass(frozen=True, slots=True)
class Row:
    """What one point yields: the point's own columns, what its lease fraction leased,
    ``sim run``'s summary fields (docs/simulator.md "Metrics"), and the wall time the
    executor measured (0 until it does)."""

    index: int
    policy: str
    placement: str
    seed: int
    load: float
    lease_fraction: float
    gpus: int
    nodes: int
    leased_nodes: int
    leased_gpus: int
    jobs: int
    finished: int
    rejected: int
    jct_mean_s: float
    jct_p50_s: float
    jct_p99_s: float
    queue_mean_s: float
    queue_p99_s: float
    delay_mean_s: float
    delay_p99_s: float
    makespan_s: float
    utilization_mean: float
    allocation_ratio_mean: float
    fragmentation_mean: float
    preemptions: int
    interruptions: int
    deadlines: int
    deadline_misses: int
    cycles: int
    wall_s: float = 0.0

    def as_dict(self) -> dict[str, int | float | str]:
        return asdict(self)


#: The table's columns, in order.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Row))


def run_point(point: Point, trace: Iterable[TraceJob], snapshot: FleetSnapshot) -> Row:
    """Replay ``trace`` (its jobs in arrival order) on the fleet of ``snapshot`` with
    ``point``'s settings, through :func:`~neocloud.sim.driver.simulate` and the same
    policies and placement as ``sim run``; the row, ``wall_s`` 0."""
    cluster = Cluster(GpuPool(snapshot), tenants=(), restart_s=point.restart_s)
    specs = job_specs(trace, cluster.tenant, window=point.window, estimate_error=point.estimate_error, seed=point.seed)
    leased = leased_nodes(snapshot, point.lease_fraction)
    failures = FailureModel(repair_s=point.repair_s, seed=point.seed) if point.failures else None
    run = simulate(
        cluster,
        compressed(specs, point.load),
        POLICIES[point.policy](),
        JobPlacement(point.placement),
        outages=lease_outages(leased),
        failures=failures,
    )
    summary = asdict(summarize(run))
    return Row(
        index=point.index,
        policy=point.policy,
        placement=point.placement,
        seed=point.seed,
        load=point.load,
        lease_fraction=point.lease_fraction,
        gpus=snapshot.total_gpus,
        nodes=len(snapshot.node_ids),
        leased_nodes=len(leased),
        leased_gpus=int(snapshot.node_gpus[leased].sum()),
        **summary,
    )


def compressed(specs: Iterable[JobSpec], load: float) -> Iterator[JobSpec]:
    """``specs`` with every submission time divided by ``load`` (durations and
    estimates kept; a deadline keeps its distance from the submission)."""
    if not 0 < load < math.inf:
        raise ValueError(f"load factor: {load} is not a finite number above 0")
    if load == 1:
        yield from specs
        return
    for spec in specs:
        submit = spec.submit_s / load
        deadline = None if spec.deadline_s is None else submit + (spec.deadline_s - spec.submit_s)
        yield replace(spec, submit_s=submit, deadline_s=deadline)


def leased_nodes(snapshot: FleetSnapshot, fraction: float) -> np.ndarray:
    """Node indices (fleet order) a lease of ``fraction`` of the nodes takes: the last
    whole fabric blocks where the fleet has more than one, else the last whole nodes;
    as many units as bring the leased nodes nearest ``fraction x nodes``, the fewer on
    a tie, never every unit (so never every node)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"lease fraction: {fraction} is not from 0 to below 1")
    nodes = len(snapshot.node_ids)
    if len(snapshot.block_names) > 1:
        sizes = (snapshot.block_node_end - snapshot.block_node_start)[::-1]  # last block first
    else:
        sizes = np.ones(nodes, np.int64)
    units = units_to_take(sizes, fraction * nodes, at_most=len(sizes) - 1)
    first = nodes - int(sizes[:units].sum())
    return np.arange(first, nodes)


def lease_outages(nodes: Sequence[int] | np.ndarray) -> tuple[Outage, ...]:
    """A lease of ``nodes`` for the whole run: each offers nothing from 0 on."""
    return tuple(Outage(0.0, math.inf, int(node), cause="lease") for node in nodes)


def arrival_disorder(trace: Iterable[TraceJob]) -> str | None:
    """Why ``trace`` cannot be replayed as given (a job arriving before the one listed
    before it), or ``None``: the driver's own check, made before a sweep starts."""
    last: TraceJob | None = None
    for job in trace:
        if last is not None and job.arrival_s < last.arrival_s:
            return (
                f"job {job.id} comes after job {last.id} but arrives {last.arrival_s - job.arrival_s:g} s"
                " before it: the jobs are not in arrival order"
            )
        last = job
    return None


@dataclass(frozen=True, slots=True)
class Setting:
    """The mean over the seeds of one (policy, lease fraction, load) of a sweep."""

    policy: str
    lease_fraction: float
    load: float
    seeds: int
    leased_gpus: int
    jobs: float
    finished: float
    jct_mean_s: float
    queue_mean_s: float
    delay_mean_s: float
    utilization_mean: float
    allocation_ratio_mean: float
    preemptions: float


def mean_over_seeds(rows: Sequence[Row]) -> list[Setting]:
    """Each (policy, lease fraction, load) of ``rows``, its figures the plain mean over
    its seeds' rows, in the order the settings first appear."""
    groups: dict[tuple[str, float, float], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.policy, row.lease_fraction, row.load), []).append(row)
    return [
        Setting(
            policy=policy,
            lease_fraction=fraction,
            load=load,
            seeds=len(group),
            leased_gpus=group[0].leased_gpus,
            jobs=_mean(r.jobs for r in group),
            finished=_mean(r.finished for r in group),
            jct_mean_s=_mean(r.jct_mean_s for r in group),
            queue_mean_s=_mean(r.queue_mean_s for r in group),
            delay_mean_s=_mean(r.delay_mean_s for r in group),
            utilization_mean=_mean(r.utilization_mean for r in group),
            allocation_ratio_mean=_mean(r.allocation_ratio_mean for r in group),
            preemptions=_mean(r.preemptions for r in group),
        )
        for (policy, fraction, load), group in groups.items()
    ]


def _mean(values: Iterable[float]) -> float:
    listed = list(values)
    return math.fsum(listed) / len(listed)
