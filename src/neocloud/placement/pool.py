"""Free GPUs per node, with counters per NVLink domain, fabric block and GPU model.

Leases book whole nodes (``carve``); jobs inside a pool take GPUs inside nodes (most
Philly jobs ask for 1-4 GPUs of an 8-GPU machine). A :class:`GpuPool` is the mutable
state a job scheduler decides on: for every node of a :class:`FleetSnapshot` its
``capacity`` (GPUs it offers now: 0 while it is down or leased away) and ``used``
(GPUs jobs hold), and, kept up to date as allocations are taken and given back (never
recounted per request), the free GPUs per NVLink domain, per block, per model, in
total, and a histogram of nodes by free GPUs (so "is there a node with at least g
free?" is a lookup, not a scan).

Invariant (:meth:`GpuPool.problems` recounts it; the tests break it on purpose):
``0 <= used <= capacity <= node_gpus`` on every node, and every counter equals the sum
of ``capacity - used`` over its nodes.

Capacity that leaves (a failure, a lease starting) must first be vacated: the driver
preempts the jobs on a node, gives their GPUs back, then lowers the capacity;
:meth:`GpuPool.set_capacity` refuses to drop below what jobs hold.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.placement.snapshot import FleetSnapshot

IntArray = npt.NDArray[np.int32]
Counts = npt.NDArray[np.int64]
#: An allocation over at least this many nodes updates the counters with array
#: operations, not node by node [D: measured here: a NumPy call costs about as much
#: as updating a dozen nodes in Python; a job of a 780k-GPU fleet scaled from Philly
#: spans ~100 nodes].
VECTOR_MIN_NODES = 16


@dataclass(frozen=True, slots=True)
class Allocation:
    """GPUs taken on nodes: ``gpus[k]`` GPUs on node index ``nodes[k]`` (distinct nodes,
    each count above zero)."""

    nodes: tuple[int, ...]
    gpus: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.gpus)

    @property
    def spans_nodes(self) -> int:
        return len(self.nodes)


class GpuPool:
    """The free GPUs of a fleet snapshot, for job placement (see the module doc)."""

    def __init__(self, snap: FleetSnapshot, capacity: IntArray | None = None) -> None:
        self.snap = snap
        cap = snap.node_gpus.copy() if capacity is None else np.asarray(capacity, np.int32).copy()
        if cap.shape != snap.node_gpus.shape or (cap < 0).any() or (cap > snap.node_gpus).any():
            raise ValueError("capacity: one count per node, from 0 to the node's GPUs")
        self.capacity: IntArray = cap
        self.used: IntArray = np.zeros_like(cap)
        self.max_node_gpus = int(snap.node_gpus.max()) if snap.node_gpus.size else 0
        #: per GPU model: the largest node and whether all its nodes have one size
        self.model_max_node = [
            int(snap.node_gpus[snap.node_model == m].max(initial=0)) for m in range(len(snap.models))
        ]
        self.model_uniform = [
            len(np.unique(snap.node_gpus[snap.node_model == m])) <= 1 for m in range(len(snap.models))
        ]
        self.uniform = len(np.unique(snap.node_gpus)) <= 1
        #: GPUs the whole fleet has, in all and per GPU model, offered or not (static)
        self.fleet_gpus = snap.total_gpus
        self.model_gpus = [int(snap.node_gpus[snap.node_model == m].sum()) for m in range(len(snap.models))]
        self._free: IntArray = self.capacity - self.used
        # each node's units as Python lists: a list read is several times cheaper than
        # a NumPy scalar read on the per-allocation path (_move)
        self._units = list(
            zip(snap.node_domain.tolist(), snap.node_block.tolist(), snap.node_model.tolist(), strict=False)
        )
        self.total_capacity = int(cap.sum())
        #: GPUs offered per fabric block (changes with ``set_capacity`` only)
        self.block_capacity: Counts = np.bincount(snap.node_block, weights=cap, minlength=len(snap.block_names)).astype(
            np.int64
        )
        #: no node before this one has a free GPU (a lower bound on the first that has)
        self._room_from = 0
        self.domain_free, self.block_free, self.model_free, self.free_hist, self.total_free = self._counts()

    def _counts(self) -> tuple[Counts, Counts, Counts, Counts, int]:
        """The counters, recounted from ``capacity`` and ``used``."""
        snap = self.snap
        free = self.free

        def per(unit: IntArray, units: int) -> Counts:
            return np.bincount(unit, weights=free, minlength=units).astype(np.int64)

        return (
            per(snap.node_domain, len(snap.domain_ids)),
            per(snap.node_block, len(snap.block_names)),
            per(snap.node_model, len(snap.models)),
            np.bincount(free, minlength=self.max_node_gpus + 1).astype(np.int64),
            int(free.sum()),
        )

    @property
    def free(self) -> IntArray:
        """Free GPUs per node (a new array)."""
        return self.capacity - self.used

    @property
    def free_view(self) -> IntArray:
        """Free GPUs per node, kept up to date (read-only: do not write to it)."""
        return self._free

    @property
    def total_used(self) -> int:
        """GPUs jobs hold: what is offered less what is free (kept counters, no recount)."""
        return self.total_capacity - self.total_free

    def first_with_room(self) -> int:
        """The first node (fleet order) with a free GPU, or -1 when none has one. A kept
        lower bound makes the usual answer one lookup: takes cannot move the first node
        with room earlier, a give or a capacity increase moves the bound back to its node."""
        if self.total_free <= 0:
            return -1
        node = self._room_from
        free = self._free
        if free[node] <= 0:
            node += int(np.argmax(free[node:] > 0))
            self._room_from = node
        return node

    def has_node_with(self, gpus: int) -> bool:
        """True when some node has at least ``gpus`` free (a histogram lookup)."""
        return 0 < gpus <= self.max_node_gpus and bool(self.free_hist[gpus:].any())

    def take(self, alloc: Allocation) -> None:
        """Hold ``alloc``'s GPUs; refuses (ValueError, nothing changed) more than is free."""
        _distinct(alloc)
        if len(alloc.nodes) >= VECTOR_MIN_NODES:
            nodes, gpus = _arrays(alloc)
            bad = np.flatnonzero((gpus <= 0) | (self._free[nodes] < gpus))
            if bad.size:
                node, k = int(nodes[bad[0]]), int(gpus[bad[0]])
                raise ValueError(f"node {self.snap.node_ids[node]}: {k} GPUs asked, {self.free_at(node)} free")
            self._move_many(nodes, gpus)
            return
        for node, k in zip(alloc.nodes, alloc.gpus, strict=True):
            if k <= 0 or self._free[node] < k:
                raise ValueError(f"node {self.snap.node_ids[node]}: {k} GPUs asked, {self.free_at(node)} free")
        self._move(alloc, +1)

    def give(self, alloc: Allocation) -> None:
        """Release ``alloc``'s GPUs; refuses (ValueError, nothing changed) more than is held."""
        _distinct(alloc)
        if len(alloc.nodes) >= VECTOR_MIN_NODES:
            nodes, gpus = _arrays(alloc)
            bad = np.flatnonzero((gpus <= 0) | (self.used[nodes] < gpus))
            if bad.size:
                node, k = int(nodes[bad[0]]), int(gpus[bad[0]])
                raise ValueError(f"node {self.snap.node_ids[node]}: {k} GPUs given back, {self.used[node]} held")
            self._move_many(nodes, -gpus)
            return
        for node, k in zip(alloc.nodes, alloc.gpus, strict=True):
            if k <= 0 or self.used[node] < k:
                raise ValueError(f"node {self.snap.node_ids[node]}: {k} GPUs given back, {self.used[node]} held")
        self._move(alloc, -1)

    def free_at(self, node: int) -> int:
        return int(self._free[node])

    def set_capacity(self, node: int, gpus: int) -> None:
        """Offer ``gpus`` GPUs of ``node`` from now (0: down or leased away). Jobs must
        have given back what no longer fits (ValueError otherwise, nothing changed)."""
        if not 0 <= gpus <= int(self.snap.node_gpus[node]):
            raise ValueError(
                f"node {self.snap.node_ids[node]}: capacity {gpus} is not 0 to {self.snap.node_gpus[node]}"
            )
        if gpus < self.used[node]:
            raise ValueError(f"node {self.snap.node_ids[node]}: jobs hold {self.used[node]} GPUs; vacate before {gpus}")
        delta = gpus - int(self.capacity[node])
        if delta:
            before = self.free_at(node)
            self.capacity[node] = gpus
            self.total_capacity += delta
            self.block_capacity[self._units[node][1]] += delta
            self._count(node, before, delta)

    def _move_many(self, nodes: npt.NDArray[np.int64], taken: npt.NDArray[np.int64]) -> None:
        """:meth:`_move` for an allocation over many nodes, in a few array operations:
        ``taken`` GPUs more held on each of ``nodes`` (distinct; negative: given back)."""
        snap = self.snap
        before = self._free[nodes].astype(np.int64)
        self.used[nodes] += taken.astype(np.int32)
        after = before - taken
        self._free[nodes] = after
        np.add.at(self.domain_free, snap.node_domain[nodes], -taken)
        np.add.at(self.block_free, snap.node_block[nodes], -taken)
        np.add.at(self.model_free, snap.node_model[nodes], -taken)
        np.add.at(self.free_hist, before, -1)
        np.add.at(self.free_hist, after, 1)
        self.total_free -= int(taken.sum())
        freed = nodes[taken < 0]
        if freed.size:
            self._room_from = min(self._room_from, int(freed.min()))

    def _move(self, alloc: Allocation, sign: int) -> None:
        used = self.used
        for node, k in zip(alloc.nodes, alloc.gpus, strict=True):
            used[node] += sign * k
            self._count(node, int(self._free[node]), -sign * k)

    def _count(self, node: int, free_before: int, delta: int) -> None:
        """Counters after ``node``'s free GPUs moved from ``free_before`` by ``delta``."""
        domain, block, model = self._units[node]
        self._free[node] = free_before + delta
        self.domain_free[domain] += delta
        self.block_free[block] += delta
        self.model_free[model] += delta
        hist = self.free_hist
        hist[free_before] -= 1
        hist[free_before + delta] += 1
        self.total_free += delta
        if delta > 0 and node < self._room_from:
            self._room_from = node

    def problems(self) -> list[str]:
        """Every way the state breaks the invariant or a counter disagrees with a
        recount (empty when sound); changes nothing."""
        out: list[str] = []
        if (self.used < 0).any() or (self.used > self.capacity).any():
            out.append("used: outside 0..capacity on some node")
        if (self.capacity > self.snap.node_gpus).any() or (self.capacity < 0).any():
            out.append("capacity: outside 0..node GPUs on some node")
        if out:
            return out  # a recount of counts out of range would only raise
        kept = (self.domain_free, self.block_free, self.model_free, self.free_hist)
        *fresh, total = self._counts()
        for name, old, new in zip(("domain_free", "block_free", "model_free", "free_hist"), kept, fresh, strict=True):
            if not np.array_equal(old, new):
                out.append(f"{name}: kept counter differs from a recount")
        if total != self.total_free:
            out.append(f"total_free: kept {self.total_free}, recount {total}")
        if not np.array_equal(self._free, self.free):
            out.append("free: kept per-node counts differ from capacity - used")
        if self.total_capacity != int(self.capacity.sum()):
            out.append(f"total_capacity: kept {self.total_capacity}, recount {int(self.capacity.sum())}")
        blocks = np.bincount(self.snap.node_block, weights=self.capacity, minlength=len(self.block_capacity))
        if not np.array_equal(self.block_capacity, blocks.astype(np.int64)):
            out.append("block_capacity: kept counter differs from a recount")
        if bool((self._free[: self._room_from] > 0).any()):
            out.append(f"first node with room: kept bound {self._room_from} passes a node with free GPUs")
        return out


def _arrays(alloc: Allocation) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    n = len(alloc.nodes)
    return np.fromiter(alloc.nodes, np.int64, n), np.fromiter(alloc.gpus, np.int64, n)


def _distinct(alloc: Allocation) -> None:
    if len(set(alloc.nodes)) != len(alloc.nodes):
        raise ValueError(f"allocation names a node twice: {alloc.nodes}")
