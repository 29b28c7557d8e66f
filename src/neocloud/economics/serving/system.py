"""A GPU system's constants (HBM, tensor FLOPS by precision, NVLink and network), parsed
from the mapping an adapter read from ``systems/*.yaml``.

Values are NVIDIA's datasheet figures as AIConfigurator's system files state them
(../shared/reference/serving-silicon/systems, commit 095f58a, 2026-08-21) [SS]. The
files also carry NVIDIA's own empirical corrections (``mem_bw_empirical_scaling_factor``,
``mem_empirical_constant_latency``, ``p2p_latency``); they are kept here under
``empirical_*`` names, marked as such, and the latency model does not use them: it fits
its own efficiencies (docs/economics.md, "Serving latency model").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class SystemError_(ValueError):  # "SystemError" is a builtin
    """A system file that lacks a constant the model needs."""


@dataclass(frozen=True, slots=True)
class GpuSystem:
    """One GPU of a system and its fabric. Bandwidths in bytes/s (one direction), FLOPS
    dense (not sparse), capacities in bytes, latencies in seconds."""

    name: str
    hbm_bw: float
    hbm_bytes: float
    bf16_flops: float
    fp8_flops: float
    fp4_flops: float  # 0.0: no FP4 tensor cores (Hopper)
    int8_flops: float
    nvlink_bw: float  # intra-node (NVLink) per GPU
    inter_node_bw: float  # between nodes per GPU (NVLink switch in an NVL72 rack)
    gpus_per_node: int
    nvlink_domain_gpus: int  # GPUs one NVLink fabric joins (8 on HGX, 72 on NVL72)
    sm_version: int
    empirical_mem_bw_factor: float  # NVIDIA's "nonofficial correction", not used by the model
    empirical_mem_latency_s: float  # idem
    empirical_p2p_latency_s: float  # idem
    reserved_bytes: float = 0.0  # NVIDIA's empirical "other_mem" + NCCL buffers: HBM not for weights or KV

    def tensor_flops(self, kind: str) -> float:
        """Dense tensor-core FLOPS for a compute kind: ``bf16``, ``fp8``, ``fp4``, ``int8``."""
        return {"bf16": self.bf16_flops, "fp8": self.fp8_flops, "fp4": self.fp4_flops, "int8": self.int8_flops}[kind]

    def link_bw(self, group_gpus: int) -> float:
        """Per-GPU bandwidth of a collective over ``group_gpus`` GPUs: NVLink within an
        NVLink domain, the inter-node network past it."""
        return self.nvlink_bw if group_gpus <= self.nvlink_domain_gpus else self.inter_node_bw


def system_from_mapping(name: str, data: Mapping[str, Any]) -> GpuSystem:
    """The :class:`GpuSystem` from a system file's mapping, or :class:`SystemError_`
    naming the missing constant."""
    gpu = _section(data, "gpu")
    node = _section(data, "node")
    per_node = int(_num(node, "num_gpus_per_node", "node"))
    rack = int(node.get("num_gpus_per_rack") or 0)
    inter = _num(node, "inter_node_bw", "node")
    # An NVL72 rack: its "inter-node" link is the NVLink switch (as fast as intra-node).
    domain = rack if rack and inter >= _num(node, "intra_node_bw", "node") else per_node
    return GpuSystem(
        name=name,
        hbm_bw=_num(gpu, "mem_bw", "gpu"),
        hbm_bytes=_num(gpu, "mem_capacity", "gpu"),
        bf16_flops=_num(gpu, "bfloat16_tc_flops", "gpu"),
        fp8_flops=_num(gpu, "fp8_tc_flops", "gpu"),
        fp4_flops=float(gpu.get("fp4_tc_flops") or 0.0),
        int8_flops=float(gpu.get("int8_tc_flops") or 0.0),
        nvlink_bw=_num(node, "intra_node_bw", "node"),
        inter_node_bw=inter,
        gpus_per_node=per_node,
        nvlink_domain_gpus=domain,
        sm_version=int(gpu.get("sm_version") or 0),
        empirical_mem_bw_factor=float(gpu.get("mem_bw_empirical_scaling_factor") or 1.0),
        empirical_mem_latency_s=float(gpu.get("mem_empirical_constant_latency") or 0.0),
        empirical_p2p_latency_s=float(node.get("p2p_latency") or 0.0),
        reserved_bytes=_reserved(data),
    )


def _reserved(data: Mapping[str, Any]) -> float:
    """``misc.other_mem`` plus the largest ``misc.nccl_mem`` (NVIDIA's empirical figures)."""
    misc = data.get("misc")
    if not isinstance(misc, Mapping):
        return 0.0
    nccl = misc.get("nccl_mem")
    largest = max((float(v) for v in nccl.values()), default=0.0) if isinstance(nccl, Mapping) else 0.0
    return float(misc.get("other_mem") or 0.0) + largest


def _section(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise SystemError_(f"{key}: missing section")
    return value


def _num(section: Mapping[str, Any], key: str, where: str) -> float:
    value = section.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise SystemError_(f"{where}.{key}: expected a positive number, got {value!r}")
    return float(value)
