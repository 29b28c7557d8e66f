"""The fleet file's schema (Pydantic), and its mapping to the domain spec.

The schema checks structure and types (missing fields, unknown fields, a string
where a number belongs); the domain checks meaning (unknown GPU models,
duplicates, power budgets). Models are strict: YAML's ``count: "64"`` is an error,
not a silent coercion.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from neocloud.domain.errors import FieldError
from neocloud.domain.health import Health
from neocloud.domain.spec import (
    BlockSpec,
    FleetSpec,
    GpuModelSpec,
    NodeGroupSpec,
    NodeOverride,
    NodeSpec,
    NodeTable,
    PodSpec,
    RackSpec,
    SiteSpec,
)

HealthName = Literal["healthy", "degraded", "failed", "maintenance", "retired"]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class GpuModelIn(_In):
    name: Name
    gpus_per_node: Count
    memory_gb: Positive | None = None
    tdp_w: Positive | None = None
    node_power_kw: Positive | None = None
    nvlink_domain_gpus: Count | None = None


class NodeIn(_In):
    id: Name
    gpu_model: Name
    serial: Name | None = None
    gpu_count: Count | None = None
    rack: Name | None = None
    health: HealthName = "healthy"
    gpu_serials: list[Name] = []


class NodeGroupIn(_In):
    count: Count
    gpu_model: Name
    id_pattern: Name
    serial_pattern: Name | None = None
    rack_pattern: Name | None = None
    nodes_per_rack: Count | None = None
    rack_power_kw: Positive | None = None
    gpu_count: Count | None = None
    start: Annotated[int, Field(ge=0)] = 1
    rack_start: Annotated[int, Field(ge=0)] = 1
    gpu_serial_pattern: Name | None = None


class RackIn(_In):
    name: Name
    power_kw: Positive | None = None


class BlockIn(_In):
    name: Name
    racks: list[RackIn] = []
    node_groups: list[NodeGroupIn] = []
    nodes: list[NodeIn] = []


class PodIn(_In):
    name: Name
    blocks: list[BlockIn] = []


class SiteIn(_In):
    name: Name
    region: str
    power_mw: Positive | None
    pue: Annotated[float, Field(ge=1.0, le=3.0)]
    electricity_usd_per_kwh: NonNegative | None
    facility_power_mw: Positive | None = None
    rack_power_kw: Positive | None = None
    pods: list[PodIn] = []


class NodeTableIn(_In):
    path: Name


class OverrideIn(_In):
    id: Name
    health: HealthName | None = None
    serial: Name | None = None
    gpu_serials: list[Name] | None = None


class FleetIn(_In):
    version: Literal[1]
    name: str | None = None
    gpu_models: list[GpuModelIn] = []
    sites: Annotated[list[SiteIn], Field(min_length=1)]
    node_tables: list[NodeTableIn] = []
    overrides: list[OverrideIn] = []


def parse_document(data: Any, file: str) -> tuple[FleetIn | None, list[FieldError]]:
    """Validate a loaded YAML document; the model, or every structural error."""
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        return None, [FieldError(file, "", f"expected a mapping at the top level, got {kind}")]
    try:
        return FleetIn.model_validate(data), []
    except ValidationError as exc:
        return None, [FieldError(file, _loc(e["loc"]), _message(e)) for e in exc.errors()]


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("int", "float", "str", "none", "literal['healthy','degraded','failed','maintenance','retired']"):
            continue  # union branch labels
        else:
            out += f".{part}" if out else str(part)
    return out


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field"
    got = error.get("input")
    shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    return f"{error['msg']} (got {shown})"


def to_spec(doc: FleetIn) -> FleetSpec:
    """The domain spec for a validated document (node tables not yet read)."""
    return FleetSpec(
        version=doc.version,
        name=doc.name,
        gpu_models=tuple(GpuModelSpec(**m.model_dump()) for m in doc.gpu_models),
        sites=tuple(_site(s) for s in doc.sites),
        node_tables=tuple(NodeTable(t.path) for t in doc.node_tables),
        overrides=tuple(
            NodeOverride(
                o.id,
                None if o.health is None else Health(o.health),
                o.serial,
                None if o.gpu_serials is None else tuple(o.gpu_serials),
            )
            for o in doc.overrides
        ),
    )


def _site(s: SiteIn) -> SiteSpec:
    return SiteSpec(
        name=s.name,
        region=s.region,
        power_mw=s.power_mw,
        pue=s.pue,
        electricity_usd_per_kwh=s.electricity_usd_per_kwh,
        facility_power_mw=s.facility_power_mw,
        rack_power_kw=s.rack_power_kw,
        pods=tuple(PodSpec(p.name, tuple(_block(b) for b in p.blocks)) for p in s.pods),
    )


def _block(b: BlockIn) -> BlockSpec:
    return BlockSpec(
        name=b.name,
        racks=tuple(RackSpec(r.name, r.power_kw) for r in b.racks),
        node_groups=tuple(NodeGroupSpec(**g.model_dump()) for g in b.node_groups),
        nodes=tuple(
            NodeSpec(n.id, n.gpu_model, n.serial, n.gpu_count, n.rack, Health(n.health), tuple(n.gpu_serials))
            for n in b.nodes
        ),
    )
