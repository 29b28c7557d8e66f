"""A serving plan as plain data: the one JSON shape of ``plan serving --json`` and of
``POST /v1/serving/plan`` (docs/cli.md, docs/api.md)."""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median
from typing import Any

from neocloud.economics.serving.fleet_plan import ModelLine, ServingPlan
from neocloud.economics.serving.limits import INPUT_OUTPUT_RATIO, KV_CACHE_HIT_RATE, PlanBudget, TierLimits
from neocloud.economics.serving.plan import Candidate, Choice, Split


def plan_dict(plan: ServingPlan) -> dict[str, Any]:
    t = plan.target
    return {
        "capacity": {"source": plan.capacity.source, "gpus": dict(plan.capacity.gpus), "total": plan.capacity.total},
        "target": {
            "model": t.model,
            "isl": t.isl,
            "osl": t.osl,
            "tpot_ms": t.tpot_ms,
            "ttft_ms": t.ttft_ms,
            "precision": t.precision,
            "engine": t.engine,
            "one_nvlink_domain": t.one_nvlink_domain,
            "percentile": "p50",
        },
        "headroom": plan.headroom,
        "latency_model": plan.latency_model,
        "models": [_line(line) for line in plan.lines],
        "fleet": {
            "served_gpus": plan.served_gpus,
            "otpm": plan.rate.otpm,
            "itpm": plan.rate.itpm,
            "input_output_ratio": INPUT_OUTPUT_RATIO,
            "kv_cache_hit_rate": KV_CACHE_HIT_RATE,
        },
        "tiers": [_tier(x) for x in plan.tiers],
        "plans": [_plan(x) for x in plan.plans],
        "scaling": [
            {
                "plan": s.plan,
                "factor": s.factor,
                "extra_otpm": s.extra_otpm,
                "extra_gpus_alone": dict(s.extra_gpus_alone),
                "extra_gpus_same_mix": s.extra_gpus_same_mix,
            }
            for s in plan.scaling
        ],
    }


def _line(line: ModelLine) -> dict[str, Any]:
    c = line.choice
    base: dict[str, Any] = {"gpu_model": line.gpu_model, "gpus": line.gpus, "system": c.system}
    if not isinstance(c, Choice):
        return {**base, "served": False, "reason": c.reason, "tried": c.tried, "fit_memory": c.fit_memory}
    return {
        **base,
        "served": True,
        "configuration": configuration(c.candidate),
        "ttft_ms": c.ttft_ms,
        "tpot_ms": c.tpot_ms,
        "out_tok_s_per_gpu": c.out_tok_s_per_gpu,
        "in_tok_s_per_gpu": c.in_tok_s_per_gpu,
        "weights_gib_per_gpu": c.weights_gib_per_gpu,
        "kv_gib_per_gpu": c.kv_gib_per_gpu,
        "out_tok_s": line.out_tok_s,
        "in_tok_s": line.in_tok_s,
        "tried": c.tried,
        "fit_memory": c.fit_memory,
        "met_limits": c.met_limits,
    }


def configuration(k: Candidate | Split) -> dict[str, Any]:
    """A deployment as data: ``mode`` agg (its layout and batch per DP rank) or disagg
    (``prefill`` and ``decode`` layouts with their ``workers``); both with the GPUs and
    requests in flight of one replica (of a split: one unit of both pools)."""
    common = {"gpus_per_replica": k.gpus, "concurrency_per_replica": k.concurrency, "label": k.label()}
    if isinstance(k, Split):
        return {
            "mode": "disagg",
            "prefill": {**_layout(k.prefill), "workers": k.prefill_workers},
            "decode": {**_layout(k.decode), "workers": k.decode_workers},
            **common,
        }
    return {"mode": "agg", **_layout(k), **common}


def _layout(k: Candidate) -> dict[str, int]:
    return {
        "tp": k.tp,
        "pp": k.pp,
        "attention_dp": k.attention_dp,
        "moe_tp": k.moe_tp,
        "moe_ep": k.moe_ep,
        "batch": k.batch,
    }


def _tier(x: TierLimits) -> dict[str, Any]:
    return {
        "name": x.spec.name,
        "orgs": x.spec.orgs,
        "share": x.spec.share,
        "oversubscription": x.spec.oversubscription,
        "per_org": {"rpm": x.per_org.rpm, "itpm": x.per_org.itpm, "otpm": x.per_org.otpm},
        "published": None
        if x.ceiling is None
        else {
            "name": x.ceiling.name,
            "rpm": x.ceiling.limit.rpm,
            "itpm": x.ceiling.limit.itpm,
            "otpm": x.ceiling.limit.otpm,
            "source": x.ceiling.source,
        },
        "orgs_at_published": x.orgs_at_ceiling,
        "zero_note": x.zero_note,
    }


def _plan(x: PlanBudget) -> dict[str, Any]:
    return {
        "name": x.spec.name,
        "users": x.spec.users,
        "share": x.spec.share,
        "out_tokens_5h": x.out_tokens_5h,
        "in_tokens_5h": x.in_tokens_5h,
        "binding": x.binding,
        "messages_5h": x.messages_5h,
        "zero_note": x.zero_note,
    }


@dataclass(frozen=True, slots=True)
class MeasuredPoint:
    """One measured serving run of the model (the dev CSV) beside the latency model's
    prediction for it, in ms."""

    system: str
    engine: str
    mode: str
    measured_ttft_ms: float
    measured_tpot_ms: float
    predicted_ttft_ms: float
    predicted_tpot_ms: float


def measured_chart(points: list[MeasuredPoint]) -> dict[str, Any]:
    """Predicted against measured TPOT, log-log, one dataset per system, with the median
    absolute error of TPOT and TTFT (as fractions of the measured value)."""
    systems = sorted({p.system for p in points})
    values = [v for p in points for v in (p.measured_tpot_ms, p.predicted_tpot_ms)]
    return {
        "type": "scatter",
        "xlabel": "measured TPOT, ms",
        "ylabel": "predicted TPOT, ms",
        "diagonal": [min(values, default=1.0), max(values, default=1.0)],
        "datasets": [
            {
                "label": system,
                "data": [
                    {"x": round(p.measured_tpot_ms, 2), "y": round(p.predicted_tpot_ms, 2)}
                    for p in points
                    if p.system == system
                ],
            }
            for system in systems
        ],
        "rows": len(points),
        "tpot_mape": _median_error([(p.measured_tpot_ms, p.predicted_tpot_ms) for p in points]),
        "ttft_mape": _median_error([(p.measured_ttft_ms, p.predicted_ttft_ms) for p in points]),
    }


def _median_error(pairs: list[tuple[float, float]]) -> float | None:
    errors = [abs(pred - meas) / meas for meas, pred in pairs if meas > 0]
    return median(errors) if errors else None
