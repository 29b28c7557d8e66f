"""The plan's view of the latency model (§4a): its :class:`Architecture` and
:class:`GpuSystem` as the plan's :class:`ModelFootprint` and :class:`SystemLimits`, and
its fitted model as a :class:`Predictor` over candidates (vectorised: the terms of every
candidate, then one ``combine``).

A candidate is the aggregated deployment of a silicon-CSV row with the same columns
(``batch`` is the row's ``batch_size``, per attention-DP rank): :func:`deployment` builds
what ``deployment.parse_row`` reads from that row (a test holds them equal), so the
predictor sees exactly what it was fitted on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from neocloud.economics.serving.architecture import Architecture
from neocloud.economics.serving.catalog import ServingInputs
from neocloud.economics.serving.deployment import Deployment, Worker
from neocloud.economics.serving.latency import TERM_NAMES, combine, terms
from neocloud.economics.serving.latency import Unsupported as LatencyUnsupported
from neocloud.economics.serving.plan import (
    Candidate,
    Latency,
    ModelFootprint,
    Split,
    SystemLimits,
    Unsupported,
    Workload,
)
from neocloud.economics.serving.precision import PRECISION_DEFAULT_MODE, QUANT_MODES, QuantMode
from neocloud.economics.serving.system import GpuSystem


def quant_of(precision: str) -> QuantMode:
    """The quantisation mode a plan's precision means (``fp4`` is NVFP4), as in the CSV."""
    return QUANT_MODES[PRECISION_DEFAULT_MODE[precision]]


def footprint(arch: Architecture, precision: str, context: int) -> ModelFootprint:
    """Weights by part and KV cache per token (at ``context`` tokens) at ``precision``."""
    q = quant_of(precision)
    routed = float(arch.routed_params)
    return ModelFootprint(
        name=arch.name,
        dense_weight_bytes=(arch.total_params - routed) * q.bytes_per_param,
        expert_weight_bytes=routed * q.bytes_per_param,
        kv_bytes_per_token=arch.kv_bytes_per_token(q.kv_bytes, context),
        kv_heads=None if arch.kv_replicated_across_tp else arch.kv_heads,
    )


def limits(system: GpuSystem, reserved_bytes: float, nccl_bytes: Mapping[int, float]) -> SystemLimits:
    """A system's memory and precisions; ``reserved_bytes`` and ``nccl_bytes`` are the
    file's ``misc.other_mem`` and ``misc.nccl_mem`` (NVIDIA's deployment margins)."""
    precisions = {"bf16"} | ({"fp8"} if system.fp8_flops > 0 else set()) | ({"fp4"} if system.fp4_flops > 0 else set())
    return SystemLimits(
        name=system.name,
        hbm_bytes=system.hbm_bytes,
        reserved_bytes=reserved_bytes,
        nccl_bytes=dict(nccl_bytes),
        nvlink_domain_gpus=system.nvlink_domain_gpus,
        precisions=frozenset(precisions),
    )


def deployment(model_path: str, system: str, c: Candidate, workload: Workload, q: QuantMode) -> Deployment:
    """The latency model's deployment for a candidate: the one ``deployment.parse_row``
    reads from the silicon-CSV row of the same columns (``batch_size`` per attention-DP
    rank, so the worker's batch is the replica's ``c.concurrency``)."""
    worker = Worker(c.concurrency, c.tp, c.pp, c.attention_dp, c.moe_tp, c.moe_ep)
    return Deployment(
        model_path, system, workload.engine, "agg", workload.isl, workload.osl, q, q, worker, None, c.concurrency
    )


def split_deployment(model_path: str, system: str, s: Split, workload: Workload, q: QuantMode) -> Deployment:
    """The disaggregated deployment ``parse_row`` reads from a disagg row of the same
    columns: the decode worker's batch per attention-DP rank times its ranks, the
    prefill worker's batch as is, and the requests in flight ``s.concurrency``."""
    d, p = s.decode, s.prefill
    decode = Worker(d.concurrency, d.tp, d.pp, d.attention_dp, d.moe_tp, d.moe_ep, count=s.decode_workers)
    prefill = Worker(p.batch, p.tp, p.pp, p.attention_dp, p.moe_tp, p.moe_ep, count=s.prefill_workers)
    return Deployment(
        model_path, system, workload.engine, "disagg", workload.isl, workload.osl, q, q, decode, prefill, s.concurrency
    )


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """The fitted latency model of one model (``model_path``, its architecture) as a
    :class:`~neocloud.economics.serving.plan.Predictor`."""

    model_path: str
    arch: Architecture
    inputs: ServingInputs

    def __call__(
        self, system: str, candidates: Sequence[Candidate | Split], workload: Workload
    ) -> Sequence[Latency | Unsupported]:
        found = self.inputs.systems.get(system)
        if not isinstance(found, GpuSystem):
            reason = found if isinstance(found, str) else f"no system file for {system!r}"
            return [Unsupported(reason)] * len(candidates)
        q = quant_of(workload.precision)
        out: list[Latency | Unsupported] = [Unsupported("")] * len(candidates)
        rows: list[list[float]] = []
        index: list[int] = []
        for i, c in enumerate(candidates):
            if isinstance(c, Split):
                dep = split_deployment(self.model_path, system, c, workload, q)
            else:
                dep = deployment(self.model_path, system, c, workload, q)
            try:
                t = terms(self.arch, found, dep)
            except LatencyUnsupported as exc:
                out[i] = Unsupported(str(exc))
                continue
            rows.append([t[n] for n in TERM_NAMES])
            index.append(i)
        if rows:
            ttft, tpot = combine(np.array(rows, dtype=np.float64), self.inputs.coefficients)
            for j, i in enumerate(index):
                out[i] = Latency(float(ttft[j]), float(tpot[j]))
        return out
