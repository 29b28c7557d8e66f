"""The serving plan as a use case: capacity from a lease, a site or counts, then the plan.

Who may plan from what (``services.visibility``): the operator from any lease; a tenant
from its own leases only (another tenant's lease is "not found", in the words used for
one that does not exist). A site's GPUs and typed counts are the public inventory,
open to every key. The plan itself holds no costs or other tenants' terms.

Model architectures, GPU system constants and the latency predictor come through the
:class:`ServingModels` port (bootstrap wires the files of ``serving-silicon``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from neocloud.domain.catalog import GpuCatalog, builtin_catalog
from neocloud.domain.clock import Clock, to_s
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.ledger import HolderKind
from neocloud.domain.presets import PRESET_PARAMS, preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.serving.capacity import Capacity, capacity_of_nodes, parse_gpu_counts
from neocloud.economics.serving.fleet_plan import BUDGET_MULTIPLIER, HEADROOM, ServingPlan, plan_serving
from neocloud.economics.serving.limits import PlanSpec, TierSpec
from neocloud.economics.serving.plan import ModelFootprint, Predictor, SystemLimits, Target
from neocloud.economics.serving.report import MeasuredPoint
from neocloud.services.leasing import LeasingService
from neocloud.services.visibility import OPERATOR, Viewer

#: Defaults of a target. Lengths: 2,048 in / 1,024 out, the SGLang DeepSeek runs' 2k-token
#: inputs [R73] (2025-05) over the measured 1,024-token outputs. TPOT 50 ms is 20 tok/s
#: per user, what DeepSeek's production users get (20-22) [R74] (2025-03); TTFT 2 s is
#: MLPerf's DeepSeek-R1 server limit [R71] (2025-09).
DEFAULT_ISL = 2048
DEFAULT_OSL = 1024
DEFAULT_TPOT_MS = 50.0
DEFAULT_TTFT_MS = 2000.0

#: Tiers and plans when none are given: an illustration for the worked example, an
#: assumption of this planner, not figures from economics.md (no provider publishes its
#: organisations per tier, oversubscription or concurrent users). The two tiers are
#: Anthropic's 2026 Start and Scale, compared with their published ceilings [R76].
DEFAULT_TIERS = (
    TierSpec("start", orgs=200_000, share=0.10, oversubscription=4.0, ceiling="start"),
    TierSpec("scale", orgs=20_000, share=0.30, oversubscription=2.0, ceiling="scale"),
)
DEFAULT_PLANS = (PlanSpec("pro", users=5_000_000, share=0.20), PlanSpec("max", users=1_000_000, share=0.40))


class ServingModels(Protocol):
    """Where models, systems and the latency model come from."""

    def footprint(self, model: str, precision: str, context: int) -> ModelFootprint:
        """The model (Hugging Face name, or a ``config.json`` path where allowed) at
        ``precision``, its KV cache per token at ``context`` tokens; :class:`RequestError`
        naming ``model`` when it is unknown or unreadable."""
        ...

    def known_models(self) -> list[str]:
        """Hugging Face names of the model configs at hand (for pickers)."""
        ...

    def systems(self) -> Mapping[str, SystemLimits]:
        """The GPU systems whose constants are known, by name (``h100_sxm``, ...)."""
        ...

    def predictor(self, model: str) -> Predictor:
        """The latency model for ``model`` (as :meth:`footprint` resolved it)."""
        ...

    def version(self) -> str:
        """The latency model's version (its coefficients file's), for a plan's provenance."""
        ...

    def measured(self, model: str) -> Sequence[MeasuredPoint]:
        """The model's measured runs with the latency model's predictions for them;
        empty when no measurements are at hand (or the model is unknown)."""
        ...


@dataclass(frozen=True, slots=True)
class CapacityAsk:
    """Exactly one of: a lease id, a site name, counts (``H100=8,GB200=72``) or a fleet
    preset's name (``colossus-1``: the GPUs a whole-site lease of it holds)."""

    lease: str | None = None
    site: str | None = None
    gpus: str | None = None
    preset: str | None = None


@dataclass(frozen=True, slots=True)
class ServingAsk:
    """A plan request: capacity, target and how to sell it."""

    capacity: CapacityAsk
    target: Target
    headroom: float = HEADROOM
    tiers: Sequence[TierSpec] = field(default_factory=tuple)
    plans: Sequence[PlanSpec] = field(default_factory=tuple)
    multiplier: float = BUDGET_MULTIPLIER


class ServingService:
    """Plans what leased (or counted) GPUs serve; writes nothing."""

    def __init__(self, leasing: LeasingService | None, models: ServingModels, clock: Clock) -> None:
        """``leasing`` is the ledger for lease and site capacity; ``None`` plans from
        counts and presets only (the CLI without a database)."""
        self.leasing = leasing
        self.models = models
        self.clock = clock

    def plan(
        self, ask: ServingAsk, *, viewer: Viewer = OPERATOR, progress: Callable[[str], None] | None = None
    ) -> ServingPlan:
        """The plan for ``ask`` as ``viewer`` may see its capacity (module docstring)."""
        capacity = self.capacity(ask.capacity, viewer=viewer)
        t = ask.target
        footprint = self.models.footprint(t.model, t.precision, t.isl + t.osl)
        return plan_serving(
            capacity,
            ask.target,
            footprint,
            self.models.systems(),
            self.models.predictor(ask.target.model),
            catalog=self._catalog(),
            headroom=ask.headroom,
            tiers=ask.tiers,
            plans=ask.plans,
            multiplier=ask.multiplier,
            progress=progress,
            latency_model=self.models.version(),
        )

    def capacity(self, ask: CapacityAsk, *, viewer: Viewer = OPERATOR) -> Capacity:
        """GPUs by model of a lease (its own nodes at now, within its term; spares
        excluded), of a site, as counted, or of a preset's whole fleet."""
        asked = (("lease", ask.lease), ("site", ask.site), ("gpus", ask.gpus), ("preset", ask.preset))
        given = [name for name, v in asked if v]
        if len(given) != 1:
            got = ", ".join(given) or "none"
            raise RequestError([f"capacity: give exactly one of lease, site, gpus or preset (got {got})"])
        if ask.gpus:
            return parse_gpu_counts(ask.gpus, self._catalog())
        if ask.preset:
            return _of_preset(ask.preset)
        if ask.lease:
            return self._of_lease(ask.lease, viewer)
        assert ask.site is not None
        return self._of_site(ask.site)

    def _catalog(self) -> GpuCatalog:
        return self.leasing.fleet().catalog if self.leasing is not None else builtin_catalog()

    def _ledger(self, what: str) -> LeasingService:
        if self.leasing is None:
            raise RequestError([f"{what}: needs the ledger's database (plan from gpus or a preset without one)"])
        return self.leasing

    def _of_lease(self, lease_id: str, viewer: Viewer) -> Capacity:
        leasing = self._ledger("lease")
        bookings = [b for b in leasing.lease_bookings(lease_id, viewer=viewer) if b.kind is HolderKind.LEASE]
        if not bookings:
            return Capacity({}, f"lease {lease_id}")
        start, end = min(b.start_s for b in bookings), max(b.end_s for b in bookings)
        at = max(start, min(to_s(self.clock.now()), end - 1))
        held = {b.node for b in bookings if b.start_s <= at < b.end_s}
        nodes = (n for n in leasing.fleet().nodes if n.id in held)
        return capacity_of_nodes(nodes, f"lease {lease_id}")

    def _of_site(self, site: str) -> Capacity:
        fleet = self._ledger("site").fleet()
        if site not in {s.name for s in fleet.sites}:
            raise NotFound("no site {site!r}", site=site)
        return capacity_of_nodes((n for n in fleet.nodes if n.site == site), f"site {site}")


def _of_preset(name: str) -> Capacity:
    if name not in PRESET_PARAMS:
        raise RequestError([f"preset: unknown preset {name!r} (known: {', '.join(PRESET_PARAMS)})"])
    built = _preset_capacity(name)
    return Capacity(dict(built.gpus), built.source)  # a copy: the cached one stays as built


@functools.cache
def _preset_capacity(name: str) -> Capacity:
    """A preset's GPUs by model, built once per process: a preset at its defaults never
    changes, and building colossus-2 (550k GPUs) took a second of CPU per request any
    key could send."""
    return capacity_of_nodes(build_fleet(preset(name), file=f"preset {name}").nodes, f"preset {name}")
