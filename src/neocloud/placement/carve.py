"""Carving capacity along the topology: pure placement on the fleet snapshot.

``carve(snapshot, eligible, shape)`` returns a :class:`Placement` (node indices)
or an :class:`Infeasible` with the reason and what *would* fit. It never mutates
anything; the caller books the nodes. ``eligible`` is the caller's word on which
nodes may be used (free for the dates and, for GPU counts, healthy): placement
keeps no state of its own and reads no health, so it can never read a stale copy.

Topology levels, outermost first: site, pod, fabric block, NVLink domain, node. A
request's *locality* is the level whose unit must contain all its nodes
(``block``: one fabric block; ``anywhere``: no constraint).

**Best fit, hierarchically.** At each level, if some unit can hold the whole
remaining request, take the unit with the *least* free capacity that still fits
(best fit), and descend into it. If none can (only allowed above the locality
level), take whole units largest-first until the remainder fits in one unit, then
best-fit the remainder. A 100k-GPU request therefore takes ~195 whole free blocks
plus one best-fit partial block, and a 64-GPU request lands in the fullest block
that still has room, leaving whole blocks whole for the next large tenant. The
naive alternative, first fit (lowest index first), is kept as ``policy='first_fit'``
to measure against; see docs/placement.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from neocloud.domain.shape import Level, Locality, Shape, Unit
from neocloud.placement.snapshot import FleetSnapshot

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Policy = Literal["best_fit", "first_fit"]
DOMAIN_DEPTH = Level.NVLINK_DOMAIN.depth


def _depth(locality: Locality) -> int:
    """The locality's level as a depth (-1: anywhere, no constraint)."""
    level = locality.level
    return -1 if level is None else level.depth


@dataclass(frozen=True, slots=True)
class Placement:
    """The chosen nodes (snapshot indices, ascending) and what they hold."""

    model: str
    nodes: IntArray
    gpus: int
    scope: str


@dataclass(frozen=True, slots=True)
class Infeasible:
    """Why a shape does not fit, and the largest GPU count that would (same locality)."""

    reason: str
    max_gpus: int


def carve(
    snap: FleetSnapshot, eligible: BoolArray, shape: Shape, policy: Policy = "best_fit"
) -> Placement | Infeasible:
    """Place ``shape`` on ``eligible`` nodes only (per node, fleet order).

    For a GPU count the caller leaves out booked and unhealthy nodes; for whole units
    only booked ones (a whole unit is contracted as it is, its unhealthy nodes a
    delivery deficit until repaired)."""
    if shape.unit is not None and shape.unit is not Unit.NODE:
        return _whole_units(snap, ~eligible, shape)
    reasons: list[str] = []
    best_max = 0
    for model in shape.models:
        if model not in snap.models:
            reasons.append(f"no {model} GPUs in the fleet" + (f" site {shape.site!r}" if shape.site else ""))
            continue
        result = _carve_model(snap, eligible, shape, model, policy)
        if isinstance(result, Placement):
            return result
        reasons.append(result.reason)
        best_max = max(best_max, result.max_gpus)
    return Infeasible("; ".join(reasons) or "no acceptable GPU model given", best_max)


def _carve_model(
    snap: FleetSnapshot, eligible: BoolArray, shape: Shape, model: str, policy: Policy
) -> Placement | Infeasible:
    in_scope, scope = _scope(snap, shape, (model,))
    if in_scope is None:
        return Infeasible(f"unknown site {shape.site!r}", 0)
    per_node = int(snap.node_gpus[in_scope].max()) if in_scope.any() else 0
    need = shape.gpus if shape.unit is None else shape.units * per_node
    if need is None or need <= 0:
        return Infeasible("ask for a positive number of GPUs or units", 0)
    if per_node and need % per_node:
        return Infeasible(
            f"{need:,} GPUs is not a whole number of {model} nodes ({per_node} GPUs each): "
            f"ask for {need // per_node * per_node:,} or {(need // per_node + 1) * per_node:,}",
            need // per_node * per_node,
        )
    free = in_scope & eligible & (snap.node_gpus == per_node)
    gpus = np.where(free, snap.node_gpus, 0).astype(np.int64)
    loc_level = _depth(shape.locality)
    search = _Search(snap, gpus, loc_level, policy, snap.models.index(model))
    picked = search.pick(np.flatnonzero(free), need, top=-1)
    if picked is None:
        most = _max_in_unit(snap, free, gpus, loc_level)
        where = "anywhere" if loc_level < 0 else f"in one {shape.locality.value.replace('_', ' ')}"
        return Infeasible(
            f"{need:,} {model} GPUs do not fit {where} in the {scope} for those dates; at most {most:,} do", most
        )
    return Placement(model, np.sort(picked), int(gpus[picked].sum()), scope)


def _scope(snap: FleetSnapshot, shape: Shape, models: tuple[str, ...]) -> tuple[BoolArray | None, str]:
    """Nodes of ``models`` in the shape's site (or the fleet), and how to name that scope."""
    wanted = np.zeros(len(snap.models), np.bool_)
    wanted[[snap.models.index(m) for m in models if m in snap.models]] = True
    in_scope = wanted[snap.node_model]
    if shape.site is None:
        return in_scope, "fleet"
    if shape.site not in snap.site_names:
        return None, ""
    return in_scope & (snap.node_site == snap.site_names.index(shape.site)), f"site {shape.site}"


@dataclass(frozen=True, slots=True)
class _Search:
    """One placement search: the snapshot, free GPUs per node, locality and policy."""

    snap: FleetSnapshot
    gpus: IntArray
    loc_level: int
    policy: Policy
    model: int  # the model's code: levels whose largest unit holds fewer GPUs of it are skipped

    def pick(self, cand: IntArray, need: int, top: int) -> IntArray | None:
        """Nodes from ``cand`` summing exactly to ``need``, or None.

        ``cand`` lies within one unit of level ``top`` (-1: the whole fleet). First the
        compact way: the finest level (NVLink domain, block, pod, site; never coarser
        than the locality level) where one unit holds the whole request; the chosen
        unit there is searched in turn. Only if no unit fits, the request spans the
        children of ``top``: whole children largest first, the remainder best fit.
        """
        if need <= 0:
            return np.zeros(0, np.int64) if need == 0 else None
        finest_allowed = max(self.loc_level, top + 1)
        for depth in range(DOMAIN_DEPTH, finest_allowed - 1, -1):
            if self.snap.unit_max_gpus[depth, self.model] < need:
                continue  # no unit of this level could hold the request even when all free
            inverse, sums = _sums(self.snap, cand, self.gpus, depth)
            fits = np.flatnonzero(sums >= need)
            if fits.size:
                inside = cand[inverse == self._choose(fits, sums)]
                if depth == DOMAIN_DEPTH:
                    return _take_nodes(inside, self.gpus, need)
                return self.pick(inside, need, depth)
        if self.loc_level > top or top >= DOMAIN_DEPTH:
            return None
        return self.span(cand, need, top + 1)

    def span(self, cand: IntArray, need: int, depth: int) -> IntArray | None:
        """Spread ``need`` over the units at ``depth`` in ``cand``: whole ones first."""
        inverse, sums = _sums(self.snap, cand, self.gpus, depth)
        if int(sums.sum()) < need:
            return None
        present = np.flatnonzero(sums)
        order = present[np.argsort(-sums[present], kind="stable")] if self.policy == "best_fit" else present
        taken: list[IntArray] = []
        remaining = need
        used = np.zeros(sums.size, np.bool_)
        for k in order:
            if sums[k] > remaining:
                continue
            taken.append(cand[inverse == k])
            used[k] = True
            remaining -= int(sums[k])
            if remaining == 0:
                return np.concatenate(taken)
        fits = np.flatnonzero(~used & (sums >= remaining))
        if not fits.size:
            return None
        inside = cand[inverse == self._choose(fits, sums)]
        if depth == DOMAIN_DEPTH:
            sub = _take_nodes(inside, self.gpus, remaining)
        else:
            sub = self.pick(inside, remaining, depth)
        return None if sub is None else np.concatenate([*taken, sub])

    def _choose(self, fits: IntArray, sums: IntArray) -> int:
        """Best fit: the unit with the least free capacity that fits; first fit: the first."""
        return int(fits[np.argmin(sums[fits])]) if self.policy == "best_fit" else int(fits[0])


def _take_nodes(cand: IntArray, gpus: IntArray, need: int) -> IntArray | None:
    take = cand[np.cumsum(gpus[cand]) <= need]
    return take if int(gpus[take].sum()) == need else None


def _sums(snap: FleetSnapshot, cand: IntArray, gpus: IntArray, depth: int) -> tuple[npt.NDArray[np.int32], IntArray]:
    """Each candidate's unit at ``depth`` and free GPUs per unit (every unit of the
    level, zero where no candidate): a counting pass, no sort."""
    level = Level.at_depth(depth)
    mine = snap.unit_of(level)[cand]
    sums = np.bincount(mine, weights=gpus[cand], minlength=snap.n_units(level)).astype(np.int64)
    return mine, sums


def _max_in_unit(snap: FleetSnapshot, free: BoolArray, gpus: IntArray, loc_level: int) -> int:
    if loc_level < 0:
        return int(gpus.sum())
    per_unit = np.bincount(snap.unit_of(Level.at_depth(loc_level))[free], weights=gpus[free])
    return int(per_unit.max()) if per_unit.size else 0


def _whole_units(snap: FleetSnapshot, unavailable: BoolArray, shape: Shape) -> Placement | Infeasible:
    """``shape.units`` whole units, each entirely of acceptable models and unbooked.

    Health does not exclude a node here: a whole unit is contracted as it is, and
    its unhealthy nodes show up as a delivery deficit until repaired.
    """
    assert shape.unit is not None
    in_scope, scope = _scope(snap, shape, shape.models)
    if in_scope is None:
        return Infeasible(f"unknown site {shape.site!r}", 0)
    model = "+".join(m for m in snap.models if m in shape.models)
    level = shape.unit.level
    unit_of = snap.unit_of(level)
    n_units = snap.n_units(level)
    total = np.bincount(unit_of, minlength=n_units)
    of_model = np.bincount(unit_of[in_scope], minlength=n_units)
    busy = np.bincount(unit_of[in_scope & unavailable], minlength=n_units)
    whole = np.flatnonzero((of_model == total) & (of_model > 0) & (busy == 0))
    label = level.label
    loc_level = _depth(shape.locality)
    groups = _group_units(snap, level, whole, loc_level)
    fitting = [g for g in groups if g.size >= shape.units]
    if not fitting:
        largest = max(groups, key=lambda g: g.size, default=np.zeros(0, np.int64))
        where = "" if loc_level < 0 else f" in one {shape.locality.value.replace('_', ' ')}"
        return Infeasible(
            f"{shape.units} whole free {model} {label}(s) wanted{where} in {scope}; at most {largest.size} available",
            int(_unit_gpus(snap, level, largest).sum()),
        )
    group = min(fitting, key=lambda g: (g.size, int(g[0])))
    chosen = group[: shape.units]
    nodes = np.flatnonzero(np.isin(unit_of, chosen) & in_scope).astype(np.int64)
    held = "+".join(snap.models[c] for c in np.unique(snap.node_model[nodes]))
    return Placement(held, nodes, int(snap.node_gpus[nodes].sum()), scope)


def _group_units(snap: FleetSnapshot, level: Level, units: IntArray, loc_level: int) -> list[IntArray]:
    """Whole-free units grouped by the locality unit that contains them."""
    if loc_level < 0:
        return [units]
    if loc_level >= level.depth:  # the locality unit is this unit (or finer): one unit per group
        return [units[k : k + 1] for k in range(units.size)]
    parent = _parent_of_units(snap, level, Level.at_depth(loc_level))[units]
    return [units[parent == p] for p in np.unique(parent)]


def _parent_of_units(snap: FleetSnapshot, level: Level, parent_level: Level) -> npt.NDArray[np.int32]:
    """For each unit at ``level``, its unit at ``parent_level`` (outer)."""
    unit_of = snap.unit_of(level)
    first = np.zeros(snap.n_units(level), np.int64)
    first[unit_of[::-1]] = np.arange(unit_of.size - 1, -1, -1)
    return snap.unit_of(parent_level)[first]


def _unit_gpus(snap: FleetSnapshot, level: Level, units: IntArray) -> IntArray:
    per_unit = np.bincount(snap.unit_of(level), weights=snap.node_gpus, minlength=snap.n_units(level))
    return per_unit[units].astype(np.int64)
