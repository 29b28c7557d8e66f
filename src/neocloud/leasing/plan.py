"""Planning: where a request's nodes and spares would go, on the live view.

``plan(view, request)`` answers one question, cheaply: which nodes, in layers over
time (a lease with steps holds more nodes later), and which spares. No price and no
alternatives: that is :mod:`neocloud.leasing.quote`, for people; a scheduler calls
``plan`` directly. Placement is handed the eligible nodes (free for the dates and,
for GPU counts, healthy *now*, from the view's one health array).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from neocloud.domain.errors import minutes_utc
from neocloud.domain.leases import LeaseRequest, Segment, contract_from
from neocloud.domain.shape import Level, Locality, Shape, Unit
from neocloud.leasing.view import LedgerView
from neocloud.placement.carve import Infeasible, Placement, carve

BoolArray = npt.NDArray[np.bool_]


class Layer(NamedTuple):
    """Nodes held together over ``[start_s, end_s)``."""

    nodes: tuple[str, ...]
    start_s: int
    end_s: int


@dataclass(frozen=True, slots=True)
class Plan:
    """Nodes (in layers) and spares for a request. Nothing is booked."""

    request: LeaseRequest
    model: str
    gpus: int
    layers: tuple[Layer, ...]
    spares: tuple[str, ...]
    contract: tuple[Segment, ...]
    blocks: dict[str, int]

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(n for layer in self.layers for n in layer.nodes)


def plan(view: LedgerView, request: LeaseRequest, exclude: BoolArray | None = None) -> Plan | Infeasible:
    """Place ``request`` on what is free and eligible; ``exclude`` masks more nodes out."""
    shape = request.shape
    layers = _levels(request, shape)
    if isinstance(layers, str):
        return Infeasible(layers, 0)
    snap = view.snap
    free = view.free(request.start_s, request.end_s)
    if exclude is not None:
        free &= ~exclude
    counted = shape.unit is None or shape.unit is Unit.NODE
    base = carve(snap, free & view.healthy() if counted else free, _with_gpus(shape, layers[0][2]))
    if isinstance(base, Infeasible):
        return base
    placed = [(base.nodes, request.start_s, request.end_s)]
    taken = np.zeros(len(snap.node_ids), np.bool_)
    taken[base.nodes] = True
    scope = scope_mask(view, base.nodes, shape.locality)
    model = base.model.split("+")[0]
    for start_s, end_s, extra in layers[1:]:
        window = view.eligible(start_s, end_s) & ~taken & scope
        more = carve(snap, window, Shape((model,), gpus=extra, locality=Locality.ANYWHERE))
        if isinstance(more, Infeasible):
            return Infeasible(f"step from {minutes_utc(start_s)}: {more.reason}", 0)
        taken[more.nodes] = True
        placed.append((more.nodes, start_s, end_s))
    spares = _spares(view, request, base, free & ~taken, model)
    if isinstance(spares, str):
        return Infeasible(spares, 0)
    contract = (
        contract_from(request, base.gpus)
        if shape.unit is None
        else (Segment(request.start_s, request.end_s, base.gpus),)
    )
    ids = snap.node_ids
    per_block = np.bincount(snap.node_block[np.flatnonzero(taken)], minlength=len(snap.block_names))
    return Plan(
        request=request,
        model=base.model,
        gpus=base.gpus,
        layers=tuple(Layer(tuple(ids[i] for i in nodes), s, e) for nodes, s, e in placed),
        spares=tuple(ids[i] for i in spares),
        contract=contract,
        blocks={snap.block_names[k]: int(per_block[k]) for k in np.flatnonzero(per_block)},
    )


def scope_mask(view: LedgerView, nodes: npt.NDArray[np.int64], locality: Locality) -> BoolArray:
    """Nodes in the same locality unit(s) as ``nodes`` (all nodes for ``anywhere``)."""
    level = locality.level
    if level is None or not nodes.size:
        return np.ones(len(view.snap.node_ids), np.bool_)
    unit_of = view.snap.unit_of(level)
    present = np.zeros(view.snap.n_units(level), np.bool_)
    present[unit_of[nodes]] = True
    mask: BoolArray = present[unit_of]
    return mask


def _spares(
    view: LedgerView, request: LeaseRequest, base: Placement, free: BoolArray, model: str
) -> npt.NDArray[np.int64] | str:
    """``policy.count`` free, healthy spare nodes of the model per unit the lease touches."""
    policy = request.spares
    if policy is None:
        return np.zeros(0, np.int64)
    snap = view.snap
    level = Level(policy.per)
    unit_of = snap.unit_of(level)
    ok = free & view.healthy() & (snap.node_model == snap.models.index(model))
    chosen: list[npt.NDArray[np.int64]] = []
    for unit in np.unique(unit_of[base.nodes]):
        cand = np.flatnonzero(ok & (unit_of == unit))
        if cand.size < policy.count:
            name = snap.unit_names(level)[unit]
            return f"spares: {policy.count} spare node(s) wanted per {level.label}, but {name} has {cand.size} free"
        chosen.append(cand[-policy.count :].astype(np.int64))
    return np.concatenate(chosen) if chosen else np.zeros(0, np.int64)


def _levels(request: LeaseRequest, shape: Shape) -> list[tuple[int, int, int]] | str:
    """Layers (start, end, GPUs) that together give the contracted GPUs over time."""
    if shape.unit is not None or not request.steps:
        return [(request.start_s, request.end_s, shape.gpus or 0)]
    points = [(request.start_s, shape.gpus or 0), *((s.at_s, s.gpus) for s in request.steps)]
    ends = [p[0] for p in points[1:]] + [request.end_s]
    segments = [(s, e, g) for (s, g), e in zip(points, ends, strict=True)]
    levels = sorted({g for _, _, g in segments})
    layers: list[tuple[int, int, int]] = []
    previous = 0
    for level in levels:
        covered = [(s, e) for s, e, g in segments if g >= level]
        start, end = covered[0][0], covered[-1][1]
        if sum(e - s for s, e in covered) != end - start:
            return "steps that go down and up again are not supported; split the lease in two"
        layers.append((start, end, level - previous))
        previous = level
    return layers


def _with_gpus(shape: Shape, gpus: int) -> Shape:
    return shape if shape.unit is not None else replace(shape, gpus=gpus)
