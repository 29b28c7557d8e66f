"""Availability: what is free, for a whole window and over time.

For each GPU model: GPUs free (healthy and unbooked) for the *whole* window, the
largest amount free inside one NVLink domain, block, pod and site, how many of each
are entirely free, and a step series of free GPUs over the window. All vectorised
over the ledger's arrays: one pass to mark taken nodes, one sort for the series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.domain.ledger import Ledger
from neocloud.domain.shape import Level
from neocloud.placement.snapshot import HEALTHY_CODE, FleetSnapshot

LEVELS = (Level.NVLINK_DOMAIN, Level.BLOCK, Level.POD, Level.SITE)


@dataclass(frozen=True, slots=True)
class ModelAvailability:
    model: str
    total_gpus: int
    healthy_gpus: int
    free_gpus: int
    largest_free: dict[str, int]  # per level name (``block`` ...)
    whole_free: dict[str, int]
    series: list[tuple[int, int]]


def availability(
    snap: FleetSnapshot,
    ledger: Ledger,
    health: npt.NDArray[np.int8],
    start_s: int,
    end_s: int,
    *,
    models: tuple[str, ...] | None = None,
    site: str | None = None,
) -> list[ModelAvailability]:
    """Availability per model over ``[start_s, end_s)`` (optionally within one site)."""
    healthy = health == HEALTHY_CODE
    in_site = np.ones(len(snap.node_ids), np.bool_)
    if site is not None:
        in_site = snap.node_site == snap.site_names.index(site)
    taken = ledger.unavailable(start_s, end_s)
    nodes, starts, ends = ledger.window(start_s, end_s)
    out = []
    for m, model in enumerate(snap.models):
        if models is not None and model not in models:
            continue
        of_model = (snap.node_model == m) & in_site
        free = of_model & healthy & ~taken
        gpus = snap.node_gpus
        out.append(
            ModelAvailability(
                model=model,
                total_gpus=int(gpus[of_model].sum()),
                healthy_gpus=int(gpus[of_model & healthy].sum()),
                free_gpus=int(gpus[free].sum()),
                largest_free={lv.value: _largest(snap, lv, free) for lv in LEVELS},
                whole_free={lv.value: _whole(snap, lv, of_model, free) for lv in LEVELS},
                series=_series(snap, of_model & healthy, (nodes, starts, ends), (start_s, end_s)),
            )
        )
    return out


def _largest(snap: FleetSnapshot, level: Level, free: npt.NDArray[np.bool_]) -> int:
    if not free.any():
        return 0
    return int(np.bincount(snap.unit_of(level)[free], weights=snap.node_gpus[free]).max())


def _whole(snap: FleetSnapshot, level: Level, of_model: npt.NDArray[np.bool_], free: npt.NDArray[np.bool_]) -> int:
    unit = snap.unit_of(level)
    size = snap.n_units(level)
    members = np.bincount(unit[of_model], minlength=size)
    free_members = np.bincount(unit[free], minlength=size)
    all_members = np.bincount(unit, minlength=size)
    return int(((members > 0) & (members == all_members) & (free_members == members)).sum())


def _series(
    snap: FleetSnapshot,
    eligible: npt.NDArray[np.bool_],
    booked: tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]],
    window: tuple[int, int],
) -> list[tuple[int, int]]:
    """``(t, free GPUs from t)`` at every change inside the window, starting at its start."""
    nodes, starts, ends = booked
    start_s, end_s = window
    mine = eligible[nodes]
    g = snap.node_gpus[nodes[mine]].astype(np.int64)
    times = np.concatenate([starts[mine], ends[mine], [start_s]])
    deltas = np.concatenate([-g, g, [int(snap.node_gpus[eligible].sum())]])
    order = np.argsort(times, kind="stable")
    times, level = times[order], np.cumsum(deltas[order])
    keep = np.r_[times[1:] != times[:-1], True] & (times < end_s)
    return [(int(t), int(v)) for t, v in zip(times[keep], level[keep], strict=True)]
