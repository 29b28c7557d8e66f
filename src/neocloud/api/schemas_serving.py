"""Schemas of ``POST /v1/serving/plan``: the request, and the plan (the same shape as
``neocloud plan serving --json``, built by ``economics.serving.report.plan_dict``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictBool

from neocloud.api.schemas import NAME_MAX, Name, Schema
from neocloud.economics.serving.fleet_plan import BUDGET_MULTIPLIER, HEADROOM
from neocloud.economics.serving.limits import MAX_SPLIT, PlanSpec, TierSpec, published_name
from neocloud.economics.serving.plan import ENGINES, PRECISIONS, Target
from neocloud.services.serving import (
    DEFAULT_ISL,
    DEFAULT_OSL,
    DEFAULT_PLANS,
    DEFAULT_TIERS,
    DEFAULT_TPOT_MS,
    DEFAULT_TTFT_MS,
    CapacityAsk,
    ServingAsk,
)

MAX_TIERS = 16
Tokens = Annotated[int, Field(strict=True, ge=1, le=1_000_000)]
Count = Annotated[int, Field(strict=True, ge=1, le=MAX_SPLIT)]
Share = Annotated[float, Field(gt=0, le=1)]


class TierIn(Schema):
    name: Name
    orgs: Count
    share: Share = Field(description="Share of the fleet's tokens per minute sold in this tier.")
    oversubscription: float = Field(1.0, ge=1, le=100, description="Sold this many times over.")

    def to_domain(self) -> TierSpec:
        return TierSpec(self.name, self.orgs, self.share, self.oversubscription, published_name(self.name))


class PlanIn(Schema):
    name: Name
    users: Count = Field(description="Concurrently active users of the plan.")
    share: Share = Field(description="Share of the fleet's tokens per minute reserved for the plan.")

    def to_domain(self) -> PlanSpec:
        return PlanSpec(self.name, self.users, self.share)


class ServingPlanIn(Schema):
    """Capacity: exactly one of ``lease`` (a tenant: its own), ``site``, ``gpus``
    (``"H100=150000,GB200=30000"``) or ``preset``. Limits are p50."""

    lease: Name | None = None
    site: Name | None = None
    gpus: str | None = Field(None, max_length=NAME_MAX, examples=["H100=150000,H200=50000,GB200=30000"])
    preset: Name | None = Field(None, examples=["colossus-1"])
    model: Name = Field(examples=["deepseek-ai/DeepSeek-R1"])
    isl: Tokens = DEFAULT_ISL
    osl: Tokens = DEFAULT_OSL
    tpot_ms: float = Field(DEFAULT_TPOT_MS, gt=0, le=600_000)
    ttft_ms: float = Field(DEFAULT_TTFT_MS, gt=0, le=600_000)
    precision: str = Field("fp8", description=f"One of {', '.join(PRECISIONS)}.")
    engine: str = Field("trtllm", description=f"One of {', '.join(ENGINES)}.")
    one_nvlink_domain: StrictBool = Field(False, description="Each replica within one NVLink domain (node or rack).")
    headroom: float = Field(HEADROOM, gt=0, le=1, description="Utilization headroom u (default 0.80 [R93][R74]).")
    tiers: list[TierIn] | None = Field(
        None, max_length=MAX_TIERS, description="API tiers. Without tiers and plans both: the illustrative ones."
    )
    plans: list[PlanIn] | None = Field(None, max_length=MAX_TIERS, description="Consumer plans (see tiers).")
    multiplier: float = Field(BUDGET_MULTIPLIER, ge=1, le=100, description="Budgets x this, at the same users.")

    def to_domain(self) -> ServingAsk:
        """The service's request (the target's own checks name any bad field). Without
        ``tiers`` and ``plans`` both, the illustrative ones; with either, only what is given."""
        target = Target(
            self.model,
            self.isl,
            self.osl,
            self.tpot_ms,
            self.ttft_ms,
            precision=self.precision,
            engine=self.engine,
            one_nvlink_domain=self.one_nvlink_domain,
        )
        defaults = self.tiers is None and self.plans is None
        return ServingAsk(
            capacity=CapacityAsk(lease=self.lease, site=self.site, gpus=self.gpus, preset=self.preset),
            target=target,
            headroom=self.headroom,
            tiers=DEFAULT_TIERS if defaults else tuple(t.to_domain() for t in self.tiers or ()),
            plans=DEFAULT_PLANS if defaults else tuple(p.to_domain() for p in self.plans or ()),
            multiplier=self.multiplier,
        )


class ServingPlanOut(Schema):
    """The plan: per GPU model the configuration chosen (or why none) and tokens/s per
    GPU; fleet OTPM/ITPM at the headroom; per-tier limits; five-hour budgets; the GPUs
    that multiply each plan's budget. See docs/economics.md "Serving plan"."""

    capacity: dict[str, Any]
    target: dict[str, Any]
    headroom: float
    latency_model: str = Field(description="Version of the latency model's coefficients the plan used.")
    models: list[dict[str, Any]]
    fleet: dict[str, Any]
    tiers: list[dict[str, Any]]
    plans: list[dict[str, Any]]
    scaling: list[dict[str, Any]]
