"""The FGD packing experiment: pods arrive, cloned to a share of capacity, none leave.

What ``neocloud sim pack`` runs (issue 12 sections 2 and 6), as the FGD artifact runs
it (hkust-adsl/kubernetes-scheduler-simulator @8f3d6417: ``pkg/simulator/core.go``
``Simulate``, ``simulator.go`` ``SortClusterPods``, ``TunePodsByNodeTotalResource``,
``SchedulePods``; ``analysis.go`` ``ClusterGpuFragReport``; ``experiments/analysis/
merge_alloc_discrete.py``), for one seed:

1. **Order.** The pod list sorted by name, then shuffled (``--shuffle-pod=true``).
2. **Inflate** (``tune``). While the GPU thousandths asked for stay within ``inflate``
   times the nodes' GPU thousandths, a pod drawn uniformly from the list (sorted by
   name) is cloned onto the end; the draw that would go over stops it. The check adds
   the clone's per-GPU share, not its total, as the artifact's does (an 8-GPU clone
   may overshoot by up to 7 GPUs). A list already above the target loses pods drawn
   at random instead.
3. **Place** every pod in turn: the nodes that pass the filter, the policy's score, a
   tie to the node first in a seeded random order of the nodes (the artifact names
   its nodes with a random prefix and breaks ties by the smallest name), the policy's
   GPUs (placement/packing_scores.py). A pod that fits nowhere is not placed; nothing
   ever leaves.
4. **Record** after each pod the GPU thousandths that have arrived (placed or not) and
   those allocated. The curve's column ``k`` is the mean allocation (% of the nodes'
   GPUs, each record rounded to 2 decimals) over the records whose arrived share
   rounds to ``k`` %, or, where none does, those within ``k - 1`` to ``k + 1``.

Randomness comes from one NumPy generator seeded with the seed: the shuffle, the
clones, the nodes' order for ties and Random's choices. Go's ``math/rand`` cannot be reproduced,
so a seed here is not the artifact's run with that seed; the fidelity check compares
means over seeds (docs/simulator.md "Packing").

Pure: takes node and pod values, returns the curves. Scores are cached per pod shape
and node, recomputed only for nodes that changed since that shape last asked (a
placement changes one node), so a pod costs about one vectorised pass over the nodes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from neocloud.domain.workload import WHOLE_GPU_MILLI, NodeCapacity, PodDetail, TraceJob
from neocloud.placement.packing import Ints, PackingState, PodAsk
from neocloud.placement.packing_scores import Scorer, pick, scorer, target_workload

#: the FGD experiment's inflation: pods up to 130% of the GPU capacity (tune 1.3,
#: experiments/run_scripts/generate_run_scripts.py; published-results.md section 1)
DEFAULT_INFLATE = 1.3
#: its seeds: 42 to 51 (the same script, REPEAT = 10)
DEFAULT_SEEDS = tuple(range(42, 52))


@dataclass(frozen=True, slots=True)
class SeedRun:
    """One seed's run: per arrived pod, the GPU thousandths arrived and allocated after it."""

    seed: int
    total_gpus: int
    arrived_milli: Ints
    allocated_milli: Ints
    placed: int

    @property
    def pods(self) -> int:
        return len(self.arrived_milli)

    @property
    def final_pct(self) -> float:
        """GPU allocation when every pod has arrived, % of the nodes' GPUs."""
        return 0.0 if not self.pods else float(self.allocated_milli[-1]) / self.total_gpus / 10

    def curve(self, top: int) -> dict[str, float | None]:
        """Allocation % by arrived % of capacity, ``"0"`` to ``str(top)`` (see the module doc)."""
        arrived = np.rint(self.arrived_milli / self.total_gpus / 10)  # half to even, as Python's round
        allocated = np.array([round(float(a), 2) for a in self.allocated_milli / self.total_gpus / 10])
        result: dict[str, float | None] = {}
        for k in range(top + 1):
            picked = allocated[arrived == k]
            if not picked.size:
                picked = allocated[(arrived >= k - 1) & (arrived <= k + 1)]
            result[str(k)] = round(float(picked.mean()), 2) if picked.size else None
        return result


@dataclass(frozen=True, slots=True)
class PackResult:
    """Every seed's run of one policy, and the curve's mean over the seeds."""

    policy: str
    inflate: float
    runs: tuple[SeedRun, ...]

    @property
    def top(self) -> int:
        return round(self.inflate * 100)

    def allocation_pct(self) -> dict[str, float | None]:
        """The mean over the seeds of each column (seeds without the column left out)."""
        curves = [r.curve(self.top) for r in self.runs]
        mean: dict[str, float | None] = {}
        for k in curves[0]:
            values = [v for c in curves if (v := c[k]) is not None]
            mean[k] = round(sum(values) / len(values), 2) if values else None
        return mean


def pod_asks(jobs: Sequence[TraceJob]) -> list[PodAsk]:
    """Each pod's ask; ValueError naming the first pod the experiment cannot take."""
    asks = []
    for job in jobs:
        if not isinstance(job.detail, PodDetail):
            raise ValueError(f"pod {job.id}: no CPU and memory asks (not a pod list of openb's schema)")
        if job.gpus and not job.gpu_milli:
            raise ValueError(f"pod {job.id}: asks for {job.gpus} GPUs with gpu_milli 0")
        if job.gpus > 1 and job.gpu_milli != WHOLE_GPU_MILLI:
            raise ValueError(f"pod {job.id}: a share of {job.gpu_milli} is for one GPU only, not {job.gpus}")
        d = job.detail
        try:
            asks.append(PodAsk(d.cpu_milli, d.memory_mib, job.gpus, job.gpu_milli if job.gpus else 0, d.gpu_models))
        except ValueError as exc:
            raise ValueError(f"pod {job.id}: {exc}") from None
    if not asks:
        raise ValueError("the pod list has no pods")
    if not any(a.gpus for a in asks):
        raise ValueError("the pod list asks for no GPUs: nothing to inflate to a share of GPU capacity")
    return asks


def experiment(
    nodes: Sequence[NodeCapacity],
    jobs: Sequence[TraceJob],
    policy: str,
    *,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    inflate: float = DEFAULT_INFLATE,
    progress: Callable[[int, int, int], None] | None = None,
) -> PackResult:
    """Run ``policy`` once per seed; ``progress(seed number from 0, pods done, pods of the seed)``."""
    if not seeds:
        raise ValueError("seeds: at least one")
    if not inflate > 0:
        raise ValueError(f"inflate must be above 0, got {inflate}")
    by_name = sorted(jobs, key=_name)
    asks = pod_asks(by_name)
    runs = []
    for n, seed in enumerate(seeds):
        step = None if progress is None else functools.partial(progress, n)
        runs.append(pack(nodes, asks, policy, seed, inflate=inflate, progress=step))
    return PackResult(policy, inflate, tuple(runs))


def pack(
    nodes: Sequence[NodeCapacity],
    asks: Sequence[PodAsk],
    policy: str,
    seed: int,
    *,
    inflate: float = DEFAULT_INFLATE,
    progress: Callable[[int, int], None] | None = None,
) -> SeedRun:
    """One seed's run of ``policy`` on ``asks`` (the pod list sorted by name)."""
    rng = np.random.default_rng(seed)
    state = PackingState(nodes)
    order = arrivals(asks, state.total_gpu_milli, inflate, rng)
    rank = tie_order(state.node_ids, rng)
    shapes, shape_of = _shapes(asks)
    choose = _Chooser(state, scorer(policy, target_workload(asks)), shapes, rank, rng)
    arrived, allocated = np.zeros(len(order), np.int64), np.zeros(len(order), np.int64)
    total = 0
    for i, pod in enumerate(order):
        shape = shape_of[pod]
        total += shapes[shape].total_milli
        choose.place(i, shape)
        arrived[i], allocated[i] = total, state.allocated_milli
        if progress is not None and i % 500 == 499:
            progress(i + 1, len(order))
    if progress is not None:
        progress(len(order), len(order))
    return SeedRun(seed, int(state.node_gpus.sum()), arrived, allocated, len(state.placements))


def arrivals(asks: Sequence[PodAsk], capacity_milli: int, inflate: float, rng: np.random.Generator) -> list[int]:
    """The pods in arrival order, as indices into ``asks``: shuffled, then inflated (see the module doc)."""
    order = [int(i) for i in rng.permutation(len(asks))]
    target = inflate * capacity_milli
    asked = sum(a.total_milli for a in asks)
    if asked > target:
        while asked > target and order:
            asked -= asks[order.pop(int(rng.integers(len(order))))].total_milli
    elif asked < target:
        while True:
            clone = int(rng.integers(len(asks)))
            if asked + asks[clone].gpu_milli > target:  # the per-GPU share, as the artifact checks
                break
            asked += asks[clone].total_milli
            order.append(clone)
    return order


def tie_order(node_ids: Sequence[str], rng: np.random.Generator) -> Ints:
    """Each node's rank for ties, lowest first: a random permutation over the nodes sorted by
    id (the artifact's ``%04d-`` name prefixes from ``rand.Perm``)."""
    by_id = sorted(range(len(node_ids)), key=node_ids.__getitem__)
    rank = np.empty(len(node_ids), np.int64)
    rank[by_id] = rng.permutation(len(node_ids))
    return rank


class _Chooser:
    """The node for each pod: filter, score (cached per shape and node), tie-break, place."""

    def __init__(
        self, state: PackingState, policy: Scorer, shapes: list[PodAsk], rank: Ints, rng: np.random.Generator
    ) -> None:
        self.state, self.policy, self.shapes, self.rank, self.rng = state, policy, shapes, rank, rng
        self.fits = np.zeros((len(shapes), state.nodes), np.bool_)
        self.raw = np.zeros((len(shapes), state.nodes), np.int64)
        self.seen = np.full((len(shapes), state.nodes), -1, np.int64)  # the node version scored

    def place(self, pod: int, shape: int) -> bool:
        state, ask = self.state, self.shapes[shape]
        stale = np.flatnonzero(self.seen[shape] != state.version)
        if stale.size:
            fits = state.fits(ask, stale)
            self.fits[shape, stale] = fits
            if fits.any():
                self.raw[shape, stale[fits]] = self.policy.score(state, ask, stale[fits])
            self.seen[shape, stale] = state.version[stale]
        feasible = np.flatnonzero(self.fits[shape])
        if not feasible.size:
            return False
        node = pick(self.policy, feasible, self.raw[shape, feasible], self.rank, self.rng)
        state.place(pod, ask, node, self.policy.gpus(state, ask, node, self.rng))
        return True


def _shapes(asks: Sequence[PodAsk]) -> tuple[list[PodAsk], list[int]]:
    """The distinct asks, and each pod's index among them."""
    index: dict[PodAsk, int] = {}
    shape_of = [index.setdefault(a, len(index)) for a in asks]
    return list(index), shape_of


def _name(job: TraceJob) -> str:
    return job.id
