"""Disaggregated prefill/decode splits, and the better of split and aggregated.

A :class:`Split` runs prefill on ``P`` replicas of one layout and decode on ``D``
replicas of another, every decode slot in use (``N = D x batch x attention_dp``
requests in flight). Per GPU of both pools, as for an aggregated replica:

    out_tok_s_per_gpu = N x osl / (TTFT + (osl - 1) x TPOT) / (P x g_prefill + D x g_decode)

where the latency model's TTFT counts the wait for a prefill worker (it grows with the
requests per prefill worker, ``N / P``) and the KV transfer, and its TPOT is the decode
worker's alone. The pools' ratio is the third dimension, so the search is staged to stay
small: (1) every decode candidate without pipeline stages that fits memory, with the
smallest prefill layout, to keep those meeting the TPOT limit; (2) the :data:`DECODE_SHORTLIST` with the most decode
tokens/s per GPU, crossed with the :data:`PREFILL_SHORTLIST` smallest prefill layouts
that fit (one request at a time: the measured rows' ``prefill_batch_size``) and the
worker ratios of :data:`RATIOS`, all in one call to the latency model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from neocloud.economics.serving.plan import (
    Choice,
    Latency,
    ModelFootprint,
    NoChoice,
    Predictor,
    Split,
    SystemLimits,
    Target,
    Unsupported,
    best_configuration,
    candidate_grid,
    memory_per_gpu,
    throughput_per_gpu,
)

#: (prefill workers, decode workers) per unit of a split.
RATIOS = ((1, 4), (1, 2), (1, 1), (2, 1), (3, 1), (4, 1), (6, 1), (8, 1))
DECODE_SHORTLIST = 5
PREFILL_SHORTLIST = 6
GIB = 2**30


def best_deployment(
    target: Target, model: ModelFootprint, system: SystemLimits, predict: Predictor
) -> Choice | NoChoice:
    """The better of the best aggregated configuration and the best split (more output
    tokens/s per GPU; aggregated on a tie), or the aggregated search's refusal when
    neither serves."""
    agg = best_configuration(target, model, system, predict)
    split = best_split(target, model, system, predict)
    if isinstance(split, Choice) and (not isinstance(agg, Choice) or split.out_tok_s_per_gpu > agg.out_tok_s_per_gpu):
        return split
    return agg


def best_split(target: Target, model: ModelFootprint, system: SystemLimits, predict: Predictor) -> Choice | NoChoice:
    """The split with the most output tokens/s per GPU that fits memory and meets both
    limits (module docstring), or :class:`NoChoice` saying which stage found nothing."""
    if target.precision not in system.precisions:
        return NoChoice(system.name, f"{system.name} has no {target.precision} tensor cores")
    grid = candidate_grid(model)
    if target.one_nvlink_domain:
        grid = grid.within(system.nvlink_domain_gpus)
    reserved = system.reserved_bytes + np.array([system.nccl_for(int(g)) for g in grid.tp * grid.dp])
    weights, kv = memory_per_gpu(grid, model, target.isl + target.osl)
    p_weights, p_kv = memory_per_gpu(grid, model, target.isl)
    decodes = np.flatnonzero((grid.pp == 1) & (weights + kv + reserved <= system.hbm_bytes))
    prefills = np.flatnonzero((grid.batch == 1) & (p_weights + p_kv + reserved <= system.hbm_bytes))
    if decodes.size == 0 or prefills.size == 0:
        return NoChoice(system.name, f"no split fits {system.name}'s memory", len(grid.tp))
    prefill_set = [grid.candidate(int(i)) for i in prefills[:PREFILL_SHORTLIST]]
    screen = [Split(prefill_set[0], grid.candidate(int(i)), 1, 1) for i in decodes]
    tpot = _latencies(predict(system.name, screen, target.workload))[1]
    keep = np.flatnonzero(tpot <= target.tpot_ms)
    if keep.size == 0:
        return NoChoice(system.name, f"no split's decode meets TPOT <= {target.tpot_ms:g} ms", len(screen))
    rate = np.array([screen[i].decode.concurrency / screen[i].decode.gpus for i in keep]) / tpot[keep]
    top = [screen[int(keep[k])].decode for k in np.argsort(-rate, kind="stable")[:DECODE_SHORTLIST]]
    units = [Split(p, d, n_p, n_d) for d in top for p in prefill_set for n_p, n_d in RATIOS]
    ttft, tpot = _latencies(predict(system.name, units, target.workload))
    ok = (ttft <= target.ttft_ms) & (tpot <= target.tpot_ms)
    tried = len(screen) + len(units)
    if not ok.any():
        return NoChoice(system.name, f"no split meets TTFT <= {target.ttft_ms:g} ms with its decode", tried)
    rates = throughput_per_gpu([u.concurrency for u in units], [u.gpus for u in units], ttft, tpot, target.osl)
    rates = np.where(ok, rates, -np.inf)
    best = int(np.argmax(rates))
    unit = units[best]
    at = {grid.candidate(int(i)): int(i) for i in decodes}[unit.decode]
    return Choice(
        system=system.name,
        candidate=unit,
        ttft_ms=float(ttft[best]),
        tpot_ms=float(tpot[best]),
        out_tok_s_per_gpu=float(rates[best]),
        in_tok_s_per_gpu=float(rates[best]) * target.isl / target.osl,
        weights_gib_per_gpu=float(weights[at]) / GIB,
        kv_gib_per_gpu=float(kv[at]) / GIB,
        tried=tried,
        fit_memory=int(decodes.size),
        met_limits=int(ok.sum()),
    )


def _latencies(found: Sequence[Latency | Unsupported]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """TTFT and TPOT arrays (infinite where the latency model declined)."""
    ttft = np.array([x.ttft_ms if isinstance(x, Latency) else np.inf for x in found], dtype=np.float64)
    tpot = np.array([x.tpot_ms if isinstance(x, Latency) else np.inf for x in found], dtype=np.float64)
    return ttft, tpot
