"""Fractional-GPU packing: pods that ask for CPU, memory and shares of GPUs, on nodes.

The state of the FGD packing experiment (issue 12 section 2; Weng et al., ATC'23, and
its artifact hkust-adsl/kubernetes-scheduler-simulator @8f3d6417): per node the free
CPU (thousandths of a core), the free memory (MiB), the free thousandths of each GPU
as one ``(nodes, max_gpus)`` array (a node with fewer GPUs has its extra columns at 0,
so no pod that asks for a GPU ever fits there), its GPU model, and how many pods of
each GPU-affinity tag it holds (what GpuClustering scores). Every array is read by the
scorers of :mod:`neocloud.placement.packing_scores`, vectorised over nodes.

A :class:`PodAsk` is what a pod asks for. :meth:`PackingState.fits` is the artifact's
filter (Kubernetes' NodeResourcesFit on CPU and memory, then its Open-Gpu-Share
plugin: the GPU model, and enough GPUs with the share free; ``pkg/simulator/plugin/
open_gpu_share.go`` Filter and ``pkg/type/open-gpu-share/cache/gpunodeinfo.go``
AllocateGpuId). :meth:`PackingState.place` applies one placement all or nothing.

Invariant (:meth:`PackingState.problems` recounts it from the placements; the tests
break it on purpose): no node over its CPU or memory, no GPU over 1000 thousandths,
a pod's GPUs on one node and distinct, every pod on a model it accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.domain.workload import WHOLE_GPU_MILLI, NodeCapacity

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
#: [D] GPUs a pod may ask for, at most (affinity tags 1..8): our bound, as openb's nodes and
#: pods have at most 8 (the artifact's GpuNumTypeList stops at EightGpu too).
MAX_POD_GPUS = 8
#: GpuClustering's affinity tags: column 0 counts shared-GPU pods, column g pods of g whole GPUs.
SHARE_TAG = 0


@dataclass(frozen=True, slots=True)
class PodAsk:
    """What one pod asks for: ``cpu_milli``, ``memory_mib``, ``gpus`` GPUs of ``gpu_milli``
    thousandths each (a share below 1000 only with one GPU), on one of ``models``
    (empty: any model)."""

    cpu_milli: int
    memory_mib: int
    gpus: int = 0
    gpu_milli: int = 0
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.cpu_milli < 0 or self.memory_mib < 0:
            raise ValueError(f"cpu_milli and memory_mib must be >= 0, got {self.cpu_milli}, {self.memory_mib}")
        if not 0 <= self.gpus <= MAX_POD_GPUS:
            raise ValueError(f"gpus must be 0..{MAX_POD_GPUS}, got {self.gpus}")
        if self.gpus and not 0 < self.gpu_milli <= WHOLE_GPU_MILLI:
            raise ValueError(f"gpu_milli must be 1..{WHOLE_GPU_MILLI} with gpus > 0, got {self.gpu_milli}")
        if self.gpus > 1 and self.gpu_milli != WHOLE_GPU_MILLI:
            raise ValueError(f"a share of a GPU ({self.gpu_milli}) is for one GPU only, not {self.gpus}")
        if not self.gpus and self.gpu_milli:
            raise ValueError(f"gpu_milli {self.gpu_milli} without GPUs")

    @property
    def shares_gpu(self) -> bool:
        """One GPU, part of it: the pods whose GPU inside the node a policy chooses."""
        return self.gpus == 1 and self.gpu_milli < WHOLE_GPU_MILLI

    @property
    def total_milli(self) -> int:
        """Thousandths of a GPU asked for in all (1000 per whole GPU)."""
        return self.gpus * self.gpu_milli

    @property
    def tag(self) -> int | None:
        """GpuClustering's affinity: ``SHARE_TAG``, the whole-GPU count, or ``None`` (CPU only)."""
        if not self.gpus:
            return None
        return SHARE_TAG if self.shares_gpu else self.gpus


@dataclass(frozen=True, slots=True)
class Placement:
    """Pod ``pod`` (its number in arrival order) on node index ``node``, GPU indices ``gpus``."""

    pod: int
    ask: PodAsk
    node: int
    gpus: tuple[int, ...]


class PackingState:
    """Free CPU, memory and per-GPU thousandths of a set of nodes (see the module doc)."""

    def __init__(self, nodes: Sequence[NodeCapacity]) -> None:
        if not nodes:
            raise ValueError("nodes: at least one node")
        self.node_ids = tuple(n.id for n in nodes)
        self.models = tuple(sorted({n.gpu_model for n in nodes if n.gpus and n.gpu_model}))
        code = {m: i for i, m in enumerate(self.models)}
        self.node_model: Ints = np.array([code[n.gpu_model] if n.gpus and n.gpu_model else -1 for n in nodes])
        self.node_gpus: Ints = np.array([n.gpus for n in nodes], np.int64)
        self.max_gpus = max(int(self.node_gpus.max()), 1)
        self.cpu_capacity: Ints = np.array([n.cpu_milli for n in nodes], np.int64)
        self.memory_capacity: Ints = np.array([n.memory_mib for n in nodes], np.int64)
        columns = np.arange(self.max_gpus)
        self.gpu_capacity: Ints = np.where(columns < self.node_gpus[:, None], WHOLE_GPU_MILLI, 0).astype(np.int64)
        self.cpu_free = self.cpu_capacity.copy()
        self.memory_free = self.memory_capacity.copy()
        self.gpu_free = self.gpu_capacity.copy()
        self.tags: Ints = np.zeros((len(nodes), MAX_POD_GPUS + 1), np.int64)
        #: bumped on every change of a node: caches of per-node scores compare against it
        self.version: Ints = np.zeros(len(nodes), np.int64)
        self.placements: list[Placement] = []
        self.total_gpu_milli = int(self.gpu_capacity.sum())
        self.allocated_milli = 0
        self._code = code

    @property
    def nodes(self) -> int:
        return len(self.node_ids)

    def accepts(self, ask: PodAsk) -> Bools:
        """Per node: its GPU model is one the pod accepts (every node for a pod without GPUs
        or without a model constraint; never a CPU-only node for a pod with GPUs)."""
        if not ask.gpus:
            return np.ones(self.nodes, np.bool_)
        has_gpus: Bools = self.node_model >= 0
        if not ask.models:
            return has_gpus
        wanted = np.zeros(len(self.models) + 1, np.bool_)  # the extra entry is code -1
        for m in ask.models:
            if m in self._code:
                wanted[self._code[m]] = True
        result: Bools = wanted[self.node_model] & has_gpus
        return result

    def fits(self, ask: PodAsk, nodes: Ints | None = None) -> Bools:
        """Per node (of ``nodes``, default all): the pod passes the artifact's filter."""
        idx = np.arange(self.nodes) if nodes is None else nodes
        ok: Bools = (self.cpu_free[idx] >= ask.cpu_milli) & (self.memory_free[idx] >= ask.memory_mib)
        if ask.gpus:
            enough = (self.gpu_free[idx] >= ask.gpu_milli).sum(axis=1) >= ask.gpus
            ok &= enough & self.accepts(ask)[idx]
        return ok

    def place(self, pod: int, ask: PodAsk, node: int, gpus: Sequence[int]) -> Placement:
        """Take ``ask`` on ``node``'s GPUs ``gpus``, all or nothing; ValueError if it does not fit."""
        chosen = tuple(int(g) for g in gpus)
        problem = self._refusal(ask, node, chosen)
        if problem:
            raise ValueError(f"pod {pod} on node {self.node_ids[node]}: {problem}")
        self.cpu_free[node] -= ask.cpu_milli
        self.memory_free[node] -= ask.memory_mib
        for g in chosen:
            self.gpu_free[node, g] -= ask.gpu_milli
        if ask.tag is not None:
            self.tags[node, ask.tag] += 1
        self.version[node] += 1
        self.allocated_milli += ask.total_milli
        placed = Placement(pod, ask, node, chosen)
        self.placements.append(placed)
        return placed

    def _refusal(self, ask: PodAsk, node: int, gpus: tuple[int, ...]) -> str:
        if not 0 <= node < self.nodes:
            return "no such node"
        if len(gpus) != ask.gpus or len(set(gpus)) != len(gpus):
            return f"expected {ask.gpus} distinct GPUs, got {gpus}"
        if any(not 0 <= g < self.node_gpus[node] for g in gpus):
            return f"GPUs {gpus} not all on the node ({self.node_gpus[node]} GPUs)"
        if self.cpu_free[node] < ask.cpu_milli or self.memory_free[node] < ask.memory_mib:
            return f"not enough CPU or memory free ({self.cpu_free[node]} m, {self.memory_free[node]} MiB)"
        if ask.gpus and not self._accepts_node(ask, node):
            return f"GPU model {self._model_of(node)} is not one of {ask.models}"
        if any(self.gpu_free[node, g] < ask.gpu_milli for g in gpus):  # so the node has the GPUs the filter asks
            return f"a chosen GPU has less than {ask.gpu_milli} thousandths free"
        return ""

    def _accepts_node(self, ask: PodAsk, node: int) -> bool:
        """:meth:`accepts` for one node, without an array pass (the check ``place`` repeats)."""
        code = int(self.node_model[node])
        return code >= 0 and (not ask.models or self.models[code] in ask.models)

    def problems(self) -> list[str]:
        """Every broken invariant, recounted from the placements (empty when all hold)."""
        cpu, memory, gpu = self.cpu_capacity.copy(), self.memory_capacity.copy(), self.gpu_capacity.copy()
        found: list[str] = []
        for p in self.placements:
            cpu[p.node] -= p.ask.cpu_milli
            memory[p.node] -= p.ask.memory_mib
            for g in p.gpus:
                gpu[p.node, g] -= p.ask.gpu_milli
            if p.ask.gpus and not self.accepts(p.ask)[p.node]:
                found.append(f"pod {p.pod}: on model {self._model_of(p.node)}, asked for {p.ask.models or 'a GPU'}")
            if len(set(p.gpus)) != len(p.gpus) or any(g >= self.node_gpus[p.node] for g in p.gpus):
                found.append(f"pod {p.pod}: GPUs {p.gpus} not distinct GPUs of node {self.node_ids[p.node]}")
        for name, recount, kept in (("CPU", cpu, self.cpu_free), ("memory", memory, self.memory_free)):
            if (recount < 0).any():
                found.append(f"{name} over capacity on {int((recount < 0).sum())} nodes")
            if not np.array_equal(recount, kept):
                found.append(f"free {name} differs from the recount")
        if (gpu < 0).any():
            found.append(f"{int((gpu < 0).sum())} GPUs over {WHOLE_GPU_MILLI} thousandths")
        if not np.array_equal(gpu, self.gpu_free):
            found.append("free GPU thousandths differ from the recount")
        if sum(p.ask.total_milli for p in self.placements) != self.allocated_milli:
            found.append("allocated thousandths differ from the recount")
        return found

    def _model_of(self, node: int) -> str:
        code = int(self.node_model[node])
        return self.models[code] if code >= 0 else "none"
