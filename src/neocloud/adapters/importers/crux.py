"""Alibaba Lingjun (Crux, SIGCOMM'24) host topology -> fleet spec with its Clos fabric.

Source: ``alibaba-lingjun-crux-2023/topo.csv`` (alibaba/alibaba-lingjun-dataset-2023,
Apache-2.0), columns ``ip, DSW, PSW, ASW``: one row per host (hashed IP) with the
core (DSW), aggregation (PSW) and ToR (ASW) switch it hangs off. The published file
has 847 hosts under 1 DSW, 3 PSWs and 119 ToRs.

Topology mapping:

* DSW (core) -> site ``crux-<DSW>``; PSW (aggregation) -> pod ``<DSW>-<PSW>``;
  ASW (ToR) -> fabric block ``<DSW>-<PSW>-<ASW>``. ToR names are *not* unique in
  the data: the same ``S14`` appears under P8, P10 and P12 (48 distinct ASW names,
  119 distinct PSW/ASW pairs), so a block is named by its whole path. Pods carry
  the DSW for the same reason should a PSW name repeat under two DSWs.
* Node id = the ``ip`` column (a hash); a repeated ip is an error.

Assumptions (the file has no GPU column):

* **8 GPUs per host.** Neither topo.csv, the dataset README ("more than 800 hosts")
  nor the traces README gives a per-host GPU count. The derived Crux job list is
  consistent with 8-GPU hosts (the most common multi-GPU sizes are 8, 16, 32, 64
  and 256 GPUs) but does not prove it; note that the Crux paper speaks of a
  "2,000+ GPU" cluster, fewer than 847 x 8 = 6,776, so the topology file may cover
  more hosts than the paper's GPU count or hosts may carry fewer GPUs. Pass
  ``gpus_per_host`` to change it.
* The GPU model is not published: it is declared as ``lingjun-gpu`` with unknown
  memory, TDP and node power.
* Region, power budget and price are unknown; PUE is the 1.25 default
  (economics.md section 6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from neocloud.adapters.importers._csv import RowErrors, read_rows, text, unique
from neocloud.adapters.importers._fleet import (
    Inventory,
    Models,
    SourceNode,
    declare_models,
    natural_key,
    require_nodes,
    site,
)
from neocloud.domain.spec import BlockSpec, FleetSpec, PodSpec, SiteSpec

FLEET_NAME = "alibaba-lingjun-crux"
GPU_MODEL = "lingjun-gpu"
GPUS_PER_HOST = 8
IP, DSW, PSW, ASW = "ip", "DSW", "PSW", "ASW"
_T = TypeVar("_T")

# DSW -> PSW -> ASW -> hosts, in file order of hosts.
Tree = dict[str, dict[str, dict[str, list[SourceNode]]]]


@dataclass(frozen=True, slots=True)
class CruxTopology:
    """Hosts under their core, aggregation and ToR switches."""

    tree: Tree

    @property
    def inventory(self) -> Inventory:
        return Inventory(
            tuple(h for psws in self.tree.values() for asws in psws.values() for hs in asws.values() for h in hs)
        )


def import_crux(path: Path, gpus_per_host: int = GPUS_PER_HOST) -> FleetSpec:
    """The Crux topology at ``path`` as a fleet spec (see the module doc for assumptions)."""
    topo = read_crux(path, gpus_per_host)
    inventory = topo.inventory
    require_nodes(str(path), inventory)
    models = declare_models(inventory.nodes)
    sites = tuple(_site(dsw, psws, models) for dsw, psws in _sorted(topo.tree))
    return FleetSpec(name=FLEET_NAME, gpu_models=models.declared, sites=sites)


def read_crux(path: Path, gpus_per_host: int = GPUS_PER_HOST) -> CruxTopology:
    """Hosts of a ``ip, DSW, PSW, ASW`` file; :class:`SpecError` lists every bad row."""
    if gpus_per_host < 1:
        raise ValueError(f"gpus_per_host must be at least 1, got {gpus_per_host}")
    errors = RowErrors(path)
    seen: dict[str, int] = {}
    tree: Tree = {}
    for row in read_rows(path, (IP, DSW, PSW, ASW)):
        ip = text(row, IP, errors)
        switches = [text(row, c, errors) for c in (DSW, PSW, ASW)]
        if ip is None or not unique(row, IP, ip, seen, errors):
            continue
        dsw, psw, asw = switches
        if dsw is not None and psw is not None and asw is not None:
            host = SourceNode(ip, GPU_MODEL, gpus_per_host)
            tree.setdefault(dsw, {}).setdefault(psw, {}).setdefault(asw, []).append(host)
    errors.raise_if_any()
    return CruxTopology(tree)


def _site(dsw: str, psws: Mapping[str, Mapping[str, list[SourceNode]]], models: Models) -> SiteSpec:
    pods = [
        PodSpec(f"{dsw}-{psw}", tuple(_block(f"{dsw}-{psw}-{asw}", hosts, models) for asw, hosts in _sorted(asws)))
        for psw, asws in _sorted(psws)
    ]
    return site(f"crux-{dsw}", pods)


def _block(name: str, hosts: list[SourceNode], models: Models) -> BlockSpec:
    return BlockSpec(name, nodes=tuple(models.node(h) for h in hosts))


def _sorted(mapping: Mapping[str, _T]) -> list[tuple[str, _T]]:
    return sorted(mapping.items(), key=lambda kv: natural_key(kv[0]))
