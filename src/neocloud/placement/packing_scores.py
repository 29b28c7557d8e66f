"""The six node scorers of the FGD paper, as its artifact defines them, vectorised over nodes.

Source: hkust-adsl/kubernetes-scheduler-simulator @8f3d6417 (Apache-2.0), read, not
copied; the experiment's settings are those of ``experiments/run_scripts/
generate_run_scripts.py`` and ``scripts/generate_config_and_run.py`` (one score plugin
at weight 1000, Kubernetes' own score plugins disabled). Each scorer gives a node an
integer score, higher is better; the experiment takes a node of the highest score
among those that pass the filter, a tie going to the node of the smallest name (the
artifact's vendored ``selectHost``, changed "for reproducibility", on node names that
``syncClusterResourceList`` prefixed with a seeded random permutation: a random but
fixed priority of the nodes per seed). Random picks uniformly among the feasible nodes
instead. Then the scorer's GPU choice says which GPUs of the node the pod gets.

Scores (files under ``pkg/simulator/plugin/``), and the GPUs a shared-GPU pod gets:

- ``random`` (``random_score.go``): PreScore picks a feasible node at random; a random
  GPU with room.
- ``dotprod`` (``dot_product_score.go``, merge/max): ``100 (1 - (free . ask) / 2)`` on
  [CPU, GPU] normalised by 128 cores and 8 GPUs; best fit.
- ``gpuclustering`` (``gpu_clustering_score.go``): bands by the pod's affinity tag among
  the node's pods, then how full its GPUs are; best fit.
- ``gpupacking`` (``gpu_packing_score.go``): shared GPUs first, then used nodes, then
  idle nodes; best fit.
- ``bestfit`` (``best_fit_score.go``): ``100 (1 - sum w (free - ask) / max)``, then
  min-max normalised; best fit.
- ``fgd`` (``fgd_score.go``, ``pkg/utils/frag.go``): ``100 sigmoid((F(before) -
  F(after)) / 1000)``, F the fragmentation against the target workload; the GPU with
  the best score.

"Best fit" is Open-Gpu-Share's ``best`` GPU selection: the GPU with the least free that
holds the share, the lowest index on a tie; whole GPUs are the lowest-indexed fully free
ones (``AllocateExclusiveGpuId``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neocloud.domain.workload import WHOLE_GPU_MILLI
from neocloud.placement.packing import Bools, Ints, PackingState, PodAsk

Floats = npt.NDArray[np.float64]
MAX_SCORE = 100  # Kubernetes' framework.MaxNodeScore
MAX_SPEC_CPU = 128_000  # the artifact's MaxSpecCpu (pkg/type/open-gpu-share/utils/const.go): 128 cores
MAX_SPEC_GPU = 8_000  # its MaxSpecGpu: 8 GPUs
#: Percent of the pod list's pods the target workload covers (generate_config_and_run.py
#: --pod-popularity-threshold 95, step 1, CPU-only pods included).
TARGET_PCT = 95
POLICY_NAMES = ("random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd")


class Scorer(Protocol):
    """A packing policy: integer node scores for one pod, and the GPUs it takes there."""

    #: min-max normalise the scores of the feasible nodes before choosing (BestFit's NormalizeScore)
    normalize: bool
    #: pick uniformly among the feasible nodes, ignoring the scores (Random's PreScore)
    at_random: bool

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        """The raw score of each of ``nodes`` (each passes the filter) for ``ask``."""
        ...

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        """The GPU indices of ``node`` the pod takes (``()`` for a pod without GPUs)."""
        ...


def scorer(name: str, target: TargetWorkload | None = None) -> Scorer:
    """The scorer named ``name`` (one of :data:`POLICY_NAMES`); ``fgd`` needs ``target``."""
    if name == "fgd":
        if target is None:
            raise ValueError("fgd: a target workload is needed")
        return FgdScorer(target)
    simple: dict[str, Scorer] = {
        "random": RandomScorer(),
        "dotprod": DotProductScorer(),
        "gpuclustering": GpuClusteringScorer(),
        "gpupacking": GpuPackingScorer(),
        "bestfit": BestFitScorer(),
    }
    if name not in simple:
        raise ValueError(f"unknown packing policy {name!r}; one of {', '.join(POLICY_NAMES)}")
    return simple[name]


def choose_node(state: PackingState, ask: PodAsk, policy: Scorer, rank: Ints, rng: np.random.Generator) -> int | None:
    """The node ``policy`` gives ``ask`` now (``None``: it fits nowhere), scoring every node."""
    feasible = np.flatnonzero(state.fits(ask))
    if not feasible.size:
        return None
    return pick(policy, feasible, policy.score(state, ask, feasible), rank, rng)


def pick(policy: Scorer, feasible: Ints, scores: Ints, rank: Ints, rng: np.random.Generator) -> int:
    """Among ``feasible`` nodes (non-empty) with their raw ``scores``: Random's uniform
    pick, or the best (normalised if the policy says so), a tie to the lowest ``rank``."""
    if policy.at_random:
        return int(feasible[rng.integers(len(feasible))])
    if policy.normalize:
        scores = normalized(scores)
    best = feasible[scores == scores.max()]
    return int(best[np.argmin(rank[best])])


def normalized(scores: Ints) -> Ints:
    """Kubernetes' min-max normalisation to 0..100 in integers (all 0 when every score is equal)."""
    low, high = int(scores.min()), int(scores.max())
    if high == low:
        return np.zeros_like(scores)
    result: Ints = (scores - low) * MAX_SCORE // (high - low)
    return result


def best_fit_gpus(state: PackingState, ask: PodAsk, node: int) -> tuple[int, ...]:
    """Open-Gpu-Share's ``best`` GPUs: the tightest GPU for a share, else the first free ones."""
    if not ask.gpus:
        return ()
    free = state.gpu_free[node, : state.node_gpus[node]]
    if ask.shares_gpu:
        room = np.where(free >= ask.gpu_milli, free, WHOLE_GPU_MILLI + 1)
        return (int(np.argmin(room)),)  # argmin: the lowest index on a tie
    return whole_gpus(free, ask.gpus)


def whole_gpus(free: Ints, count: int) -> tuple[int, ...]:
    """The ``count`` lowest-indexed fully free GPUs (``AllocateExclusiveGpuId``)."""
    return tuple(int(g) for g in np.flatnonzero(free == WHOLE_GPU_MILLI)[:count])


class RandomScorer:
    """Random: a feasible node picked uniformly (the scores are all equal and unused)."""

    normalize = False
    at_random = True

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        return np.zeros(len(nodes), np.int64)

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        if not ask.shares_gpu:
            return best_fit_gpus(state, ask, node)
        room = np.flatnonzero(state.gpu_free[node, : state.node_gpus[node]] >= ask.gpu_milli)
        return (int(room[rng.integers(len(room))]),)


class DotProductScorer:
    """DotProd (Tetris) with merged GPUs and max normalisation: the more the pod's vector
    aligns with the node's free vector, the lower the score."""

    normalize = False
    at_random = False

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        cpu = state.cpu_free[nodes] / MAX_SPEC_CPU
        gpu = state.gpu_free[nodes].sum(axis=1) / MAX_SPEC_GPU
        dot = cpu * (ask.cpu_milli / MAX_SPEC_CPU) + gpu * (ask.total_milli / MAX_SPEC_GPU)
        return _truncate(MAX_SCORE * (1 - dot / 2))

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        return best_fit_gpus(state, ask, node)


class GpuClusteringScorer:
    """GpuClustering: nodes that hold only pods of the pod's affinity first (75..100), then
    nodes holding it among others (50..75), idle nodes (25..50), other nodes (0..25);
    within a band, fuller GPUs first. CPU-only pods score 0 everywhere."""

    normalize = False
    at_random = False

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        if ask.tag is None:
            return np.zeros(len(nodes), np.int64)
        tags = state.tags[nodes]
        kinds = (tags > 0).sum(axis=1)
        same = tags[:, ask.tag] > 0
        band = np.where(same, np.where(kinds == 1, 3, 2), np.where(kinds == 0, 1, 0))
        fill = MAX_SCORE // 4 * (MAX_SPEC_GPU - state.gpu_free[nodes].sum(axis=1)) // MAX_SPEC_GPU
        result: Ints = fill + band * (MAX_SCORE // 4)
        return result

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        return best_fit_gpus(state, ask, node)


class GpuPackingScorer:
    """GpuPacking: a share on a used GPU first (50..100, the less it leaves free the
    better), then free GPUs of a used node (33..50), then an idle node (0..33, smaller
    first). CPU-only pods score 0 everywhere."""

    normalize = False
    at_random = False

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        if not ask.gpus:
            return np.zeros(len(nodes), np.int64)
        free, gpus = state.gpu_free[nodes], state.node_gpus[nodes]
        fully_free = (free == WHOLE_GPU_MILLI).sum(axis=1)
        idle = np.maximum(MAX_SCORE // 3 - fully_free, fully_free)
        if ask.shares_gpu:
            # the tightest GPU that holds the share, as the artifact's ascending walk takes it
            tight = np.where(free >= ask.gpu_milli, free, WHOLE_GPU_MILLI + 1).min(axis=1)
            on_free_gpu = tight == WHOLE_GPU_MILLI
            shared = np.maximum(MAX_SCORE - (tight * 100 // WHOLE_GPU_MILLI) // 10, MAX_SCORE // 2)
            used = np.where(on_free_gpu, np.maximum(MAX_SCORE // 2 - 1, MAX_SCORE // 3), shared)
        else:
            used = np.full(len(nodes), max(MAX_SCORE // 2 - ask.gpus, MAX_SCORE // 3), np.int64)
        result: Ints = np.where(fully_free == gpus, idle, used)
        return result

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        return best_fit_gpus(state, ask, node)


class BestFitScorer:
    """BestFit: the less CPU and GPU a node has left after the pod (each weighted 0.5,
    normalised by 128 cores and 8 GPUs), the better; min-max normalised per pod."""

    normalize = True
    at_random = False

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        cpu = (state.cpu_free[nodes] - ask.cpu_milli) / MAX_SPEC_CPU * 0.5
        gpu = (state.gpu_free[nodes].sum(axis=1) - ask.total_milli) / MAX_SPEC_GPU * 0.5
        return _truncate((1.0 - (cpu + gpu)) * MAX_SCORE)

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        return best_fit_gpus(state, ask, node)


@dataclass(frozen=True, slots=True)
class TargetWorkload:
    """FGD's target workload: the most frequent pod shapes of the pod list, with weights.

    ``cpu_milli``, ``gpu_milli`` (per GPU), ``gpus`` and ``accepts`` (per shape, per GPU
    model code of the state, plus a last column for CPU-only nodes) describe each shape;
    ``weight`` is how many pods of the list have it (the artifact's frequency is
    ``weight / weight.sum()``).
    """

    cpu_milli: Ints
    gpu_milli: Ints
    gpus: Ints
    models: tuple[tuple[str, ...], ...]
    weight: Ints

    def accepts(self, state: PackingState) -> Bools:
        """``(shapes, models + 1)``: shape k may use a GPU of model code m (last column: none)."""
        table = np.zeros((len(self.weight), len(state.models) + 1), np.bool_)
        for k, models in enumerate(self.models):
            table[k, :-1] = [not models or m in models for m in state.models]
        return table


def target_workload(asks: Sequence[PodAsk], pct: int = TARGET_PCT) -> TargetWorkload:
    """The artifact's typical pods (``GetTypicalPods`` in pkg/utils/frag.go): pods counted by
    shape (CPU, GPU share, GPU count, model constraint; memory is not part of a shape),
    the most frequent first (ties: the larger shape first), taken until they cover
    ``pct`` percent of the pods."""
    counts = Counter((a.cpu_milli, a.gpu_milli, a.gpus, "|".join(a.models)) for a in asks)
    if not counts:
        raise ValueError("target workload: no pods")
    ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    needed, covered, chosen = pct * len(asks) / 100, 0, []
    for shape, count in ranked:
        if covered >= needed:
            break
        chosen.append((shape, count))
        covered += count
    return TargetWorkload(
        cpu_milli=np.array([s[0] for s, _ in chosen], np.int64),
        gpu_milli=np.array([s[1] for s, _ in chosen], np.int64),
        gpus=np.array([s[2] for s, _ in chosen], np.int64),
        models=tuple(tuple(s[3].split("|")) if s[3] else () for s, _ in chosen),
        weight=np.array([c for _, c in chosen], np.int64),
    )


class FgdScorer:
    """FGD: the node (and the GPU) whose fragmentation grows least with the pod.

    A node's fragmentation against the target workload is, per shape k of weight w_k,
    its free GPU thousandths if the shape cannot run there (no model match, too little
    CPU, too few GPUs with its share free, or a CPU-only shape), else the free
    thousandths on GPUs too small for the share; F is the weighted sum
    (``NodeGpuShareFragAmountScore``). The score is ``int(100 sigmoid(dF / 1000))`` with
    ``dF = F(before) - F(after)`` and F in thousandths normalised by the weights.

    Per node it keeps, for each shape, how many GPUs hold the shape's share and the
    thousandths free on them, and F, refreshed only for nodes whose version changed;
    the state after a pod is that plus the change to the GPUs it takes.
    """

    normalize = False
    at_random = False

    def __init__(self, target: TargetWorkload) -> None:
        self.target = target
        self._state: PackingState | None = None

    def score(self, state: PackingState, ask: PodAsk, nodes: Ints) -> Ints:
        best, _ = self._scores(state, ask, nodes)
        return best

    def gpus(self, state: PackingState, ask: PodAsk, node: int, rng: np.random.Generator) -> tuple[int, ...]:
        if not ask.shares_gpu:
            return best_fit_gpus(state, ask, node)
        _, choice = self._scores(state, ask, np.array([node]))
        return (int(choice[0]),)

    def fragmentation(self, state: PackingState, nodes: Ints) -> Ints:
        """F of each node now, as integers (thousandths times the weights)."""
        return self._terms(state, nodes)[2]

    def _scores(self, state: PackingState, ask: PodAsk, nodes: Ints) -> tuple[Ints, Ints]:
        count, usable, before = self._terms(state, nodes)
        free, model = state.gpu_free[nodes], state.node_model[nodes]
        cpu = state.cpu_free[nodes] - ask.cpu_milli
        if not ask.shares_gpu:  # whole GPUs are fully free: they held every shape's share, and hold none after
            taken = ask.gpus * WHOLE_GPU_MILLI
            runs = self._runs(count - ask.gpus, cpu[:, None], model)
            frag = (free.sum(axis=1) - taken)[:, None] - np.where(runs, usable - taken, 0)
            return self._sigmoid(before - frag @ self.target.weight), np.zeros(len(nodes), np.int64)
        after = self._after_share(free, count, usable, cpu, model, share=ask.gpu_milli)
        per_gpu = np.where(free >= ask.gpu_milli, self._sigmoid(before[:, None] - after), -1)
        choice: Ints = per_gpu.argmax(axis=1)  # the first best GPU, as the artifact's strict ">"
        return per_gpu.max(axis=1), choice

    def _terms(self, state: PackingState, nodes: Ints) -> tuple[Ints, Ints, Ints]:
        """Per node of ``nodes``: GPUs holding each shape's share, thousandths free on them, F."""
        if self._state is not state:
            self._reset(state)
        stale = nodes[self._seen[nodes] != state.version[nodes]]
        if stale.size:
            free = state.gpu_free[stale]
            fits = free[:, :, None] >= self.target.gpu_milli  # (n, G, K)
            count, usable = fits.sum(axis=1), (fits * free[:, :, None]).sum(axis=1)
            runs = self._runs(count, state.cpu_free[stale][:, None], state.node_model[stale])
            frag = free.sum(axis=1)[:, None] - np.where(runs, usable, 0)
            self._count[stale], self._usable[stale], self._frag[stale] = count, usable, frag @ self.target.weight
            self._seen[stale] = state.version[stale]
        return self._count[nodes], self._usable[nodes], self._frag[nodes]

    def _reset(self, state: PackingState) -> None:
        shapes = len(self.target.weight)
        self._state, self._accepts = state, self.target.accepts(state)
        self._count = np.zeros((state.nodes, shapes), np.int64)
        self._usable = np.zeros((state.nodes, shapes), np.int64)
        self._frag = np.zeros(state.nodes, np.int64)
        self._seen = np.full(state.nodes, -1, np.int64)

    def _after_share(self, free: Ints, count: Ints, usable: Ints, cpu: Ints, model: Ints, *, share: int) -> Ints:
        """F after a share of ``share`` on each GPU in turn: (n, G), by the change to that GPU."""
        mu = self.target.gpu_milli
        left = free - share  # (n, G): the chosen GPU after the share
        fits, fits_after = free[:, :, None] >= mu, left[:, :, None] >= mu  # (n, G, K)
        count_g = count[:, None, :] - fits + fits_after
        usable_g = usable[:, None, :] - fits * free[:, :, None] + fits_after * left[:, :, None]
        runs = self._runs(count_g, cpu[:, None, None], model[:, None])
        frag = (free.sum(axis=1) - share)[:, None, None] - np.where(runs, usable_g, 0)
        result: Ints = frag @ self.target.weight
        return result

    def _sigmoid(self, drop: Ints) -> Ints:
        x = drop / (int(self.target.weight.sum()) * WHOLE_GPU_MILLI)
        return _truncate(1.0 / (1.0 + np.exp(-x)) * MAX_SCORE)  # Go's sigmoid(x) * 100, in that order

    def _runs(self, count: Ints, cpu: Ints, model: Ints) -> Bools:
        """Shape k can run: GPU shape, model accepted, enough GPUs with its share, enough CPU."""
        t = self.target
        table = self._accepts
        accepted = table[:, model].T if model.ndim == 1 else table[:, model[:, 0]].T[:, None, :]
        result: Bools = (t.gpu_milli > 0) & accepted & (count >= t.gpus) & (cpu >= t.cpu_milli)
        return result


def _truncate(values: Floats) -> Ints:
    """Go's ``int64(x)``: toward zero."""
    return np.trunc(values).astype(np.int64)
