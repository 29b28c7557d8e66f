"""The serving plan: capacity x target -> tokens/s per GPU -> fleet OTPM/ITPM -> limits.

``plan_serving`` runs the search (``plan.best_configuration``) once per GPU model of the
capacity, then economics.md §4.4:

    OTPM_fleet = sum over models of  N_gpu x out_tok_s_per_gpu x 60 x u
    ITPM_fleet = sum over models of  N_gpu x in_tok_s_per_gpu  x 60 x u

with ``u`` the utilization headroom, then per-tier rate limits and per-plan five-hour
budgets (``limits``), and the inverse: the GPUs that multiply a plan's budget by ``k``
at the same users, ``(k - 1) x share x`` the binding side's tokens per minute, divided by
what one GPU of a model gives at ``u`` (rounded up to a whole GPU).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from neocloud.domain.catalog import GpuCatalog
from neocloud.domain.errors import RequestError
from neocloud.economics.serving.capacity import SYSTEM_OF_MODEL, Capacity, system_for
from neocloud.economics.serving.limits import (
    FleetRate,
    PlanBudget,
    PlanSpec,
    TierLimits,
    TierSpec,
    plan_budget,
    split_problems,
    tier_limits,
)
from neocloud.economics.serving.plan import (
    Choice,
    ModelFootprint,
    NoChoice,
    Predictor,
    SystemLimits,
    Target,
)
from neocloud.economics.serving.split import best_deployment

#: Utilization headroom u: cluster_utilization_target 0.80, economics.md §6 [R93] (2025),
#: inference average/peak 0.82 [R74] (2025-03); the §4.4 recipe uses 0.6-0.8.
HEADROOM = 0.80
#: Five-hour budgets doubled: Anthropic, 2026-05-06 (economics.md §2.3, §4.4) [R48].
BUDGET_MULTIPLIER = 2.0


@dataclass(frozen=True, slots=True)
class ModelLine:
    """One GPU model of the capacity: its GPUs, its system and the configuration chosen
    (or why none), and what its GPUs serve together (tokens/s, before the headroom)."""

    gpu_model: str
    gpus: int
    choice: Choice | NoChoice

    @property
    def out_tok_s(self) -> float:
        return self.gpus * self.choice.out_tok_s_per_gpu if isinstance(self.choice, Choice) else 0.0

    @property
    def in_tok_s(self) -> float:
        return self.gpus * self.choice.in_tok_s_per_gpu if isinstance(self.choice, Choice) else 0.0


@dataclass(frozen=True, slots=True)
class Scaling:
    """GPUs to add so that ``plan``'s five-hour budget is ``factor`` times as large at the
    same users: of each served model alone, or as the same mix as now."""

    plan: str
    factor: float
    extra_otpm: float
    extra_gpus_alone: Mapping[str, int]
    extra_gpus_same_mix: int


@dataclass(frozen=True, slots=True)
class ServingPlan:
    target: Target
    capacity: Capacity
    headroom: float
    lines: tuple[ModelLine, ...]
    rate: FleetRate
    tiers: tuple[TierLimits, ...]
    plans: tuple[PlanBudget, ...]
    scaling: tuple[Scaling, ...]
    latency_model: str = ""

    @property
    def served_gpus(self) -> int:
        return sum(line.gpus for line in self.lines if isinstance(line.choice, Choice))


def plan_serving(
    capacity: Capacity,
    target: Target,
    footprint: ModelFootprint,
    systems: Mapping[str, SystemLimits],
    predict: Predictor,
    *,
    catalog: GpuCatalog,
    headroom: float = HEADROOM,
    tiers: Sequence[TierSpec] = (),
    plans: Sequence[PlanSpec] = (),
    multiplier: float = BUDGET_MULTIPLIER,
    progress: Callable[[str], None] | None = None,
    latency_model: str = "",
) -> ServingPlan:
    """The whole plan (module docstring); bad inputs raise one :class:`RequestError`
    naming every field. ``systems`` are the system files that exist, by name;
    ``progress`` is told each GPU model before its search; ``latency_model`` names the
    predictor's version, carried into the plan for provenance."""
    _check(capacity, headroom, multiplier, tiers, plans)
    lines: list[ModelLine] = []
    for model, gpus in capacity.gpus.items():
        if progress is not None:
            progress(model)
        lines.append(ModelLine(model, gpus, _choose(model, target, footprint, systems, predict, catalog=catalog)))
    per_min = 60.0 * headroom
    rate = FleetRate(
        otpm=sum(line.out_tok_s for line in lines) * per_min,
        itpm=sum(line.in_tok_s for line in lines) * per_min,
        isl=target.isl,
        osl=target.osl,
    )
    budgets = tuple(plan_budget(rate, p) for p in plans)
    return ServingPlan(
        target=target,
        capacity=capacity,
        headroom=headroom,
        lines=tuple(lines),
        rate=rate,
        tiers=tuple(tier_limits(rate, t) for t in tiers),
        plans=budgets,
        scaling=tuple(scale_plan(rate, lines, b, multiplier, headroom) for b in budgets),
        latency_model=latency_model,
    )


def scale_plan(
    rate: FleetRate, lines: Sequence[ModelLine], budget: PlanBudget, factor: float, headroom: float
) -> Scaling:
    """GPUs that make ``budget`` ``factor`` times as large at the same users (module docstring)."""
    grow = (factor - 1.0) * budget.spec.share
    served = [line for line in lines if isinstance(line.choice, Choice)]
    alone: dict[str, int] = {}
    for line in served:
        assert isinstance(line.choice, Choice)
        if budget.binding == "output":
            need, per_gpu = rate.otpm * grow, line.choice.out_tok_s_per_gpu * 60 * headroom
        else:
            need, per_gpu = rate.itpm * grow, line.choice.in_tok_s_per_gpu * 60 * headroom
        alone[line.gpu_model] = math.ceil(need / per_gpu - 1e-9)
    same_mix = math.ceil(sum(line.gpus for line in served) * grow - 1e-9)
    return Scaling(budget.spec.name, factor, rate.otpm * grow, alone, same_mix)


def _choose(
    model: str,
    target: Target,
    footprint: ModelFootprint,
    systems: Mapping[str, SystemLimits],
    predict: Predictor,
    *,
    catalog: GpuCatalog,
) -> Choice | NoChoice:
    system = system_for(model, catalog)
    if system is None:
        known = ", ".join(SYSTEM_OF_MODEL)
        return NoChoice("-", f"GPU model {model} has no serving system (the planner knows {known})")
    if system not in systems:
        return NoChoice(system, f"no system file for {system} (GPU model {model}): its constants are unknown")
    return best_deployment(target, footprint, systems[system], predict)


def _check(
    capacity: Capacity, headroom: float, multiplier: float, tiers: Sequence[TierSpec], plans: Sequence[PlanSpec]
) -> None:
    problems = split_problems(tiers, plans)
    if not capacity.gpus:
        problems.append(f"capacity: {capacity.source} has no GPUs")
    if not (math.isfinite(headroom) and 0 < headroom <= 1):
        problems.append(f"headroom: must be more than 0 and at most 1, got {headroom}")
    if not (math.isfinite(multiplier) and 1 <= multiplier <= 100):
        problems.append(f"multiplier: must be 1..100, got {multiplier}")
    if problems:
        raise RequestError(problems)
