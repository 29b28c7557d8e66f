"""Presets that generate realistic fleets, and the parametric generator behind them.

Where the numbers come from (tags resolve in ../shared/reference/economics.md, section 7):

* ``colossus-1``: ~150k H100 + ~50k H200 in 8-GPU HGX nodes and ~30k GB200 in NVL72
  racks [R45][R48]; 8-GPU nodes, 64 GPUs per rack and 8-rack arrays of 512 GPUs [R44],
  so an HGX fabric block here is one 512-GPU array. GB200 blocks are 8 NVL72 racks
  (576 GPUs), the scalable unit of NVIDIA's GB200 SuperPOD reference design. IT
  budget 310 MW: economics.md section 2.5 derives ~310 MW of IT for this mix, which
  matches "300+ MW" [R48]. PUE 1.25 and Tennessee power at 6.43 c/kWh [R21] are the
  section 6 defaults.
* ``colossus-2``: a gigawatt-class GB200 site, sized to the planned 550,000 GPUs and
  a 1.1 GW target [R45]; phase 1 was 110,000 GB200 [R46] (``--set gb200_gpus=110000``).
* ``demo``: two small sites for a laptop, one of GB200 NVL72 racks and one of 8-GPU
  H100/H200 nodes, with a few failed, degraded and in-maintenance nodes.
* ``generic``: fill a power budget (MW) with a GPU mix (shares of IT power) in
  blocks of a chosen size.

Rack budgets are the node maximum rounded up to a round figure: 8 x 10.2 kW HGX
nodes [R12] -> 85 kW racks (Colossus racks run "above 60 kW" [R44]); NVL72 racks
120 kW [R14]. Spine groups (pods) hold 32 HGX blocks (16,384 GPUs) or 16 NVL blocks.
Every generated node has a serial (``SN-{block}-{i}``) and GPU serials
(``GPU-{block}-{i}-{g}``, ``g`` the GPU index from 0), so the custody trail of a demo
fleet can start from a GPU.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields, replace
from typing import Any

from neocloud.domain.catalog import GpuModel, builtin_catalog
from neocloud.domain.errors import DomainError
from neocloud.domain.health import Health
from neocloud.domain.spec import (
    BlockSpec,
    FleetSpec,
    NodeGroupSpec,
    NodeOverride,
    PodSpec,
    SiteSpec,
)


class PresetError(DomainError):
    """An unknown preset or a bad ``--set key=value``."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One GPU model's share of a site, carved into racks, blocks and pods."""

    gpu_model: str
    gpus: int
    nodes_per_rack: int
    racks_per_block: int
    blocks_per_pod: int
    rack_power_kw: float


@dataclass(frozen=True, slots=True)
class SitePlan:
    """Everything needed to generate one site."""

    name: str
    prefix: str
    region: str
    power_mw: float
    pue: float
    electricity_usd_per_kwh: float
    segments: tuple[Segment, ...]
    facility_power_mw: float | None = None


@dataclass(frozen=True, slots=True)
class HealthMix:
    """Seeded share of nodes generated in each non-healthy state."""

    failed_fraction: float = 0.0
    degraded_fraction: float = 0.0
    maintenance_fraction: float = 0.0
    seed: int = 0


def hgx(model: str, gpus: int, racks_per_block: int = 8, blocks_per_pod: int = 32) -> Segment:
    """8-GPU nodes, 8 per rack (64 GPUs per rack, as at Colossus [R44]); the rack
    budget is 8 nodes at maximum power rounded up to 5 kW (85 kW for H100/H200)."""
    found = builtin_catalog().get(model)
    node_kw = found.node_power_kw if found is not None and found.node_power_kw else 10.2
    return Segment(model, gpus, 8, racks_per_block, blocks_per_pod, 5.0 * math.ceil(8 * node_kw / 5.0))


def nvl72(model: str, gpus: int, racks_per_block: int = 8, blocks_per_pod: int = 16) -> Segment:
    """NVL72 racks: 18 trays of 4 GPUs, one NVLink domain per rack."""
    return Segment(model, gpus, 18, racks_per_block, blocks_per_pod, 120.0)


#: The most GPUs a generated fleet may have: twice the million-GPU fleet the design
#: aims at (a bigger one would take minutes and many GB to build, on any machine).
MAX_GENERATED_GPUS = 2_000_000


def generate(plans: list[SitePlan], mix: HealthMix = HealthMix(), name: str | None = None) -> FleetSpec:
    """A fleet spec with one site per plan, and seeded health exceptions."""
    total = sum(seg.gpus for plan in plans for seg in plan.segments)
    if total > MAX_GENERATED_GPUS:
        shown = f"{total:,}" if total < 10**12 else f"{total:.2e}"
        raise PresetError(
            f"these settings make {shown} GPUs; a generated fleet has at most {MAX_GENERATED_GPUS:,} "
            "(lower the GPU counts or power_mw)"
        )
    sites = tuple(_site(plan) for plan in plans)
    return FleetSpec(name=name, sites=sites, overrides=_health_overrides(sites, mix))


def _site(plan: SitePlan) -> SiteSpec:
    catalog = builtin_catalog()
    pods: list[PodSpec] = []
    block_no = 0
    for seg in plan.segments:
        model = catalog.get(seg.gpu_model)
        if model is None:
            raise PresetError(f"unknown GPU model {seg.gpu_model!r}; known: {', '.join(catalog.names())}")
        blocks: list[BlockSpec] = []
        for count in _block_sizes(seg, model):
            block_no += 1
            blocks.append(_block(f"{plan.prefix}-b{block_no:04d}", seg, model, count))
        for chunk in range(0, len(blocks), seg.blocks_per_pod):
            pods.append(
                PodSpec(f"{plan.prefix}-pod{len(pods) + 1:02d}", tuple(blocks[chunk : chunk + seg.blocks_per_pod]))
            )
    return SiteSpec(
        name=plan.name,
        region=plan.region,
        power_mw=plan.power_mw,
        pue=plan.pue,
        electricity_usd_per_kwh=plan.electricity_usd_per_kwh,
        facility_power_mw=plan.facility_power_mw,
        pods=tuple(pods),
    )


def _block_sizes(seg: Segment, model: GpuModel) -> list[int]:
    """Node counts per block: whole NVLink domains, last block partial."""
    domain_nodes = model.nodes_per_nvlink_domain
    domains = math.ceil(seg.gpus / model.nvlink_domain_gpus) if seg.gpus > 0 else 0
    nodes = domains * domain_nodes
    per_block = seg.nodes_per_rack * seg.racks_per_block
    sizes = [per_block] * (nodes // per_block)
    if nodes % per_block:
        sizes.append(nodes % per_block)
    return sizes


def _block(name: str, seg: Segment, model: GpuModel, count: int) -> BlockSpec:
    group = NodeGroupSpec(
        count=count,
        gpu_model=model.name,
        id_pattern="{block}-n{i:03d}",
        serial_pattern="SN-{block}-{i:03d}",
        gpu_serial_pattern="GPU-{block}-{i:03d}-{g}",
        rack_pattern="{block}-r{r:02d}",
        nodes_per_rack=seg.nodes_per_rack,
        rack_power_kw=seg.rack_power_kw,
    )
    return BlockSpec(name=name, node_groups=(group,))


def _health_overrides(sites: tuple[SiteSpec, ...], mix: HealthMix) -> tuple[NodeOverride, ...]:
    shares = [
        (Health.FAILED, mix.failed_fraction),
        (Health.DEGRADED, mix.degraded_fraction),
        (Health.MAINTENANCE, mix.maintenance_fraction),
    ]
    if not any(share for _, share in shares):
        return ()
    ids = [
        group.id_pattern.format(site=site.name, pod=pod.name, block=block.name, i=group.start + k, r=0)
        for site in sites
        for pod in site.pods
        for block in pod.blocks
        for group in block.node_groups
        for k in range(group.count)
    ]
    rng = random.Random(mix.seed)
    wanted = [(state, round(share * len(ids))) for state, share in shares]
    picked = rng.sample(range(len(ids)), min(len(ids), sum(n for _, n in wanted)))
    out: list[NodeOverride] = []
    for state, n in wanted:
        out += [NodeOverride(ids[k], health=state) for k in sorted(picked[:n])]
        picked = picked[n:]
    return tuple(out)


# -- presets and their parameters --------------------------------------------------


@dataclass(frozen=True, slots=True)
class ColossusOneParams:
    site_name: str = "colossus-1"
    prefix: str = "c1"
    region: str = "us-southeast (Memphis, TN)"
    power_mw: float = 310.0
    pue: float = 1.25
    electricity_usd_per_kwh: float = 0.0643
    h100_gpus: int = 150_000
    h200_gpus: int = 50_000
    gb200_gpus: int = 30_000
    failed_fraction: float = 0.0
    degraded_fraction: float = 0.0
    maintenance_fraction: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class ColossusTwoParams:
    site_name: str = "colossus-2"
    prefix: str = "c2"
    region: str = "us-southeast (Memphis, TN)"
    power_mw: float = 1100.0
    pue: float = 1.25
    electricity_usd_per_kwh: float = 0.0643
    gb200_gpus: int = 550_000
    failed_fraction: float = 0.0
    degraded_fraction: float = 0.0
    maintenance_fraction: float = 0.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class DemoParams:
    failed_fraction: float = 0.02
    degraded_fraction: float = 0.01
    maintenance_fraction: float = 0.01
    seed: int = 7


@dataclass(frozen=True, slots=True)
class GenericParams:
    site_name: str = "site-1"
    prefix: str = "s1"
    region: str = "unspecified"
    power_mw: float = 100.0
    fill: float = 0.95
    mix: str = "H100:1.0"
    block_gpus: int = 512
    blocks_per_pod: int = 32
    pue: float = 1.25
    electricity_usd_per_kwh: float = 0.065
    failed_fraction: float = 0.0
    degraded_fraction: float = 0.0
    maintenance_fraction: float = 0.0
    seed: int = 0


PRESET_PARAMS: dict[str, type] = {
    "colossus-1": ColossusOneParams,
    "colossus-2": ColossusTwoParams,
    "demo": DemoParams,
    "generic": GenericParams,
}

PRESET_HELP: dict[str, str] = {
    "colossus-1": "~300 MW: 150k H100 + 50k H200 (HGX) and 30k GB200 (NVL72), Memphis",
    "colossus-2": "gigawatt-class GB200 NVL72 site (550k GPUs planned)",
    "demo": "two small sites: GB200 NVL72 racks, and H100/H200 8-GPU nodes",
    "generic": "fill POWER_MW with a GPU MIX in blocks of BLOCK_GPUS",
}


def preset(name: str, settings: dict[str, str] | None = None) -> FleetSpec:
    """Generate preset ``name`` with ``settings`` (``--set key=value`` strings) applied."""
    plans, mix, fleet_name = _plans(name, settings or {})
    return generate(plans, mix, name=fleet_name)


def presets(names: list[str], settings: dict[str, str] | None = None) -> FleetSpec:
    """Several presets as one fleet, their sites side by side (``colossus-1`` and
    ``colossus-2``: an operator's two campuses); ``settings`` apply to each, the first
    preset's health mix to all. Two sites of one name are refused."""
    if not names:
        raise PresetError("presets: name at least one")
    parts = [_plans(n, settings or {}) for n in names]
    plans = [plan for p, _, _ in parts for plan in p]
    seen = [plan.name for plan in plans]
    twice = next((n for n in seen if seen.count(n) > 1), None)
    if twice is not None:
        raise PresetError(f"presets {'+'.join(names)}: two sites named {twice!r}")
    return generate(plans, parts[0][1], name="+".join(names))


def _plans(name: str, settings: dict[str, str]) -> tuple[list[SitePlan], HealthMix, str]:
    cls = PRESET_PARAMS.get(name)
    if cls is None:
        raise PresetError(f"unknown preset {name!r}; available: {', '.join(PRESET_PARAMS)}")
    params = apply_settings(cls(), settings)
    mix = HealthMix(params.failed_fraction, params.degraded_fraction, params.maintenance_fraction, params.seed)
    _check_mix(mix)
    if isinstance(params, ColossusOneParams):
        return [_colossus_one(params)], mix, params.site_name
    if isinstance(params, ColossusTwoParams):
        return [_colossus_two(params)], mix, params.site_name
    if isinstance(params, DemoParams):
        return _demo(), mix, "demo"
    assert isinstance(params, GenericParams)
    return [_generic(params)], mix, params.site_name


def apply_settings(params: Any, settings: dict[str, str]) -> Any:
    """``params`` with each ``key=value`` converted to the field's type; precise errors."""
    known = {f.name: f for f in fields(params)}
    changes: dict[str, Any] = {}
    for key, raw in settings.items():
        if key not in known:
            raise PresetError(f"--set {key}={raw}: unknown key {key!r}; valid keys: {', '.join(known)}")
        changes[key] = _convert(key, raw, type(getattr(params, key)))
    return replace(params, **changes)


def _convert(key: str, raw: str, kind: type) -> Any:
    try:
        value = kind(raw.replace("_", "")) if kind in (int, float) else kind(raw)
    except ValueError:
        noun = {int: "a whole number", float: "a number"}.get(kind, kind.__name__)
        raise PresetError(f"--set {key}={raw}: expected {noun}") from None
    if kind in (int, float) and value < 0:
        raise PresetError(f"--set {key}={raw}: must not be negative")
    if kind is float and not math.isfinite(value):
        raise PresetError(f"--set {key}={raw}: must be finite")
    return value


def _check_mix(mix: HealthMix) -> None:
    total = mix.failed_fraction + mix.degraded_fraction + mix.maintenance_fraction
    if total > 1.0:
        raise PresetError(f"failed + degraded + maintenance fractions add up to {total:g}, over 1")


def _colossus_one(p: ColossusOneParams) -> SitePlan:
    segments = (hgx("H100", p.h100_gpus), hgx("H200", p.h200_gpus), nvl72("GB200", p.gb200_gpus))
    return SitePlan(
        p.site_name,
        p.prefix,
        p.region,
        p.power_mw,
        p.pue,
        p.electricity_usd_per_kwh,
        tuple(s for s in segments if s.gpus > 0),
    )


def _colossus_two(p: ColossusTwoParams) -> SitePlan:
    return SitePlan(
        p.site_name,
        p.prefix,
        p.region,
        p.power_mw,
        p.pue,
        p.electricity_usd_per_kwh,
        (nvl72("GB200", p.gb200_gpus),) if p.gb200_gpus > 0 else (),
    )


def _demo() -> list[SitePlan]:
    east = SitePlan(
        "demo-east",
        "de",
        "us-east (demo)",
        1.2,
        1.2,
        0.07,
        (nvl72("GB200", 576, racks_per_block=4, blocks_per_pod=2),),
    )
    west = SitePlan(
        "demo-west",
        "dw",
        "us-west (demo)",
        1.5,
        1.3,
        0.08,
        (hgx("H100", 512, racks_per_block=4, blocks_per_pod=2), hgx("H200", 512, racks_per_block=4, blocks_per_pod=2)),
    )
    return [east, west]


def _generic(p: GenericParams) -> SitePlan:
    for key in ("block_gpus", "blocks_per_pod"):
        if getattr(p, key) < 1:
            raise PresetError(f"--set {key}={getattr(p, key)}: must be at least 1")
    catalog = builtin_catalog()
    shares = parse_mix(p.mix)
    segments: list[Segment] = []
    for model_name, share in shares.items():
        model = catalog.get(model_name)
        if model is None:
            raise PresetError(
                f"--set mix={p.mix}: unknown GPU model {model_name!r}; known: {', '.join(catalog.names())}"
            )
        assert model.node_power_kw is not None
        domain_kw = model.node_power_kw * model.nodes_per_nvlink_domain
        domains = math.floor(p.power_mw * 1000 * p.fill * share / domain_kw)
        make = nvl72 if model.rack_scale else hgx
        rack_gpus = model.nvlink_domain_gpus if model.rack_scale else 64
        racks_per_block = max(1, math.ceil(p.block_gpus / rack_gpus))
        segments.append(make(model.name, domains * model.nvlink_domain_gpus, racks_per_block, p.blocks_per_pod))
    return SitePlan(
        p.site_name,
        p.prefix,
        p.region,
        p.power_mw,
        p.pue,
        p.electricity_usd_per_kwh,
        tuple(s for s in segments if s.gpus > 0),
    )


def parse_mix(text: str) -> dict[str, float]:
    """``"H100:0.6,GB200:0.4"`` -> shares of IT power per model (must add up to at most 1)."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, share = part.strip().partition(":")
        try:
            value = float(share) if sep else 1.0
        except ValueError:
            raise PresetError(f"--set mix={text}: share {share!r} of {name!r} is not a number") from None
        if not name or value <= 0:
            raise PresetError(f"--set mix={text}: each entry is MODEL:SHARE with a positive share")
        out[name] = value
    if sum(out.values()) > 1.0 + 1e-9:
        raise PresetError(f"--set mix={text}: shares add up to {sum(out.values()):g}, over 1")
    return out
