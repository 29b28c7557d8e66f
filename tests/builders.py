"""Builders for test fleets: small, valid by default, one field changed per test."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from neocloud.domain.spec import BlockSpec, FleetSpec, NodeGroupSpec, NodeSpec, PodSpec, SiteSpec


def a_group(**kw: Any) -> NodeGroupSpec:
    base = NodeGroupSpec(
        count=4,
        gpu_model="H100",
        id_pattern="{block}-n{i:02d}",
        rack_pattern="{block}-r{r}",
        nodes_per_rack=2,
        rack_power_kw=25.0,
    )
    return replace(base, **kw)


def a_block(name: str = "b1", **kw: Any) -> BlockSpec:
    return replace(BlockSpec(name=name, node_groups=(a_group(),)), **kw)


def a_site(name: str = "s1", blocks: tuple[BlockSpec, ...] | None = None, **kw: Any) -> SiteSpec:
    blocks = blocks if blocks is not None else (a_block(f"{name}-b1"),)
    base = SiteSpec(
        name=name,
        region="test",
        power_mw=1.0,
        pue=1.2,
        electricity_usd_per_kwh=0.07,
        pods=(PodSpec(f"{name}-p1", blocks),),
    )
    return replace(base, **kw)


def a_fleet(*sites: SiteSpec, **kw: Any) -> FleetSpec:
    return replace(FleetSpec(name="test", sites=sites or (a_site(),)), **kw)


def a_node(node_id: str = "x1", **kw: Any) -> NodeSpec:
    return replace(NodeSpec(id=node_id, gpu_model="H100"), **kw)
