"""Fakes for the serving planner: a latency predictor with a shape like the real one's
(TPOT grows with the batch, falls with TP; TTFT grows with the tokens prefilled per
GPU), and small model footprints and systems with round numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from neocloud.domain.errors import RequestError
from neocloud.economics.serving.plan import (
    Candidate,
    Latency,
    ModelFootprint,
    Split,
    SystemLimits,
    Unsupported,
    Workload,
)
from neocloud.economics.serving.report import MeasuredPoint

GB = 1e9


@dataclass
class FakePredictor:
    """``tpot = base / speed + step x batch / tp``; ``ttft = 50 + isl x concurrency / gpus / 20``
    (ms); a system named in ``speed`` runs that many times faster; ``refuse`` systems
    answer :class:`Unsupported`. Records every call."""

    speed: dict[str, float] = field(default_factory=dict)
    base_ms: float = 20.0
    step_ms: float = 0.5
    refuse: set[str] = field(default_factory=set)
    calls: list[tuple[str, int]] = field(default_factory=list)

    def __call__(
        self, system: str, candidates: Sequence[Candidate | Split], workload: Workload
    ) -> Sequence[Latency | Unsupported]:
        self.calls.append((system, len(candidates)))
        if system in self.refuse:
            return [Unsupported(f"{system} is not calibrated") for _ in candidates]
        s = self.speed.get(system, 1.0)
        return [self._split(c, workload, s) if isinstance(c, Split) else self._agg(c, workload, s) for c in candidates]

    def _agg(self, c: Candidate, workload: Workload, s: float) -> Latency:
        return Latency(
            ttft_ms=(50 + workload.isl * c.concurrency / c.gpus / 20) / s,
            tpot_ms=(self.base_ms + self.step_ms * c.batch / c.tp) / s,
        )

    def _split(self, c: Split, workload: Workload, s: float) -> Latency:
        """Decode without prefill interference (0.8 of the agg step); TTFT grows with the
        requests per prefill worker."""
        service = 50 + workload.isl / c.prefill.gpus / 20
        queued = c.concurrency / c.prefill_workers
        return Latency(
            ttft_ms=service * (1 + queued / 64) / s,
            tpot_ms=0.8 * (self.base_ms + self.step_ms * c.decode.batch / c.decode.tp) / s,
        )


def a_footprint(**kw: float | int | str | None) -> ModelFootprint:
    """A 70 GB dense GQA model (8 KV heads, 0.3 MB of KV per token)."""
    base: dict[str, object] = {
        "name": "dense-70",
        "dense_weight_bytes": 70 * GB,
        "expert_weight_bytes": 0.0,
        "kv_bytes_per_token": 0.3e6,
        "kv_heads": 8,
    }
    base.update(kw)
    return ModelFootprint(**base)  # type: ignore[arg-type]


def a_system(name: str = "h100_sxm", **kw: object) -> SystemLimits:
    """80 GB of HBM with 4 GB reserved, no NCCL memory, 8 GPUs per NVLink domain, bf16/fp8."""
    base: dict[str, object] = {
        "name": name,
        "hbm_bytes": 80 * GB,
        "reserved_bytes": 4 * GB,
        "nccl_bytes": {1: 0.0},
        "nvlink_domain_gpus": 8,
        "precisions": frozenset({"bf16", "fp8"}),
    }
    base.update(kw)
    return SystemLimits(**base)  # type: ignore[arg-type]


@dataclass
class FakeModels:
    """The ``ServingModels`` port with one dense model (``dense-70``, see :func:`a_footprint`)
    and the H100/H200 systems (:func:`a_system`), predicted by :class:`FakePredictor`."""

    predictor_: FakePredictor = field(default_factory=lambda: FakePredictor(speed={"h200_sxm": 1.4}))

    def known_models(self) -> list[str]:
        return ["dense-70"]

    def footprint(self, model: str, precision: str, context: int) -> ModelFootprint:
        if model != "dense-70":
            raise RequestError([f"model: no config.json for {model!r} (known: dense-70)"])
        return a_footprint()

    def systems(self) -> Mapping[str, SystemLimits]:
        return {"h100_sxm": a_system(), "h200_sxm": a_system("h200_sxm", hbm_bytes=141 * GB)}

    def predictor(self, model: str) -> FakePredictor:
        return self.predictor_

    def version(self) -> str:
        return "fake"

    def measured(self, model: str) -> list[MeasuredPoint]:
        return []
