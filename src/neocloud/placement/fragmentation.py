"""How fragmented is the free capacity? Measures used to compare placement policies.

* ``stranded_fraction``: the share of free GPUs that sit in fabric blocks that are
  partly taken. Those GPUs cannot serve a whole-block (or larger, block-aligned)
  lease; 0 means every free GPU is in a fully free block.
* ``largest_block_free``: the biggest block-local request that still fits.
* ``free_whole_blocks``: blocks with every healthy node free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import FleetSnapshot


@dataclass(frozen=True, slots=True)
class Fragmentation:
    free_gpus: int
    stranded_gpus: int
    stranded_fraction: float
    largest_block_free: int
    free_whole_blocks: int


def measure(snap: FleetSnapshot, unavailable: npt.NDArray[np.bool_], healthy: npt.NDArray[np.bool_]) -> Fragmentation:
    """Fragmentation of the capacity not ``unavailable``, counting ``healthy`` nodes only."""
    offered = np.where(healthy, snap.node_gpus, 0)
    return measure_counts(snap, np.where(~unavailable, offered, 0), offered)


def measure_pool(pool: GpuPool) -> Fragmentation:
    """Fragmentation of a job pool's free GPUs: a block is whole when every GPU it
    offers now is free. From the pool's kept per-block counters: no pass over nodes."""
    return measure_blocks(pool.block_free, pool.block_capacity)


def measure_counts(snap: FleetSnapshot, free: npt.NDArray[np.int32], offered: npt.NDArray[np.int32]) -> Fragmentation:
    """The measures from free and offered GPUs per node (fleet order)."""
    n_blocks = len(snap.block_names)
    free_gpus = np.bincount(snap.node_block, weights=free, minlength=n_blocks)
    all_gpus = np.bincount(snap.node_block, weights=offered, minlength=n_blocks)
    return measure_blocks(free_gpus, all_gpus)


def measure_blocks(free_gpus: npt.NDArray[np.number], all_gpus: npt.NDArray[np.number]) -> Fragmentation:
    """The measures from free and offered GPUs per fabric block."""
    n_blocks = len(free_gpus)
    whole = (free_gpus == all_gpus) & (all_gpus > 0)
    total = int(free_gpus.sum())
    stranded = int(free_gpus[~whole].sum())
    return Fragmentation(
        free_gpus=total,
        stranded_gpus=stranded,
        stranded_fraction=stranded / total if total else 0.0,
        largest_block_free=int(free_gpus.max()) if n_blocks else 0,
        free_whole_blocks=int(whole.sum()),
    )
