"""Clusters a replay runs on without a fleet file: ``gpus:N`` or ``gpus:NxG``.

``gpus:1024x8`` is 128 nodes of 8 GPUs of a model named ``gpu`` (no power, memory or
price: the simulator needs none); ``gpus:N`` means 8 GPUs per node, the HGX/DGX size
most traces' large machines have (Philly's 8-GPU machines [traces README section 1]).
Such a cluster has no topology beyond its nodes: one site, one pod, one block, every
node its own NVLink domain.
"""

from __future__ import annotations

import re

from neocloud.domain.spec import BlockSpec, FleetSpec, GpuModelSpec, NodeGroupSpec, PodSpec, SiteSpec

DEFAULT_GPUS_PER_NODE = 8
MAX_GPUS = 10_000_000
_SPEC = re.compile(r"gpus:([0-9]+)(?:x([0-9]+))?")


def parse_gpus(text: str) -> tuple[int, int] | None:
    """``(gpus, per node)`` of a ``gpus:N[xG]`` text; ``None`` when it is not one;
    ValueError naming the problem when it is one but wrong."""
    if not text.startswith("gpus:"):
        return None
    match = _SPEC.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r}: expected gpus:N or gpus:NxG, like gpus:1024x8")
    gpus = int(match.group(1))
    per_node = int(match.group(2) or DEFAULT_GPUS_PER_NODE)
    if not 0 < per_node <= 72:
        raise ValueError(f"{text!r}: {per_node} GPUs per node is not 1 to 72")
    if not 0 < gpus <= MAX_GPUS:
        raise ValueError(f"{text!r}: {gpus} GPUs is not 1 to {MAX_GPUS:,}")
    if gpus % per_node:
        raise ValueError(f"{text!r}: {gpus} GPUs is not a whole number of {per_node}-GPU nodes")
    return gpus, per_node


def uniform_fleet(gpus: int, per_node: int = DEFAULT_GPUS_PER_NODE) -> FleetSpec:
    """``gpus`` GPUs in nodes of ``per_node`` (see the module doc)."""
    group = NodeGroupSpec(
        count=gpus // per_node,
        gpu_model="gpu",
        id_pattern="n{i:06d}",
        rack_pattern="r{r:05d}",
        nodes_per_rack=1,
    )
    site = SiteSpec(
        name="sim",
        region="sim",
        power_mw=None,
        pue=1.0,
        electricity_usd_per_kwh=None,
        pods=(PodSpec("sim-pod", (BlockSpec("sim-block", node_groups=(group,)),)),),
    )
    return FleetSpec(name=f"gpus-{gpus}x{per_node}", gpu_models=(GpuModelSpec("gpu", per_node),), sites=(site,))
