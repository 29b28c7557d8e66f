"""The serving latency model: TTFT and TPOT of a deployment from architecture, precision,
parallelism, workload and the GPU system's constants.

Two steps. :func:`terms` computes, per deployment, the physical quantities that do not
depend on any fitted number: seconds each part of a decode step and of a prefill would
take at 100% of the datasheet rate (bytes / HBM bandwidth, FLOPs / tensor FLOPS, bytes /
link bandwidth) and counts (collectives, layers, pipeline hops). :func:`combine` turns
a table of terms into latencies with a few fitted :class:`Coefficients` (achievable
fractions, per-layer and per-collective overheads, prefill interference and bursts);
it is vectorised with NumPy so the fit and 5,000-row predictions are fast. The terms
and why each is there are in docs/economics.md, "Serving latency model".

:func:`roofline` is the textbook model the README measures (decode = weight and KV
bytes / HBM bandwidth; prefill = FLOPs / tensor FLOPS), kept to show beside this one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neocloud.economics.serving.architecture import Architecture
from neocloud.economics.serving.deployment import Deployment, Worker
from neocloud.economics.serving.system import GpuSystem

ACT_BYTES = 2.0  # BF16 activations in all-reduces and the MoE combine
DISPATCH_BYTES = 1.0  # FP8 tokens sent to experts (DeepEP / TRT-LLM all-to-all)
STATE_BYTES = 4.0  # FP32 recurrent state of linear-attention layers
ENGINES = ("trtllm", "sglang", "vllm")
PER_ENGINE = (  # coefficients fitted per engine
    "layer_s",
    "step_s",
    "ttft_s",
    "seq_s",
    "interference",
    "burst",
    "prompt_token_s",
    "prefill_layer_s",
)
# Share of HBM an engine gives to weights and KV cache: vLLM's gpu_memory_utilization and
# TensorRT-LLM's free_gpu_memory_fraction both default to 0.9 [engine docs, 2025].
MEMORY_FRACTION = 0.9


class Unsupported(ValueError):
    """A deployment this model cannot cost; ``str()`` is the row's ``unsupported_reason``."""


@dataclass(frozen=True, slots=True)
class Prediction:
    ttft_ms: float
    tpot_ms: float


# Every term is a float column of the table ``combine`` reads. Seconds at 100% of the
# datasheet rate unless the name says a count.
TERM_NAMES = (
    "d_mem_s",  # decode: bytes read per step / HBM bandwidth
    "d_gemm_s",  # decode: linear-layer FLOPs / tensor FLOPS at the weights' precision
    "d_attn_s",  # decode: attention FLOPs (QK^T, PV) / BF16 tensor FLOPS
    "d_ar_s",  # decode: tensor-parallel all-reduce bytes / link bandwidth
    "d_ar_n",  # decode: all-reduces per step (count)
    "d_a2a_s",  # decode: expert-parallel dispatch + combine bytes / link bandwidth
    "d_a2a_n",  # decode: all-to-alls per step (count)
    "d_ar_inter_n",  # decode: all-reduces that leave the NVLink domain (count)
    "p_ar_inter_n",  # prefill: all-reduces that leave the NVLink domain (count)
    "d_a2a_inter_n",  # decode: all-to-alls whose expert group leaves the NVLink domain (count)
    "moe_layers_n",  # MoE layers (count)
    "slot_wait_n",  # agg: decode steps a request waits for KV-cache room (count, x TPOT)
    "burst_n",  # requests one prefill rank receives at once (count; see _ttft)
    "seqs_per_rank_n",  # sequences one attention rank decodes per step (count)
    "d_pf_s",  # agg only: compute seconds of the prefill tokens one decode step carries (dense part)
    "d_gemm_moe_s",  # decode: routed-expert FLOPs / tensor FLOPS at the experts' precision
    "d_pf_moe_s",  # agg only: the routed-expert part of the carried prefill tokens
    "p_gemm_moe_s",  # prefill: routed-expert FLOPs / tensor FLOPS
    "layers_n",  # decoder layers (count)
    "pp_hops_n",  # pipeline stages - 1 (count)
    "p_mem_s",  # prefill of one request: weight bytes / HBM bandwidth
    "p_gemm_s",  # prefill: linear-layer FLOPs / tensor FLOPS
    "p_attn_s",  # prefill: causal attention FLOPs / BF16 tensor FLOPS
    "p_ar_s",  # prefill: all-reduce bytes / link bandwidth
    "p_a2a_s",  # prefill: all-to-all bytes / link bandwidth
    "p_ar_n",  # prefill: all-reduces (count)
    "p_a2a_n",  # prefill: all-to-alls (count)
    "kv_xfer_s",  # disagg: the request's KV cache / inter-worker bandwidth
    "disagg",  # 1 for disaggregated deployments
    "concurrency_n",  # requests in flight over the deployment (count)
    "prefill_workers_n",  # prefill replicas (count; agg: 1)
    "osl_n",  # output tokens (count)
    "decode_batch_n",  # requests in flight on one decode replica (count)
    "engine_i",  # index into ENGINES (count)
    "isl_n",  # prompt tokens of one request (count)
    "p_moe_burst_s",  # prefill: routed-expert FLOPs when every attention-DP rank of the prefill worker runs a request
)


@dataclass(frozen=True, slots=True)
class Coefficients:
    """The fitted numbers (all positive). The :data:`PER_ENGINE` ones are triples in the
    order of :data:`ENGINES`; an engine not in that list gets their geometric mean."""

    mem_eff: float  # achievable fraction of HBM bandwidth
    gemm_eff: float  # achievable fraction of tensor FLOPS in decode
    moe_eff: float  # achievable fraction of tensor FLOPS in grouped (routed-expert) GEMMs
    prefill_eff: float  # achievable fraction of tensor FLOPS in prefill
    attn_eff: float  # achievable fraction of BF16 FLOPS in attention
    net_eff: float  # achievable fraction of link bandwidth in collectives
    allreduce_s: float  # fixed latency of one all-reduce within an NVLink domain
    allreduce_inter_s: float  # extra latency of one all-reduce across nodes
    moe_layer_s: float  # per MoE layer: routing, expert-GEMM launch, token permutation
    a2a_s: float  # fixed latency of one all-to-all
    a2a_inter_s: float  # extra latency of one all-to-all across nodes
    pp_hop_s: float  # one pipeline hop
    disagg_burst: float  # disagg: share of the other prefills of a burst on a prefill rank a request waits for
    disagg_tokens_per_step: float  # tokens a disaggregated decode step emits per sequence (speculative MTP)
    layer_s: tuple[float, float, float]  # per-layer kernel overhead, per engine
    step_s: tuple[float, float, float]  # per-step overhead (scheduler, sampling), per engine
    ttft_s: tuple[float, float, float]  # fixed part of TTFT (HTTP, tokenising, scheduling), per engine
    seq_s: tuple[float, float, float]  # per sequence per decode step (scheduler, sampler), per engine
    interference: tuple[float, float, float]  # share of the carried prefill compute an agg step pays, per engine
    burst: tuple[float, float, float]  # agg: share of a burst's other prefills on its rank a request waits for
    prompt_token_s: tuple[float, float, float]  # host time per prompt token (tokenising, transfer), per engine
    prefill_layer_s: tuple[float, float, float]  # per decoder layer of one prefill (eager launches), per engine

    def vector(self) -> NDArray[np.float64]:
        """The coefficients as one vector (the fit's parameters), in field order."""
        values: list[float] = []
        for f in fields(self):
            value = getattr(self, f.name)
            values.extend(value if isinstance(value, tuple) else (value,))
        return np.asarray(values, dtype=np.float64)

    @classmethod
    def from_vector(cls, v: Sequence[float] | NDArray[np.float64]) -> Coefficients:
        x = [float(a) for a in v]
        values: dict[str, Any] = {}
        at = 0
        for f in fields(cls):
            if f.name in PER_ENGINE:
                values[f.name] = tuple(x[at : at + len(ENGINES)])
                at += len(ENGINES)
            else:
                values[f.name] = x[at]
                at += 1
        return cls(**values)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Coefficients:
        """From a mapping of field names (``layer_s``/``step_s`` as per-engine mappings)."""
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name not in data:
                raise ValueError(f"coefficients: {f.name} missing")
            raw = data[f.name]
            if isinstance(raw, Mapping):
                values[f.name] = tuple(float(raw[e]) for e in ENGINES)
            else:
                values[f.name] = float(raw)  # type: ignore[arg-type]
        return cls(**values)  # type: ignore[arg-type]

    def to_mapping(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = dict(zip(ENGINES, value, strict=True)) if isinstance(value, tuple) else value
        return out


# A first guess for the fit to start from (not a result): NVIDIA's system files use
# 0.8 of HBM bandwidth [SS]; the rest are round numbers of the right order.
INITIAL = Coefficients(
    mem_eff=0.7,
    gemm_eff=0.5,
    moe_eff=0.3,
    prefill_eff=0.5,
    attn_eff=0.3,
    net_eff=0.6,
    allreduce_s=10e-6,
    allreduce_inter_s=20e-6,
    moe_layer_s=30e-6,
    a2a_s=20e-6,
    a2a_inter_s=40e-6,
    pp_hop_s=10e-6,  # NVIDIA's empirical p2p_latency in every system file [SS]; not fitted
    disagg_burst=0.5,
    disagg_tokens_per_step=1.0,
    layer_s=(30e-6, 30e-6, 30e-6),
    step_s=(1e-3, 1e-3, 1e-3),
    ttft_s=(0.1, 0.1, 0.1),
    seq_s=(2e-6, 2e-6, 2e-6),
    interference=(1.0, 1.0, 1.0),
    burst=(0.5, 0.5, 0.5),
    prompt_token_s=(1e-6, 1e-6, 1e-6),
    prefill_layer_s=(1e-4, 1e-4, 1e-4),
)


def terms(arch: Architecture, system: GpuSystem, dep: Deployment) -> dict[str, float]:
    """The physical terms of one deployment (see :data:`TERM_NAMES`), or
    :class:`Unsupported` with the reason."""
    _check(arch, system, dep)
    room = resident_sequences(arch, system, dep, dep.decode)
    decode_worker, slot_wait = _decode_load(dep, room)
    decode = _decode_terms(arch, system, dep, decode_worker)
    prefill_worker = dep.prefill or decode_worker
    if dep.prefill is not None and not dep.worker_counts_known:
        # as many prefill replicas as decode replicas (the split is not in the row)
        prefill_worker = replace(dep.prefill, count=decode_worker.count)
    if dep.prefill is not None:
        resident_sequences(arch, system, dep, dep.prefill)  # refuses a prefill worker the weights overflow
    prefill = _prefill_terms(arch, system, dep, prefill_worker, tokens=dep.isl, requests=1)
    ranks = _prefill_terms(arch, system, dep, prefill_worker, tokens=dep.isl, requests=prefill_worker.attention_dp)
    share = share_moe = 0.0
    if dep.prefill is None:
        carried = decode_worker.batch * dep.isl / max(dep.osl, 1)  # prefill tokens per decode step
        pf = _prefill_terms(arch, system, dep, decode_worker, tokens=dep.isl, requests=carried / dep.isl)
        share = pf["p_gemm_s"] + pf["p_attn_s"]
        share_moe = pf["p_gemm_moe_s"]
    kv_bytes = dep.isl * arch.kv_bytes_per_token(dep.dense_quant.kv_bytes, dep.isl)
    engine = ENGINES.index(dep.backend) if dep.backend in ENGINES else len(ENGINES)
    return {
        **decode,
        "moe_layers_n": float(arch.moe_layers),
        "slot_wait_n": slot_wait,
        "burst_n": _burst(dep, decode_worker, prefill_worker),
        "seqs_per_rank_n": decode_worker.batch / decode_worker.attention_dp,
        "d_pf_s": share,
        "d_pf_moe_s": share_moe,
        "layers_n": float(arch.layers),
        "pp_hops_n": float(dep.decode.pp - 1),
        **prefill,
        "kv_xfer_s": kv_bytes / system.inter_node_bw if dep.prefill is not None else 0.0,
        "disagg": 1.0 if dep.prefill is not None else 0.0,
        "concurrency_n": float(dep.concurrency),
        "prefill_workers_n": float(prefill_worker.count),
        "osl_n": float(dep.osl),
        "decode_batch_n": float(decode_worker.batch),
        "engine_i": float(engine),
        "isl_n": float(dep.isl),
        "p_moe_burst_s": ranks["p_gemm_moe_s"],
    }


def resident_sequences(arch: Architecture, system: GpuSystem, dep: Deployment, w: Worker) -> float:
    """How many sequences of mean context ``isl + osl/2`` fit in a worker's KV cache:
    (HBM x :data:`MEMORY_FRACTION` - NVIDIA's reserved bytes - weights per GPU) / KV bytes
    per sequence per GPU, times the attention-DP ranks. :class:`Unsupported` when the
    weights alone overflow the GPUs."""
    weights = _weights_per_gpu(arch, dep, w)
    free = system.hbm_bytes * MEMORY_FRACTION - system.reserved_bytes - weights
    if free <= 0:
        need = weights / 1e9
        have = (system.hbm_bytes * MEMORY_FRACTION - system.reserved_bytes) / 1e9
        raise Unsupported(
            f"weights need {need:.0f} GB per GPU with tp {w.tp} pp {w.pp} moe_tp {w.moe_tp} ep {w.moe_ep}; "
            f"{system.name} has {have:.0f} GB usable"
        )
    ctx = dep.isl + dep.osl / 2.0
    per_seq = ctx * arch.kv_bytes_per_token(dep.dense_quant.kv_bytes, int(ctx)) / _kv_split(arch, w.tp) / w.pp
    per_seq += arch.state_elems_per_seq * STATE_BYTES / w.tp / w.pp
    return free / per_seq * w.attention_dp


def _burst(dep: Deployment, decode: Worker, prefill: Worker) -> float:
    """Other requests one prefill rank may hold when a request arrives. Benchmarks keep
    ``concurrency`` requests of equal length in flight, so they finish and restart
    together: each round the prefill ranks get the whole batch at once."""
    if dep.prefill is None:
        return max(decode.batch / decode.attention_dp - 1.0, 0.0)
    return max(dep.concurrency / (prefill.count * prefill.attention_dp) - 1.0, 0.0)


def _decode_load(dep: Deployment, room: float) -> tuple[Worker, float]:
    """The decode worker with the batch it really runs, and how many decode steps a new
    request waits for KV room (closed loop: ``batch/room - 1`` lifetimes of ``osl`` steps).
    A disaggregated row without worker counts gets as many decode workers as its
    concurrency needs for KV room."""
    w = dep.decode
    if dep.prefill is not None and not dep.worker_counts_known:
        workers = max(1, math.ceil(dep.concurrency / room))
        return replace(w, batch=max(1, math.ceil(dep.concurrency / workers)), count=workers), 0.0
    if w.batch <= room:
        return w, 0.0
    resident = max(1, math.floor(room))
    return replace(w, batch=resident), (w.batch / resident - 1.0) * dep.osl


def _weights_per_gpu(arch: Architecture, dep: Deployment, w: Worker) -> float:
    dense = arch.total_params - arch.routed_params - arch.embed_params
    embed = arch.embed_params * dep.dense_quant.bytes_per_param / w.tp  # vocab-parallel lookup table
    routed = arch.routed_params * dep.moe_quant.bytes_per_param / (w.moe_tp * w.moe_ep)
    return (dense * dep.dense_quant.bytes_per_param / w.tp + routed + embed) / w.pp


def combine(table: NDArray[np.float64], c: Coefficients) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """TTFT and TPOT in milliseconds for a table of terms (rows x :data:`TERM_NAMES`)."""
    t = {name: table[:, i] for i, name in enumerate(TERM_NAMES)}
    layer_s = _per_engine(c.layer_s, t["engine_i"])
    step_s = _per_engine(c.step_s, t["engine_i"])
    fixed = t["layers_n"] * layer_s + t["moe_layers_n"] * c.moe_layer_s + step_s
    compute = t["d_gemm_s"] / c.gemm_eff + t["d_gemm_moe_s"] / c.moe_eff + t["d_attn_s"] / c.attn_eff
    tpot = (
        np.maximum(t["d_mem_s"] / c.mem_eff, compute)
        + _per_engine(c.interference, t["engine_i"]) * (t["d_pf_s"] / c.gemm_eff + t["d_pf_moe_s"] / c.moe_eff)
        + (t["d_ar_s"] + t["d_a2a_s"]) / c.net_eff
        + t["d_ar_n"] * c.allreduce_s
        + t["d_ar_inter_n"] * c.allreduce_inter_s
        + t["d_a2a_n"] * c.a2a_s
        + t["d_a2a_inter_n"] * c.a2a_inter_s
        + t["pp_hops_n"] * c.pp_hop_s
        + t["seqs_per_rank_n"] * _per_engine(c.seq_s, t["engine_i"])
        + fixed
    )
    service = (
        np.maximum(t["p_mem_s"] / c.mem_eff, _prefill_compute(t, c))
        + (t["p_ar_s"] + t["p_a2a_s"]) / c.net_eff
        + t["p_ar_n"] * c.allreduce_s
        + t["p_ar_inter_n"] * c.allreduce_inter_s
        + t["p_a2a_n"] * c.a2a_s
        + fixed
    )
    tpot = np.where(t["disagg"] > 0, tpot / c.disagg_tokens_per_step, tpot)
    ttft = _ttft(t, service, tpot, c)
    return ttft * 1e3, tpot * 1e3


def _prefill_compute(
    t: dict[str, NDArray[np.float64]], c: Coefficients, moe_s: str = "p_gemm_moe_s"
) -> NDArray[np.float64]:
    """Prefill compute of one request: dense GEMMs and attention at ``prefill_eff``; the
    grouped expert GEMMs (``moe_s``: one request's, or a whole burst's across the
    attention-DP ranks) slower by the decode fit's ``moe_eff / gemm_eff``."""
    moe_prefill_eff = c.prefill_eff * min(c.moe_eff / c.gemm_eff, 1.0)
    return (t["p_gemm_s"] + t["p_attn_s"]) / c.prefill_eff + t[moe_s] / moe_prefill_eff


def _per_engine(values: tuple[float, float, float], engine: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row's engine's value; an engine not in :data:`ENGINES` gets the geometric mean."""
    known = np.asarray(values, dtype=np.float64)
    return np.append(known, np.exp(np.mean(np.log(known))))[engine.astype(np.int64)]


def _ttft(
    t: dict[str, NDArray[np.float64]], service: NDArray[np.float64], tpot: NDArray[np.float64], c: Coefficients
) -> NDArray[np.float64]:
    """Prefill service time plus the waits in front of it (``latency-v3``).

    One prefill costs its compute and, per decoder layer, ``prefill_layer_s`` (a
    prefill step runs its kernels eagerly: decode steps replay CUDA graphs, prefills of
    varying length do not). Benchmarks keep ``concurrency`` requests of equal length in
    flight, so requests finish and restart together: each round a prefill rank receives
    ``burst_n`` other requests with a request, and the request waits for a share of
    their whole prefills (compute and per-layer cost), every attention-DP rank running
    one at once so the routed experts see all the ranks' tokens. The share is per engine
    for agg (``burst``: schedulers batch, chunk and order prefills differently) and
    ``disagg_burst`` for a prefill worker, which then sends the KV cache to the decode
    worker. No closed-loop queue and no decode-step wait: fitted, both went to their
    bounds once the per-layer cost was in (docs/economics.md).
    Both: the wait for KV-cache room, a fixed ``ttft_s`` and ``prompt_token_s`` per
    prompt token on the host (HTTP, tokenising, scheduling), per engine."""
    engine = t["engine_i"]
    per_layer = t["layers_n"] * _per_engine(c.prefill_layer_s, engine)
    others = t["burst_n"] * (_prefill_compute(t, c, "p_moe_burst_s") + per_layer)
    share = np.where(t["disagg"] > 0, c.disagg_burst, _per_engine(c.burst, engine))
    transfer = np.where(t["disagg"] > 0, t["kv_xfer_s"] / c.net_eff, 0.0)
    wait = t["slot_wait_n"] * tpot  # closed loop: a request waits for a finishing one's KV room
    host = _per_engine(c.ttft_s, engine) + t["isl_n"] * _per_engine(c.prompt_token_s, engine)
    return service + per_layer + share * others + transfer + wait + host


def table(rows: Sequence[Mapping[str, float]]) -> NDArray[np.float64]:
    """Stack :func:`terms` results into the array :func:`combine` reads."""
    out = np.empty((len(rows), len(TERM_NAMES)), dtype=np.float64)
    for i, row in enumerate(rows):
        out[i] = [row[name] for name in TERM_NAMES]
    return out


def predict(arch: Architecture, system: GpuSystem, dep: Deployment, c: Coefficients) -> Prediction:
    """TTFT and TPOT of one deployment (:class:`Unsupported` when it cannot be costed)."""
    ttft, tpot = combine(table([terms(arch, system, dep)]), c)
    return Prediction(ttft_ms=float(ttft[0]), tpot_ms=float(tpot[0]))


def roofline(arch: Architecture, system: GpuSystem, dep: Deployment) -> Prediction:
    """The plain roofline: TPOT = (weights + KV cache per GPU) / HBM bandwidth; TTFT =
    max(prefill FLOPs / tensor FLOPS, weights / HBM bandwidth), per GPU of the worker."""
    _check(arch, system, dep)
    w = dep.decode
    weights = arch.weight_bytes(dep.dense_quant.bytes_per_param, dep.moe_quant.bytes_per_param) / w.gpus
    ctx = dep.isl + dep.osl / 2
    kv = w.batch * ctx * arch.kv_bytes_per_token(dep.dense_quant.kv_bytes, int(ctx)) / w.gpus
    tpot = (weights + kv) / system.hbm_bw
    p = dep.prefill or w
    p_weights = arch.weight_bytes(dep.dense_quant.bytes_per_param, dep.moe_quant.bytes_per_param) / p.gpus
    flops = 2.0 * arch.active_params * dep.isl / p.gpus
    ttft = max(flops / system.tensor_flops(dep.dense_quant.compute), p_weights / system.hbm_bw)
    return Prediction(ttft_ms=ttft * 1e3, tpot_ms=tpot * 1e3)


def _check(arch: Architecture, system: GpuSystem, dep: Deployment) -> None:
    for mode in (dep.dense_quant, dep.moe_quant):
        if system.tensor_flops(mode.compute) <= 0:
            raise Unsupported(f"{system.name} has no {mode.compute.upper()} tensor cores (quant mode {mode.name})")
    for worker in (dep.decode, dep.prefill):
        if worker is None:
            continue
        if worker.pp > arch.layers:
            raise Unsupported(f"pp_size {worker.pp} exceeds the model's {arch.layers} layers")


def _decode_terms(arch: Architecture, system: GpuSystem, dep: Deployment, w: Worker) -> dict[str, float]:
    """One decode step of ``w.batch`` sequences at the mean context ``isl + osl/2``."""
    ctx = dep.isl + dep.osl / 2.0
    per_rank = w.batch / (w.attention_dp * w.pp)  # sequences per attention rank per micro-batch
    tokens = w.batch / w.pp  # tokens one MoE layer sees per micro-batch (all DP ranks)
    dense_b = dep.dense_quant.bytes_per_param
    dense_params = arch.attn_params + arch.dense_ffn_params + arch.shared_expert_params + arch.lm_head_params
    touched = _experts_touched(arch, tokens)
    expert_bytes = touched * arch.expert_params * arch.moe_layers * dep.moe_quant.bytes_per_param
    kv_bytes = per_rank * ctx * _kv_read_per_token(arch, dep, ctx) / _kv_split(arch, w.tp)
    state_bytes = per_rank * arch.state_elems_per_seq * STATE_BYTES * 2 / w.tp
    mem = dense_params * dense_b / w.tp + expert_bytes / (w.moe_tp * w.moe_ep) + kv_bytes + state_bytes
    gemm = 2 * per_rank * dense_params / w.tp / system.tensor_flops(dep.dense_quant.compute)
    routed = arch.expert_params * arch.experts_per_token * arch.moe_layers
    gemm_moe = 2 * tokens * routed / (w.moe_tp * w.moe_ep) / system.tensor_flops(dep.moe_quant.compute)
    attn_ctx = min(ctx, arch.sparse_attention_topk) if arch.sparse_attention_topk else ctx
    attn = per_rank * attn_ctx * arch.attn_flops_per_ctx_token / w.tp / system.bf16_flops
    ar, ar_n, a2a, a2a_n = _collectives(arch, system, w, per_rank, tokens)
    return {
        "d_ar_inter_n": ar_n if w.tp > system.nvlink_domain_gpus else 0.0,
        "d_a2a_inter_n": a2a_n if w.moe_tp * w.moe_ep > system.nvlink_domain_gpus else 0.0,
        "d_mem_s": mem * w.pp / system.hbm_bw,
        "d_gemm_s": gemm * w.pp,
        "d_gemm_moe_s": gemm_moe * w.pp,
        "d_attn_s": attn * w.pp,
        "d_ar_s": ar,
        "d_ar_n": ar_n,
        "d_a2a_s": a2a,
        "d_a2a_n": a2a_n,
    }


def _prefill_terms(
    arch: Architecture, system: GpuSystem, dep: Deployment, w: Worker, *, tokens: int, requests: float
) -> dict[str, float]:
    """Prefill of ``requests`` requests of ``tokens`` tokens each on worker ``w``."""
    n = tokens * requests
    ranks = min(w.attention_dp, max(requests, 1.0))  # DP ranks that have a request to run
    per_rank = n / ranks
    dense_b = dep.dense_quant.bytes_per_param
    dense_params = arch.attn_params + arch.dense_ffn_params + arch.shared_expert_params + arch.lm_head_params
    weights = dense_params * dense_b / w.tp + arch.routed_params * dep.moe_quant.bytes_per_param / (w.moe_tp * w.moe_ep)
    gemm = 2 * per_rank * dense_params / w.tp / system.tensor_flops(dep.dense_quant.compute)
    routed = arch.expert_params * arch.experts_per_token * arch.moe_layers
    gemm_moe = 2 * n * routed / (w.moe_tp * w.moe_ep) / system.tensor_flops(dep.moe_quant.compute)
    causal_ctx = tokens / 2.0
    if arch.sparse_attention_topk:
        causal_ctx = min(causal_ctx, arch.sparse_attention_topk)
    attn = per_rank * causal_ctx * _prefill_attn_flops(arch) / w.tp / system.bf16_flops
    ar, ar_n, a2a, a2a_n = _collectives(arch, system, w, per_rank, n)
    return {
        "p_ar_inter_n": ar_n if w.tp > system.nvlink_domain_gpus else 0.0,
        "p_mem_s": weights / system.hbm_bw,
        "p_gemm_s": gemm,
        "p_gemm_moe_s": gemm_moe,
        "p_attn_s": attn,
        "p_ar_s": ar,
        "p_a2a_s": a2a,
        "p_ar_n": ar_n,
        "p_a2a_n": a2a_n,
    }


def _collectives(
    arch: Architecture, system: GpuSystem, w: Worker, per_rank: float, tokens: float
) -> tuple[float, float, float, float]:
    """(all-reduce seconds at full link rate, all-reduce count, all-to-all seconds, count)
    for one pass through all layers."""
    ar = ar_n = a2a = a2a_n = 0.0
    if w.tp > 1:
        ring = 2.0 * (w.tp - 1) / w.tp
        ar_n = 2.0 * arch.layers
        ar = ar_n * ring * per_rank * arch.hidden * ACT_BYTES / system.link_bw(w.tp)
    group = w.moe_ep * w.moe_tp
    if arch.is_moe and w.moe_ep > 1:
        share = (w.moe_ep - 1) / w.moe_ep
        per_gpu = tokens / group * arch.experts_per_token * arch.hidden * (DISPATCH_BYTES + ACT_BYTES)
        a2a_n = 2.0 * arch.moe_layers
        a2a = arch.moe_layers * share * per_gpu / system.link_bw(group)
    return ar, ar_n, a2a, a2a_n


def _experts_touched(arch: Architecture, tokens: float) -> float:
    """Expected routed experts a layer reads for ``tokens`` tokens (uniform routing)."""
    if not arch.is_moe:
        return 0.0
    e, k = arch.n_experts, arch.experts_per_token
    return float(e * (1.0 - (1.0 - k / e) ** tokens))


def _kv_read_per_token(arch: Architecture, dep: Deployment, ctx: float) -> float:
    per_token = arch.kv_bytes_per_token(dep.dense_quant.kv_bytes, int(ctx))
    if arch.sparse_attention_topk and ctx > arch.sparse_attention_topk:
        # DSA reads every token's indexer key but only top-k latents
        latent = per_token - arch.indexer_elems_per_token
        return arch.indexer_elems_per_token + latent * arch.sparse_attention_topk / ctx
    return per_token


def _kv_split(arch: Architecture, tp: int) -> float:
    """Over how many TP ranks the KV cache is split: MLA's latent is read whole by every
    rank; GQA splits KV heads (replicated once TP exceeds them)."""
    if arch.kv_replicated_across_tp:
        return 1.0
    return float(min(tp, max(arch.kv_heads, 1)))


def _prefill_attn_flops(arch: Architecture) -> float:
    """Attention FLOPs per query token per context token in prefill."""
    return float(arch.prefill_attn_flops_per_ctx_token or arch.attn_flops_per_ctx_token)
