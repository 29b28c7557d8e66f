"""The serving plan's search: per GPU system, the best parallel configuration for a target.

A *candidate* is one aggregated deployment (prefill and decode on the same GPUs) of the
columns ``silicon_dev.csv`` uses: ``tp``, ``pp``, ``attention_dp``, ``moe_tp``,
``moe_ep`` and ``batch`` (requests in flight per attention-DP rank: in that file a row's
``silicon_concurrency`` is ``batch_size x attention_dp_size`` on 116 of 116 DP rows).
The search enumerates a small grid, drops what does not fit HBM (vectorised), asks a
:class:`Predictor` for TTFT and TPOT of the rest, keeps what meets both limits and
picks the most output tokens/s per GPU.

Derivation (agg), per replica of ``g = tp x pp x attention_dp`` GPUs with
``c = batch x attention_dp`` requests in flight: a request occupies its slot for
``TTFT + (osl - 1) x TPOT`` seconds (its prefill, then ``osl - 1`` decode steps), so the
replica finishes ``c / (TTFT + (osl - 1) TPOT)`` requests/s and

    out_tok_s_per_gpu = c x osl / (TTFT + (osl - 1) x TPOT) / g
    in_tok_s_per_gpu  = out_tok_s_per_gpu x isl / osl

The TTFT term is the prefill share: a plain ``c / TPOT / g`` (the README's approximation)
overstates throughput by ``TTFT / ((osl - 1) TPOT)``. Latencies are the predictor's
(p50-like: the measured rows are medians of a run, not p99).

Memory per GPU (bytes): the non-expert weights split over ``tp x pp`` (replicated across
attention-DP ranks), routed experts over ``moe_tp x moe_ep x pp``; the KV cache of
``batch`` requests of ``isl + osl`` tokens split over ``pp`` and, for GQA, over
``min(tp, kv_heads)`` (an MLA latent cache is replicated across TP ranks); plus the
system's reserved memory (``other_mem`` and ``nccl_mem`` of its file). It must fit HBM.

Disaggregated prefill/decode splits are searched in ``split.py``; the plan keeps the
better of the two per system (``split.best_deployment``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from neocloud.domain.errors import RequestError

#: Batch sizes per attention-DP rank tried: powers of two, as the measured sweeps use.
BATCHES = tuple(2**k for k in range(11))  # 1 .. 1024
#: Pipeline depths tried.
PIPELINES = (1, 2, 4)
#: GPUs per pipeline stage tried (tp x attention_dp): the measured rows run TP or DP+EP
#: stages up to 64 GPUs (across HGX nodes, or within an NVL72 rack); the latency model
#: prices the links a stage spans (NVLink within ``nvlink_domain_gpus``, the network past it).
STAGE_GPUS = (1, 2, 4, 8, 16, 32, 64)
PRECISIONS = ("bf16", "fp8", "fp4")
ENGINES = ("trtllm", "sglang", "vllm")
GIB = 2**30


@dataclass(frozen=True, slots=True)
class Candidate:
    """One aggregated deployment: parallelism and requests in flight per DP rank."""

    tp: int
    pp: int
    attention_dp: int
    moe_tp: int
    moe_ep: int
    batch: int

    @property
    def gpus(self) -> int:
        """GPUs of one replica: ``tp x pp x attention_dp``."""
        return self.tp * self.pp * self.attention_dp

    @property
    def concurrency(self) -> int:
        """Requests in flight per replica: ``batch x attention_dp``."""
        return self.batch * self.attention_dp

    def label(self) -> str:
        moe = f" moe_tp{self.moe_tp} ep{self.moe_ep}" if self.moe_tp * self.moe_ep > 1 else ""
        return f"tp{self.tp} pp{self.pp} dp{self.attention_dp}{moe} batch {self.batch}"


@dataclass(frozen=True, slots=True)
class Split:
    """A disaggregated deployment: ``prefill_workers`` prefill replicas (``prefill``, its
    ``batch`` the requests prefilled at once) and ``decode_workers`` decode replicas
    (``decode``, ``batch`` per attention-DP rank), every decode slot in use."""

    prefill: Candidate
    decode: Candidate
    prefill_workers: int
    decode_workers: int

    @property
    def gpus(self) -> int:
        """GPUs of one unit of the split: both pools."""
        return self.prefill_workers * self.prefill.gpus + self.decode_workers * self.decode.gpus

    @property
    def concurrency(self) -> int:
        """Requests in flight: every decode slot of every decode replica."""
        return self.decode_workers * self.decode.concurrency

    def label(self) -> str:
        return (
            f"prefill {self.prefill_workers} x ({self.prefill.label()}), "
            f"decode {self.decode_workers} x ({self.decode.label()})"
        )


@dataclass(frozen=True, slots=True)
class Workload:
    """What each request is (input and output lengths in tokens), the weights' precision
    and the serving engine (``trtllm``, ``sglang``, ``vllm``) the latency model assumes."""

    isl: int
    osl: int
    precision: str
    engine: str = "trtllm"


@dataclass(frozen=True, slots=True)
class Latency:
    """A prediction: time to first token and time per output token after it, in ms."""

    ttft_ms: float
    tpot_ms: float


@dataclass(frozen=True, slots=True)
class Unsupported:
    """The predictor declined a candidate, and why."""

    reason: str


class Predictor(Protocol):
    """TTFT and TPOT of each candidate of one model on the system named ``system``
    (``h100_sxm``, ``gb200``, ...), in the order given, or :class:`Unsupported`."""

    def __call__(
        self, system: str, candidates: Sequence[Candidate | Split], workload: Workload
    ) -> Sequence[Latency | Unsupported]: ...


@dataclass(frozen=True, slots=True)
class ModelFootprint:
    """What a model needs in memory at one precision (bytes).

    ``dense_weight_bytes``: everything but the routed experts (embeddings, attention,
    dense MLPs, shared experts); ``expert_weight_bytes``: the routed experts (0 for a
    dense model); ``kv_bytes_per_token``: the KV cache of one token over all layers;
    ``kv_heads``: KV heads for GQA/MHA, ``None`` for an MLA latent cache."""

    name: str
    dense_weight_bytes: float
    expert_weight_bytes: float
    kv_bytes_per_token: float
    kv_heads: int | None

    @property
    def moe(self) -> bool:
        return self.expert_weight_bytes > 0


@dataclass(frozen=True, slots=True)
class SystemLimits:
    """What a GPU system offers a deployment: HBM per GPU, memory the engine and NCCL
    keep (``reserved_bytes``; ``nccl_bytes`` by GPUs in the group), the GPUs one
    NVLink domain joins and the precisions its tensor cores run."""

    name: str
    hbm_bytes: float
    reserved_bytes: float
    nccl_bytes: Mapping[int, float]
    nvlink_domain_gpus: int
    precisions: frozenset[str]

    def nccl_for(self, group: int) -> float:
        """NCCL memory for a group of ``group`` GPUs: the largest listed size not above it."""
        sizes = [k for k in self.nccl_bytes if k <= group]
        return self.nccl_bytes[max(sizes)] if sizes else 0.0


@dataclass(frozen=True, slots=True)
class Target:
    """What to serve and how fast: a model (Hugging Face name or config path), lengths
    in tokens, p50 limits on TTFT and TPOT in ms, the weights' precision and the engine;
    ``one_nvlink_domain`` keeps each replica within one NVLink domain (8 GPUs of an HGX
    node, 72 of an NVL72 rack): no traffic over the network between nodes.
    The default engine is TensorRT-LLM, NVIDIA's own, the engine of most measured rows
    (an assumption of this planner, not a figure from economics.md)."""

    model: str
    isl: int
    osl: int
    tpot_ms: float
    ttft_ms: float
    precision: str = "fp8"
    engine: str = "trtllm"
    one_nvlink_domain: bool = False

    def __post_init__(self) -> None:
        problems = target_problems(self)
        if problems:
            raise RequestError(problems)

    @property
    def workload(self) -> Workload:
        return Workload(self.isl, self.osl, self.precision, self.engine)


def target_problems(t: Target) -> list[str]:
    """Every bad field of a target, named (empty when it is valid)."""
    out: list[str] = []
    if not t.model.strip():
        out.append("model: must name a model")
    for name, value, top in (("isl", t.isl, 1_000_000), ("osl", t.osl, 1_000_000)):
        if not 1 <= value <= top:
            out.append(f"{name}: must be 1..{top:,} tokens, got {value}")
    for name, ms in (("tpot_ms", t.tpot_ms), ("ttft_ms", t.ttft_ms)):
        if not (np.isfinite(ms) and 0 < ms <= 600_000):
            out.append(f"{name}: must be more than 0 and at most 600,000 ms, got {ms}")
    if t.precision not in PRECISIONS:
        out.append(f"precision: must be one of {', '.join(PRECISIONS)}, got {t.precision!r}")
    if t.engine not in ENGINES:
        out.append(f"engine: must be one of {', '.join(ENGINES)}, got {t.engine!r}")
    return out


@dataclass(frozen=True, slots=True)
class Choice:
    """The best configuration found on one system, and what it yields per GPU."""

    system: str
    candidate: Candidate | Split
    ttft_ms: float
    tpot_ms: float
    out_tok_s_per_gpu: float
    in_tok_s_per_gpu: float
    weights_gib_per_gpu: float
    kv_gib_per_gpu: float
    tried: int
    fit_memory: int
    met_limits: int


@dataclass(frozen=True, slots=True)
class NoChoice:
    """No configuration on this system serves the target; ``reason`` says what failed."""

    system: str
    reason: str
    tried: int = 0
    fit_memory: int = 0


@dataclass(frozen=True, slots=True)
class Grid:
    """Candidates as parallel integer arrays (one entry per candidate)."""

    tp: npt.NDArray[np.int64]
    pp: npt.NDArray[np.int64]
    dp: npt.NDArray[np.int64]
    moe_tp: npt.NDArray[np.int64]
    ep: npt.NDArray[np.int64]
    batch: npt.NDArray[np.int64]

    def within(self, gpus: int) -> Grid:
        """The candidates whose replica has at most ``gpus`` GPUs."""
        keep = self.tp * self.pp * self.dp <= gpus
        return Grid(self.tp[keep], self.pp[keep], self.dp[keep], self.moe_tp[keep], self.ep[keep], self.batch[keep])

    def candidate(self, i: int) -> Candidate:
        return Candidate(
            int(self.tp[i]), int(self.pp[i]), int(self.dp[i]), int(self.moe_tp[i]), int(self.ep[i]), int(self.batch[i])
        )


def best_configuration(
    target: Target, model: ModelFootprint, system: SystemLimits, predict: Predictor
) -> Choice | NoChoice:
    """The candidate with the most output tokens/s per GPU that fits ``system``'s memory
    and whose predicted TTFT and TPOT are within ``target``'s limits (ties: fewer GPUs
    per replica, then the smaller batch); :class:`NoChoice` with the reason otherwise."""
    if target.precision not in system.precisions:
        have = ", ".join(sorted(system.precisions))
        return NoChoice(system.name, f"{system.name} has no {target.precision} tensor cores (it has {have})")
    grid = candidate_grid(model)
    if target.one_nvlink_domain:
        grid = grid.within(system.nvlink_domain_gpus)
    weights, kv = memory_per_gpu(grid, model, target.isl + target.osl)
    reserved = system.reserved_bytes + np.array([system.nccl_for(int(g)) for g in grid.tp * grid.dp])
    fits = np.flatnonzero(weights + kv + reserved <= system.hbm_bytes)
    tried = len(grid.tp)
    if fits.size == 0:
        return NoChoice(system.name, _no_fit_reason(model, system, grid, weights), tried)
    latencies = predict(system.name, [grid.candidate(int(i)) for i in fits], target.workload)
    return _pick(target, system, grid, fits, latencies, memory=(weights, kv), tried=tried)


def candidate_grid(model: ModelFootprint) -> Grid:
    """Every (tp, pp, dp, moe_tp, ep) layout to try, crossed with :data:`BATCHES`.

    Dense models: TP within a stage, no attention DP. MoE models: per stage of ``g``
    GPUs, experts by TP (``tp = moe_tp = g``), by EP under TP attention (``tp = moe_ep =
    g``), or by EP under DP attention (``dp = moe_ep = g``)."""
    layouts: set[tuple[int, int, int, int, int]] = set()
    for g in STAGE_GPUS:
        for pp in PIPELINES:
            if model.moe:
                layouts.update({(g, pp, 1, g, 1), (g, pp, 1, 1, g), (1, pp, g, 1, g)})
            else:
                layouts.add((g, pp, 1, 1, 1))
    ordered = sorted(layouts, key=lambda t: (t[0] * t[1] * t[2], t))
    rows = np.array([(*lay, b) for lay in ordered for b in BATCHES], dtype=np.int64)
    return Grid(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5])


def memory_per_gpu(
    grid: Grid, model: ModelFootprint, tokens_per_request: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Weights and KV cache per GPU (bytes) of each candidate (see the module docstring)."""
    weights = model.dense_weight_bytes / (grid.tp * grid.pp) + model.expert_weight_bytes / (
        grid.moe_tp * grid.ep * grid.pp
    )
    shard = np.ones_like(grid.tp) if model.kv_heads is None else np.minimum(grid.tp, model.kv_heads)
    kv = grid.batch * tokens_per_request * model.kv_bytes_per_token / (grid.pp * shard)
    return weights.astype(np.float64), kv.astype(np.float64)


def throughput_per_gpu(
    concurrency: npt.ArrayLike, gpus: npt.ArrayLike, ttft_ms: npt.ArrayLike, tpot_ms: npt.ArrayLike, osl: int
) -> npt.NDArray[np.float64]:
    """Output tokens/s per GPU of an aggregated replica (the module docstring's formula)."""
    request_s = (np.asarray(ttft_ms, np.float64) + (osl - 1) * np.asarray(tpot_ms, np.float64)) / 1000.0
    return np.asarray(concurrency, np.float64) * osl / request_s / np.asarray(gpus, np.float64)


def _pick(
    target: Target,
    system: SystemLimits,
    grid: Grid,
    fits: npt.NDArray[np.intp],
    latencies: Sequence[Latency | Unsupported],
    *,
    memory: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]],
    tried: int,
) -> Choice | NoChoice:
    weights, kv = memory
    if len(latencies) != fits.size:
        raise ValueError(f"the predictor answered {len(latencies)} of {fits.size} candidates")
    known = np.array([isinstance(x, Latency) for x in latencies], dtype=np.bool_)
    if not known.any():
        first = next(x for x in latencies if isinstance(x, Unsupported))
        return NoChoice(system.name, f"the latency model predicts no candidate: {first.reason}", tried, fits.size)
    ttft = np.array([x.ttft_ms if isinstance(x, Latency) else np.inf for x in latencies])
    tpot = np.array([x.tpot_ms if isinstance(x, Latency) else np.inf for x in latencies])
    ok = known & (ttft <= target.ttft_ms) & (tpot <= target.tpot_ms)
    if not ok.any():
        return NoChoice(system.name, _no_limit_reason(target, ttft, tpot), tried, fits.size)
    idx = fits[ok]
    gpus = grid.tp[idx] * grid.pp[idx] * grid.dp[idx]
    rate = throughput_per_gpu(grid.batch[idx] * grid.dp[idx], gpus, ttft[ok], tpot[ok], target.osl)
    best = int(np.lexsort((grid.batch[idx], gpus, -rate))[0])
    i = int(idx[best])
    return Choice(
        system=system.name,
        candidate=grid.candidate(i),
        ttft_ms=float(ttft[ok][best]),
        tpot_ms=float(tpot[ok][best]),
        out_tok_s_per_gpu=float(rate[best]),
        in_tok_s_per_gpu=float(rate[best]) * target.isl / target.osl,
        weights_gib_per_gpu=float(weights[i]) / GIB,
        kv_gib_per_gpu=float(kv[i]) / GIB,
        tried=tried,
        fit_memory=int(fits.size),
        met_limits=int(ok.sum()),
    )


def _no_fit_reason(model: ModelFootprint, system: SystemLimits, grid: Grid, weights: npt.NDArray[np.float64]) -> str:
    total = (model.dense_weight_bytes + model.expert_weight_bytes) / GIB
    least = float(weights.min()) / GIB
    room = (system.hbm_bytes - system.reserved_bytes) / GIB
    most = int((grid.tp * grid.pp * grid.dp).max())
    if most < max(STAGE_GPUS) * max(PIPELINES):
        return (
            f"{model.name} does not fit {system.name} within one NVLink domain: {total:,.0f} GiB of weights "
            f"is at least {least:,.1f} GiB per GPU on {most} GPUs, with KV cache, in {room:,.1f} GiB free per GPU"
        )
    return (
        f"{model.name} does not fit {system.name}: {total:,.0f} GiB of weights is at least "
        f"{least:,.1f} GiB per GPU on the largest layout tried ({most} GPUs), "
        f"with KV cache, in {room:,.1f} GiB free per GPU"
    )


def _no_limit_reason(target: Target, ttft: npt.NDArray[np.float64], tpot: npt.NDArray[np.float64]) -> str:
    if (tpot > target.tpot_ms).all():
        return f"no configuration meets TPOT <= {target.tpot_ms:g} ms: the fastest predicted is {tpot.min():.1f} ms"
    if (ttft > target.ttft_ms).all():
        return f"no configuration meets TTFT <= {target.ttft_ms:g} ms: the fastest predicted is {ttft.min():.0f} ms"
    return (
        f"no configuration meets both TTFT <= {target.ttft_ms:g} ms and TPOT <= {target.tpot_ms:g} ms "
        f"(each is met alone by some configuration)"
    )
