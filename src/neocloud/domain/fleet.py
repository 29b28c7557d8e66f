"""The fleet, expanded: sites, pods, fabric blocks, racks, NVLink domains and nodes.

Hierarchy: site -> pod (spine group) -> fabric block (leaf group / scalable unit)
-> NVLink domain -> node -> GPUs. Racks are the physical and power view: a node
sits in at most one rack; an NVL72 rack is also one NVLink domain. GPUs are not
objects: a node carries ``gpu_count`` GPUs of one model (GPU ``k`` of node ``n`` is
the pair ``(n, k)``), which keeps a 500k-GPU fleet small; where the inventory tracks
them, ``gpu_serials[k]`` is the serial of GPU ``k``.

Names of sites, pods, blocks and racks are unique fleet-wide within their kind;
node ids are unique fleet-wide.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from neocloud.domain.catalog import GpuCatalog
from neocloud.domain.health import Health, HealthTransition, transition


@dataclass(frozen=True, slots=True)
class Site:
    """A campus. ``power_mw`` is its IT power budget (critical load, as contracted);
    ``facility_power_mw``, when known, the utility power that IT load x PUE must fit.
    ``None`` means unknown (imported inventories) and is not checked."""

    name: str
    region: str
    power_mw: float | None
    pue: float
    electricity_usd_per_kwh: float | None
    facility_power_mw: float | None = None


@dataclass(frozen=True, slots=True)
class Pod:
    """A spine group: the blocks that share one spine layer."""

    name: str
    site: str


@dataclass(frozen=True, slots=True)
class Block:
    """A fabric block: a leaf group / scalable unit, the unit of network locality."""

    name: str
    site: str
    pod: str


@dataclass(frozen=True, slots=True)
class Rack:
    """A rack with its power budget in kW (``None``: not checked)."""

    name: str
    site: str
    pod: str
    block: str
    power_kw: float | None


@dataclass(slots=True)
class Node:
    """A server with ``gpu_count`` GPUs of one model, placed in the topology."""

    id: str
    serial: str
    gpu_model: str
    gpu_count: int
    site: str
    pod: str
    block: str
    rack: str | None
    nvlink_domain: str
    health: Health = Health.HEALTHY
    history: tuple[HealthTransition, ...] = ()
    #: The serial of each GPU, by index on the node (``gpu_serials[k]`` is GPU ``k``):
    #: empty when the inventory does not track GPUs, else exactly ``gpu_count``
    #: serials, unique across the fleet (an RMA names a GPU by its serial).
    gpu_serials: tuple[str, ...] = ()

    def change_health(self, target: Health, *, at: datetime, reason: str) -> HealthTransition:
        """Move to ``target`` if the transition table allows it; record and return the change."""
        self.health, self.history = transition(self.id, self.health, target, at=at, reason=reason, history=self.history)
        return self.history[-1]


@dataclass(slots=True)
class Fleet:
    """Everything an operator owns, expanded to nodes, in topology order."""

    catalog: GpuCatalog
    name: str | None = None
    sites: list[Site] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    racks: list[Rack] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)

    @property
    def gpu_count(self) -> int:
        """All GPUs in the fleet, whatever their health."""
        return sum(n.gpu_count for n in self.nodes)


@dataclass(frozen=True, slots=True)
class SiteSummary:
    """What ``fleet show`` prints for one site (and the totals, with ``name='total'``)."""

    name: str
    region: str
    power_mw_budget: float | None
    power_mw_used: float
    facility_power_mw_used: float
    power_unknown_nodes: int
    gpus: int
    gpus_by_model: dict[str, int]
    nodes: int
    pods: int
    fabric_blocks: int
    nvlink_domains: int
    racks: int
    nodes_by_health: dict[str, int]


def summarize(fleet: Fleet) -> tuple[list[SiteSummary], SiteSummary]:
    """Per-site summaries and the fleet total, in one pass over the nodes."""
    acc = {s.name: _SiteAcc() for s in fleet.sites}
    for pod in fleet.pods:
        acc[pod.site].pods += 1
    for block in fleet.blocks:
        acc[block.site].blocks += 1
    for rack in fleet.racks:
        acc[rack.site].racks += 1
    power = {m.name: m.node_power_kw for m in fleet.catalog.models()}
    for node in fleet.nodes:
        a = acc[node.site]
        a.gpus[node.gpu_model] += node.gpu_count
        a.health[node.health.value] += 1
        a.nodes += 1
        a.domains.add(node.nvlink_domain)
        kw = power.get(node.gpu_model)
        if kw is None:
            a.unknown_power += 1
        else:
            a.kw += kw
    sites = [acc[s.name].summary(s) for s in fleet.sites]
    return sites, _total(sites)


@dataclass(slots=True)
class _SiteAcc:
    pods: int = 0
    blocks: int = 0
    racks: int = 0
    nodes: int = 0
    kw: float = 0.0
    unknown_power: int = 0
    gpus: Counter[str] = field(default_factory=Counter)
    health: Counter[str] = field(default_factory=Counter)
    domains: set[str] = field(default_factory=set)

    def summary(self, site: Site) -> SiteSummary:
        used_mw = self.kw / 1000.0
        return SiteSummary(
            name=site.name,
            region=site.region,
            power_mw_budget=site.power_mw,
            power_mw_used=used_mw,
            facility_power_mw_used=used_mw * site.pue,
            power_unknown_nodes=self.unknown_power,
            gpus=sum(self.gpus.values()),
            gpus_by_model=dict(sorted(self.gpus.items())),
            nodes=self.nodes,
            pods=self.pods,
            fabric_blocks=self.blocks,
            nvlink_domains=len(self.domains),
            racks=self.racks,
            nodes_by_health={h.value: self.health.get(h.value, 0) for h in Health},
        )


def _total(sites: list[SiteSummary]) -> SiteSummary:
    budgets = [s.power_mw_budget for s in sites]
    gpus: Counter[str] = Counter()
    health: Counter[str] = Counter()
    for s in sites:
        gpus.update(s.gpus_by_model)
        health.update(s.nodes_by_health)
    return SiteSummary(
        name="total",
        region="",
        power_mw_budget=None if any(b is None for b in budgets) else sum(b or 0.0 for b in budgets),
        power_mw_used=sum(s.power_mw_used for s in sites),
        facility_power_mw_used=sum(s.facility_power_mw_used for s in sites),
        power_unknown_nodes=sum(s.power_unknown_nodes for s in sites),
        gpus=sum(s.gpus for s in sites),
        gpus_by_model=dict(sorted(gpus.items())),
        nodes=sum(s.nodes for s in sites),
        pods=sum(s.pods for s in sites),
        fabric_blocks=sum(s.fabric_blocks for s in sites),
        nvlink_domains=sum(s.nvlink_domains for s in sites),
        racks=sum(s.racks for s in sites),
        nodes_by_health={h.value: health.get(h.value, 0) for h in Health},
    )
