"""Where a job's GPUs go inside a :class:`~neocloud.placement.pool.GpuPool`.

:func:`place_job` answers one request (``gpus`` GPUs, optionally of one model) with an
:class:`~neocloud.placement.pool.Allocation` or ``None`` (it does not fit now). It
decides only; the caller applies the allocation with ``pool.take``. Policies
(:class:`JobPlacement`):

* ``count``: topology ignored, as the ``count`` scheme of Tiresias' simulator: the job
  fits when enough GPUs are free anywhere; it takes them from the nodes in fleet order.
* ``firstfit``: a job that fits one node goes on the first node (fleet order) with
  room; a larger job takes whole free nodes, first first.
* ``bestfit``: a job that fits one node goes on the node with the fewest free GPUs
  that still holds it; a larger job takes whole free nodes in the fullest fabric block
  that has enough of them (fullest NVLink domains first), else from the fullest blocks
  first, keeping empty ones whole.
* ``consolidated``: the smallest unit that can hold the job (node, then NVLink domain,
  then fabric block), the one of that level with the fewest free GPUs that still
  holds it, its nodes with the most free GPUs first (fewest nodes spanned). When no
  unit of that level has room, the next level up is tried, then anywhere; a job that
  asks (``consolidate=True``) waits instead.

Node-local placement for jobs that fit one node is what gang-scheduled training
frameworks ask for (NCCL inside a node runs over NVLink); ``count`` is the baseline
without it.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np
import numpy.typing as npt

from neocloud.placement.pool import Allocation, GpuPool

IntArray = npt.NDArray[np.int32]


class JobPlacement(StrEnum):
    COUNT = "count"
    FIRST_FIT = "firstfit"
    BEST_FIT = "bestfit"
    CONSOLIDATED = "consolidated"


def place_job(
    pool: GpuPool,
    gpus: int,
    policy: JobPlacement,
    *,
    model: int | None = None,
    consolidate: bool = False,
) -> Allocation | None:
    """Where ``gpus`` GPUs (of model index ``model``, any when ``None``) go under
    ``policy``, or ``None`` when they do not fit now (see the module doc)."""
    if gpus <= 0:
        raise ValueError(f"gpus: {gpus} is not a positive count")
    available = pool.total_free if model is None else int(pool.model_free[model])
    if available < gpus:
        return None
    if policy is JobPlacement.COUNT:
        free = _free(pool, model)
        # the first node with room: the pool keeps a bound on it; of one model, one pass
        first = pool.first_with_room() if model is None else int(np.argmax(free > 0))
        if free[first] >= gpus:  # it holds the whole job (most jobs): no cumsum
            return Allocation((first,), (gpus,))
        return _spill_from(pool, free, gpus, first)
    if policy is JobPlacement.CONSOLIDATED:
        return _consolidated(pool, gpus, model, consolidate)
    free = _free(pool, model)
    if gpus <= (pool.max_node_gpus if model is None else pool.model_max_node[model]):
        if model is None and not pool.has_node_with(gpus):
            return None
        return _one_node(free, gpus, best=policy is JobPlacement.BEST_FIT)
    return _whole_nodes(pool, free, gpus, best=policy is JobPlacement.BEST_FIT)


def _free(pool: GpuPool, model: int | None) -> IntArray:
    """Free GPUs per node, of ``model`` only when given (the pool's own counts: read only)."""
    if model is None:
        return pool.free_view
    return np.where(pool.snap.node_model == model, pool.free_view, 0).astype(np.int32)


def _one_node(free: IntArray, gpus: int, *, best: bool) -> Allocation | None:
    fits = np.flatnonzero(free >= gpus)
    if not fits.size:
        return None
    node = int(fits[np.argmin(free[fits])]) if best else int(fits[0])
    return Allocation((node,), (gpus,))


def _whole_nodes(pool: GpuPool, free: IntArray, gpus: int, *, best: bool) -> Allocation | None:
    """Whole free nodes (every GPU of the node offered and free) until ``gpus`` are
    covered; the last node gives only the remainder. Best fit keeps the job in the
    fullest block whose whole free nodes hold it, else takes the fullest blocks first."""
    snap = pool.snap
    whole = np.flatnonzero((free == snap.node_gpus) & (free > 0)).astype(np.int32)
    if best and whole.size:
        blocks = snap.node_block[whole]
        room = np.bincount(blocks, weights=snap.node_gpus[whole], minlength=len(pool.block_free))
        holds = np.flatnonzero(room >= gpus)
        if holds.size:
            block = holds[np.argmin(pool.block_free[holds])]
            whole = whole[blocks == block]
        # fullest blocks, then fullest domains first; stable in fleet order
        order = np.lexsort((whole, pool.domain_free[snap.node_domain[whole]], pool.block_free[snap.node_block[whole]]))
        whole = whole[order]
    return _spill(pool, free, gpus, whole)


def _spill_from(pool: GpuPool, free: IntArray, gpus: int, first: int) -> Allocation | None:
    """:func:`_spill` over the nodes from ``first`` on in fleet order, reading only as
    far as it needs (a window that doubles until its free GPUs cover the job)."""
    end = first + gpus  # fewest nodes that could cover it: each with room gives one at least
    while True:
        order = (first + np.flatnonzero(free[first:end])).astype(np.int32)
        if end >= len(free) or int(free[order].sum()) >= gpus:
            return _spill(pool, free, gpus, order)
        end = first + 2 * (end - first)


def _spill(pool: GpuPool, free: IntArray, gpus: int, order: IntArray) -> Allocation | None:
    """GPUs from the nodes of ``order`` in that order until ``gpus`` are covered."""
    avail = free[order]
    order, avail = order[avail > 0], avail[avail > 0]
    if int(avail.sum()) < gpus:
        return None
    covered = np.cumsum(avail)
    last = int(np.searchsorted(covered, gpus))
    counts = avail[: last + 1].copy()
    counts[last] -= int(covered[last]) - gpus
    return Allocation(tuple(int(n) for n in order[: last + 1]), tuple(int(c) for c in counts))


def _consolidated(pool: GpuPool, gpus: int, model: int | None, strict: bool) -> Allocation | None:
    snap = pool.snap
    free = _free(pool, model)
    eligible = snap.node_model == model if model is not None else None

    def sizes(size: npt.NDArray[np.int32], unit_of: npt.NDArray[np.int32], units: int) -> npt.NDArray[np.int64]:
        """The GPUs each unit holds of the job's model (all when it names none)."""
        if eligible is None:
            return size.astype(np.int64)
        return np.bincount(unit_of[eligible], weights=snap.node_gpus[eligible], minlength=units).astype(np.int64)

    node_index = np.arange(len(free), dtype=np.int32)
    levels = (
        (sizes(snap.node_gpus, node_index, len(free)), node_index, free),
        (sizes(snap.domain_gpus, snap.node_domain, len(snap.domain_ids)), snap.node_domain, pool.domain_free),
        (sizes(snap.block_gpus.sum(axis=1), snap.node_block, len(snap.block_names)), snap.node_block, pool.block_free),
    )
    for size, unit_of, kept in levels:
        if size.size == 0 or int(size.max()) < gpus:
            continue  # no unit of this level could ever hold the job: try the next one up
        unit_free = kept if model is None or kept is free else np.bincount(unit_of, weights=free, minlength=len(kept))
        fits = np.flatnonzero(unit_free >= gpus)
        if fits.size:
            unit = int(fits[np.argmin(unit_free[fits])])
            nodes = np.flatnonzero(unit_of == unit).astype(np.int32)
            return _spill(pool, free, gpus, nodes[np.argsort(-free[nodes], kind="stable")])
        if strict:
            return None  # the smallest unit that could hold it has no room now: wait
    # larger than any block, or no unit has room: the nodes with the most free GPUs first
    return _spill(pool, free, gpus, np.argsort(-free, kind="stable").astype(np.int32))
