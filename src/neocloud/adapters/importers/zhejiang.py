"""Zhejiang Lab 2,000-A100 cluster NIC-to-leaf cabling -> fleet spec with its leaf groups.

Source: ``zhejiang-lab-a100-2024/cluster_topology.csv`` (zhejianglab/Zhejiang-Lab-Cluster-Traces,
cluster_2000_A100.xlsx converted to CSV, CC BY 4.0), columns ``accessport, serverIP,
nicname, portname, switchIP, switchname, sysname``: one row per RoCE NIC link. The
published file has 1,012 links: 253 servers x 4 NICs on 20 leaf switches (200 Gbps).

Topology mapping:

* A server is its ``sysname`` (e.g. ``NH-DC-NM129-A01-28U-GPU-1``), which is also
  its node id. ``serverIP`` is not the server: each NIC has its own IP, and two
  servers' rows have none. Only ``sysname`` and ``switchname`` are required.
* Fabric blocks are leaf groups: the connected components of the server-leaf
  graph (two leaves are in one group when some server has NICs on both). Every
  server therefore lies in exactly one block, whatever the cabling. In the
  published file each server's 4 NICs go to 4 different leaves of one group of 4
  (Leaf-1..4, 5..8, 9..12, 13..16, 17..20), NIC *k* always to the *k*-th leaf of
  its group (rail-optimised), so the rule yields 5 blocks of 60, 60, 49, 60 and 24
  servers. Blocks are named ``leafgroup-1`` .. ``leafgroup-N`` in the natural order
  of each group's first leaf name.
* The spine layer (10 spines per the program's description) is not in the file:
  one site ``zhejiang-lab`` with one pod ``zhejiang-lab`` holds all blocks.
* Racks are not modelled: ``sysname`` encodes a rack position (``A01-28U``) but two
  of its racks hold servers of two leaf groups, which the fleet model does not allow.

Assumptions:

* Every server is an 8-GPU A100 node: the program is named "2,000 A100" and
  253 x 8 = 2,024. ``A100`` is declared with unknown memory (40 or 80 GB is not
  stated), TDP and node power.
* Region ``cn-zhejiang`` (Zhejiang Lab); power budget and price unknown; PUE is the
  1.25 default (economics.md section 6).
"""

from __future__ import annotations

from pathlib import Path

from neocloud.adapters.importers._csv import RowErrors, read_rows, text
from neocloud.adapters.importers._fleet import (
    Inventory,
    SourceNode,
    declare_models,
    natural_key,
    require_nodes,
    site,
)
from neocloud.domain.spec import BlockSpec, FleetSpec, NodeSpec, PodSpec

FLEET_NAME = "zhejiang-lab"
REGION = "cn-zhejiang"
GPU_MODEL = "A100"
GPUS_PER_SERVER = 8
SERVER, LEAF = "sysname", "switchname"


def import_zhejiang(path: Path, gpus_per_server: int = GPUS_PER_SERVER) -> FleetSpec:
    """The Zhejiang Lab cabling at ``path`` as a fleet spec (see the module doc)."""
    if gpus_per_server < 1:
        raise ValueError(f"gpus_per_server must be at least 1, got {gpus_per_server}")
    links = read_links(path)
    servers = [SourceNode(s, GPU_MODEL, gpus_per_server) for s in links]
    require_nodes(str(path), Inventory(tuple(servers)))
    models = declare_models(servers)
    group_of = {s: k for k, members in enumerate(leaf_groups(links), start=1) for s in members}
    by_group: dict[int, list[NodeSpec]] = {}
    for server in servers:
        by_group.setdefault(group_of[server.id], []).append(models.node(server))
    blocks = [BlockSpec(f"leafgroup-{k}", nodes=tuple(nodes)) for k, nodes in sorted(by_group.items())]
    pod = PodSpec(FLEET_NAME, tuple(blocks))
    return FleetSpec(name=FLEET_NAME, gpu_models=models.declared, sites=(site(FLEET_NAME, [pod], REGION),))


def read_links(path: Path) -> dict[str, set[str]]:
    """Each server's leaf switches, servers in file order; :class:`SpecError` lists every bad row."""
    errors = RowErrors(path)
    links: dict[str, set[str]] = {}
    for row in read_rows(path, (SERVER, LEAF)):
        server, leaf = text(row, SERVER, errors), text(row, LEAF, errors)
        if server is not None and leaf is not None:
            links.setdefault(server, set()).add(leaf)
    errors.raise_if_any()
    return links


def leaf_groups(links: dict[str, set[str]]) -> list[set[str]]:
    """The servers of each leaf group (connected component of the server-leaf graph).

    Groups come in the natural order of their first leaf name.
    """
    parent: dict[str, str] = {}
    for leaves in links.values():
        first, *rest = sorted(leaves)
        for leaf in rest:
            parent[_root(parent, leaf)] = _root(parent, first)
        _root(parent, first)
    by_root: dict[str, set[str]] = {}
    for server, leaves in links.items():
        by_root.setdefault(_root(parent, next(iter(leaves))), set()).add(server)
    first_leaf: dict[str, str] = {}
    for leaf in sorted(parent, key=natural_key):
        first_leaf.setdefault(_root(parent, leaf), leaf)
    return [by_root[r] for r in sorted(by_root, key=lambda r: natural_key(first_leaf[r]))]


def _root(parent: dict[str, str], leaf: str) -> str:
    parent.setdefault(leaf, leaf)
    while parent[leaf] != leaf:
        parent[leaf] = parent[parent[leaf]]
        leaf = parent[leaf]
    return leaf
