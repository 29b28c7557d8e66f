"""A compact, array-based snapshot of the fleet for placement and scheduling.

Placement decides on integers, not on objects: every node, NVLink domain, fabric
block, pod and site gets a dense index, and the snapshot holds NumPy arrays of those
indices plus counters per block and per domain. It is built in one pass over the
nodes and never refers back to domain objects, so a decision on a 25k-node site
touches a few arrays, not a graph of Python objects.

**The snapshot is the fixed topology only.** It never changes after it is built.
What changes (each node's health, what is booked when) lives in one place, the
leasing view (``leasing/view.py``), and placement is handed the eligible nodes as an
argument. :func:`health_codes` reads a fleet's health once, to start a view.

Layout (``n`` nodes, ``d`` domains, ``b`` blocks, ``m`` GPU models):

* ``node_*``: ``(n,)`` arrays: model, gpus, domain, block, pod, site;
* ``domain_*``: ``(d,)`` arrays: block, model, nodes, gpus;
* ``block_*``: ``(b,)`` arrays: pod, site; ``block_gpus`` is a ``(b, m)`` counter
  per GPU model;
* names (``node_ids``, ``domain_ids``, ``block_names`` ...) map indices back;
  :meth:`FleetSnapshot.unit_of` gives each node's unit at any :class:`Level`.

Nodes of one block are contiguous (``block_node_start``/``block_node_end``) and so
are nodes of one NVLink domain, so a block or a domain is a slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.domain.fleet import Fleet, Node
from neocloud.domain.health import Health
from neocloud.domain.shape import Level

IntArray = npt.NDArray[np.int32]
HEALTH_CODES: tuple[Health, ...] = tuple(Health)
HEALTHY_CODE = HEALTH_CODES.index(Health.HEALTHY)


@dataclass(frozen=True, slots=True)
class FleetSnapshot:
    models: tuple[str, ...]
    site_names: tuple[str, ...]
    pod_names: tuple[str, ...]
    block_names: tuple[str, ...]
    domain_ids: tuple[str, ...]
    node_ids: tuple[str, ...]
    node_model: IntArray
    node_gpus: IntArray
    node_domain: IntArray
    node_block: IntArray
    node_pod: IntArray
    node_site: IntArray
    domain_block: IntArray
    domain_model: IntArray
    domain_nodes: IntArray
    domain_gpus: IntArray
    domain_node_start: IntArray
    block_pod: IntArray
    block_site: IntArray
    block_gpus: IntArray
    #: per depth (site 0 ... NVLink domain 3) and GPU model: the most GPUs of that model
    #: any one unit of that level holds (static; a search skips levels too small to fit)
    unit_max_gpus: IntArray
    block_node_start: IntArray
    block_node_end: IntArray

    @property
    def total_gpus(self) -> int:
        return int(self.node_gpus.sum())

    def gpus_by_model(self) -> dict[str, int]:
        """GPUs per model over the whole fleet."""
        return {m: int(c) for m, c in zip(self.models, self.block_gpus.sum(axis=0), strict=True) if c}

    def unit_of(self, level: Level) -> IntArray:
        """Per node (fleet order): the index of its unit at ``level``."""
        return self._level(level)[0]

    def n_units(self, level: Level) -> int:
        """How many units the fleet has at ``level``."""
        return len(self._level(level)[1])

    def unit_names(self, level: Level) -> tuple[str, ...]:
        """The names of the units at ``level``, by index."""
        return self._level(level)[1]

    def _level(self, level: Level) -> tuple[IntArray, tuple[str, ...]]:
        """The one place a level maps to its arrays: each node's unit, and the units' names."""
        if level is Level.SITE:
            return self.node_site, self.site_names
        if level is Level.POD:
            return self.node_pod, self.pod_names
        if level is Level.BLOCK:
            return self.node_block, self.block_names
        if level is Level.NVLINK_DOMAIN:
            return self.node_domain, self.domain_ids
        return np.arange(len(self.node_ids), dtype=np.int32), self.node_ids


def health_codes(fleet: Fleet, snap: FleetSnapshot) -> npt.NDArray[np.int8]:
    """Each node's health in ``fleet`` as codes (index into :data:`HEALTH_CODES`), in
    the snapshot's node order: the starting point of a leasing view, read once."""
    by_id = {node.id: node.health for node in fleet.nodes}
    return np.fromiter((HEALTH_CODES.index(by_id[n]) for n in snap.node_ids), np.int8, len(snap.node_ids))


def build_snapshot(fleet: Fleet) -> FleetSnapshot:
    """The snapshot of ``fleet``: nodes ordered by block then NVLink domain, in one pass."""
    block_index = {b.name: i for i, b in enumerate(fleet.blocks)}
    pod_index = {p.name: i for i, p in enumerate(fleet.pods)}
    site_index = {s.name: i for i, s in enumerate(fleet.sites)}
    models = tuple(sorted({n.gpu_model for n in fleet.nodes}))
    model_index = {m: i for i, m in enumerate(models)}
    # Stable order: by block, then domain (domains never span blocks).
    order = sorted(
        range(len(fleet.nodes)), key=lambda k: (block_index[fleet.nodes[k].block], fleet.nodes[k].nvlink_domain)
    )
    nodes = [fleet.nodes[k] for k in order]
    n = len(nodes)
    node_block = np.fromiter((block_index[x.block] for x in nodes), np.int32, n)
    node_model = np.fromiter((model_index[x.gpu_model] for x in nodes), np.int32, n)
    node_gpus = np.fromiter((x.gpu_count for x in nodes), np.int32, n)
    domain_ids, node_domain, domain_start = _domains(nodes)
    block_pod = np.array([pod_index[b.pod] for b in fleet.blocks], np.int32)
    block_site = np.array([site_index[b.site] for b in fleet.blocks], np.int32)
    nb, nm, nd = len(fleet.blocks), len(models), len(domain_ids)
    block_gpus = _counter((nb, nm), (node_block, node_model), node_gpus)
    pod_of = block_pod[node_block] if nb else np.zeros(0, np.int32)
    site_of = block_site[node_block] if nb else np.zeros(0, np.int32)
    bounds = np.searchsorted(node_block, np.arange(nb + 1, dtype=np.int32)).astype(np.int32)
    return FleetSnapshot(
        models=models,
        site_names=tuple(s.name for s in fleet.sites),
        pod_names=tuple(p.name for p in fleet.pods),
        block_names=tuple(b.name for b in fleet.blocks),
        domain_ids=tuple(domain_ids),
        node_ids=tuple(x.id for x in nodes),
        node_model=node_model,
        node_gpus=node_gpus,
        node_domain=node_domain,
        node_block=node_block,
        node_pod=pod_of,
        node_site=site_of,
        domain_block=node_block[domain_start] if nd else np.zeros(0, np.int32),
        domain_model=node_model[domain_start] if nd else np.zeros(0, np.int32),
        domain_nodes=np.bincount(node_domain, minlength=nd).astype(np.int32),
        domain_gpus=np.bincount(node_domain, weights=node_gpus, minlength=nd).astype(np.int32),
        domain_node_start=domain_start,
        block_pod=block_pod,
        block_site=block_site,
        block_gpus=block_gpus,
        unit_max_gpus=_unit_max_gpus(nm, node_model, node_gpus, (site_of, pod_of, node_block, node_domain)),
        block_node_start=bounds[:-1].copy(),
        block_node_end=bounds[1:].copy(),
    )


def _unit_max_gpus(models: int, node_model: IntArray, node_gpus: IntArray, units: tuple[IntArray, ...]) -> IntArray:
    """(depth, model) -> the most GPUs of the model in one unit at that depth."""
    out = np.zeros((len(units), models), np.int32)
    for depth, unit_of in enumerate(units):
        if not unit_of.size:
            continue
        per = np.zeros((int(unit_of.max()) + 1, models), np.int64)
        np.add.at(per, (unit_of, node_model), node_gpus)
        out[depth] = per.max(axis=0)
    return out


def _domains(nodes: list[Node]) -> tuple[list[str], IntArray, IntArray]:
    """Dense domain indices for nodes already grouped by domain."""
    ids: list[str] = []
    starts: list[int] = []
    out = np.empty(len(nodes), np.int32)
    last: str | None = None
    for k, node in enumerate(nodes):
        dom = node.nvlink_domain
        if dom != last:
            ids.append(dom)
            starts.append(k)
            last = dom
        out[k] = len(ids) - 1
    return ids, out, np.array(starts, np.int32)


def _counter(shape: tuple[int, int], index: tuple[IntArray, IntArray], values: IntArray) -> IntArray:
    out = np.zeros(shape, np.int64)
    np.add.at(out, index, values)
    return out.astype(np.int32)
