"""A lease's bookings summarised per fabric block: what it holds where, at one instant.

A whole-site lease has one booking per node (32,506 on colossus-1); a person or a
client reading the lease wants a line per block (a few hundred), and the bookings
themselves a page at a time (``Catalog.lease_bookings``). Vectorised over the
fleet snapshot: one pass over the bookings, then counters per block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.domain.ledger import Booking, HolderKind
from neocloud.placement.snapshot import HEALTHY_CODE, FleetSnapshot


@dataclass(frozen=True, slots=True)
class BlockShare:
    """What one lease holds in one fabric block at one instant.

    ``nodes`` and ``gpus`` count the lease's own nodes, ``spares`` the spare nodes held
    for it there; ``unhealthy`` counts those nodes and spares not healthy now.
    ``model`` is the GPU model held (``+``-joined when a block mixes models)."""

    site: str
    block: str
    model: str
    nodes: int
    gpus: int
    spares: int
    unhealthy: int


def summary_instant(start_s: int, end_s: int, now_s: int) -> int:
    """The instant a lease is summarised at: now, within its term (its start before
    it starts, its last second after it ends)."""
    return max(start_s, min(now_s, end_s - 1))


def block_shares(
    snap: FleetSnapshot,
    node_index: Mapping[str, int],
    health: npt.NDArray[np.int8],
    bookings: Sequence[Booking],
    at_s: int,
) -> list[BlockShare]:
    """Per block, in fleet order, what ``bookings`` hold at ``at_s``; blocks where they
    hold nothing are left out. ``health`` is the current code per node (fleet order)."""
    held = [b for b in bookings if b.start_s <= at_s < b.end_s]
    nodes = np.fromiter((node_index[b.node] for b in held), np.int64, len(held))
    spare = np.fromiter((b.kind is HolderKind.SPARE for b in held), np.bool_, len(held))
    blocks = snap.node_block[nodes]
    size = len(snap.block_names)
    own = np.bincount(blocks, weights=~spare, minlength=size)
    gpus = np.bincount(blocks, weights=np.where(spare, 0, snap.node_gpus[nodes]), minlength=size)
    spares = np.bincount(blocks, weights=spare, minlength=size)
    unhealthy = np.bincount(blocks, weights=health[nodes] != HEALTHY_CODE, minlength=size)
    models = np.zeros((size, len(snap.models)), np.bool_)
    models[blocks, snap.node_model[nodes]] = True
    return [
        BlockShare(
            site=snap.site_names[int(snap.block_site[k])],
            block=snap.block_names[k],
            model="+".join(m for m, here in zip(snap.models, models[k], strict=True) if here),
            nodes=int(own[k]),
            gpus=int(gpus[k]),
            spares=int(spares[k]),
            unhealthy=int(unhealthy[k]),
        )
        for k in np.flatnonzero(own + spares)
    ]
