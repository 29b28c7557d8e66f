"""The fleet spec: the compact form people write, and its expansion into a Fleet.

A spec holds what a person types (sites, pods, blocks, racks, node groups with a
count and id/serial patterns, a few explicit nodes, per-node overrides) and points
at node tables for large inventories (one row per node, as DCIM exports are).
:func:`build_fleet` expands it and checks every rule, collecting *all* problems
with the path where each one is; it returns a whole fleet or raises
:class:`SpecError`, never half a fleet.
"""

from __future__ import annotations

import posixpath
import string
from collections.abc import Iterator
from dataclasses import dataclass, field

from neocloud.domain.catalog import GpuCatalog, GpuModel, builtin_catalog
from neocloud.domain.errors import FieldError, SpecError
from neocloud.domain.fleet import Block, Fleet, Node, Pod, Rack, Site
from neocloud.domain.gpu_serials import gpu_serial_problems
from neocloud.domain.health import Health

PATTERN_FIELDS = frozenset({"site", "pod", "block", "i", "r"})
#: A GPU serial pattern may also use ``{g}``: the GPU's index on its node, from 0.
GPU_PATTERN_FIELDS = PATTERN_FIELDS | {"g"}
_POWER_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class GpuModelSpec:
    """A GPU model the fleet file adds to the built-in catalog."""

    name: str
    gpus_per_node: int
    memory_gb: float | None = None
    tdp_w: float | None = None
    node_power_kw: float | None = None
    nvlink_domain_gpus: int | None = None

    def to_model(self) -> GpuModel:
        return GpuModel(
            name=self.name,
            memory_gb=self.memory_gb,
            tdp_w=self.tdp_w,
            gpus_per_node=self.gpus_per_node,
            node_power_kw=self.node_power_kw,
            nvlink_domain_gpus=self.nvlink_domain_gpus or self.gpus_per_node,
        )


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """One node written out explicitly."""

    id: str
    gpu_model: str
    serial: str | None = None
    gpu_count: int | None = None
    rack: str | None = None
    health: Health = Health.HEALTHY
    gpu_serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeGroupSpec:
    """``count`` identical nodes. Patterns are format strings over ``{site}``,
    ``{pod}``, ``{block}``, ``{i}`` (node number, from ``start``) and ``{r}`` (rack
    number, from ``rack_start``; ``nodes_per_rack`` nodes per rack); ``gpu_serial_pattern``
    may also use ``{g}``, the GPU's index on the node (from 0)."""

    count: int
    gpu_model: str
    id_pattern: str
    serial_pattern: str | None = None
    rack_pattern: str | None = None
    nodes_per_rack: int | None = None
    rack_power_kw: float | None = None
    gpu_count: int | None = None
    start: int = 1
    rack_start: int = 1
    gpu_serial_pattern: str | None = None


@dataclass(frozen=True, slots=True)
class RackSpec:
    """A rack declared with its power budget."""

    name: str
    power_kw: float | None = None


@dataclass(frozen=True, slots=True)
class BlockSpec:
    name: str
    racks: tuple[RackSpec, ...] = ()
    node_groups: tuple[NodeGroupSpec, ...] = ()
    nodes: tuple[NodeSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class PodSpec:
    name: str
    blocks: tuple[BlockSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """A site; ``rack_power_kw`` is the budget of racks not declared explicitly."""

    name: str
    region: str
    power_mw: float | None
    pue: float
    electricity_usd_per_kwh: float | None
    facility_power_mw: float | None = None
    rack_power_kw: float | None = None
    pods: tuple[PodSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class TableRow:
    """One row of a node table; ``row`` is its 1-based line number in the file."""

    row: int
    id: str
    gpu_model: str
    site: str
    pod: str
    block: str
    serial: str | None = None
    gpu_count: int | None = None
    rack: str | None = None
    health: Health = Health.HEALTHY
    gpu_serials: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeTable:
    """A node table referenced by the spec; ``path`` is relative to the spec file."""

    path: str
    rows: tuple[TableRow, ...] = ()


@dataclass(frozen=True, slots=True)
class NodeOverride:
    """A per-node exception applied after expansion (health, serial, GPU serials)."""

    id: str
    health: Health | None = None
    serial: str | None = None
    gpu_serials: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FleetSpec:
    name: str | None = None
    gpu_models: tuple[GpuModelSpec, ...] = ()
    sites: tuple[SiteSpec, ...] = ()
    node_tables: tuple[NodeTable, ...] = ()
    overrides: tuple[NodeOverride, ...] = ()
    version: int = 1


def build_fleet(spec: FleetSpec, file: str = "<fleet>", table_dir: str = "") -> Fleet:
    """Expand and validate ``spec``; the whole fleet, or :class:`SpecError` with all problems.

    ``file`` names the spec in error messages; node-table errors name the table as
    ``table_dir`` joined with its path.
    """
    builder = _Builder(spec, file, table_dir)
    fleet = builder.build()
    if builder.errors:
        raise SpecError(builder.errors)
    return fleet


def pattern_problem(pattern: str, allowed_fields: frozenset[str] = PATTERN_FIELDS) -> str | None:
    """Why ``pattern`` is not a valid id/serial/rack pattern (or, with
    :data:`GPU_PATTERN_FIELDS`, GPU serial pattern), or ``None``."""
    try:
        parsed = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return f"invalid pattern {pattern!r}: {exc}"
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in allowed_fields:
            allowed = ", ".join("{" + f + "}" for f in sorted(allowed_fields))
            return f"pattern {pattern!r} uses {{{name}}}; allowed fields: {allowed}"
        if conv is not None:
            return f"pattern {pattern!r}: conversions like !{conv} are not allowed"
        try:
            format(1 if name in ("i", "r", "g") else "x", spec or "")
        except ValueError as exc:
            return f"pattern {pattern!r}: bad format spec {spec!r} for {{{name}}}: {exc}"
    return None


@dataclass(slots=True)
class _RackAcc:
    rack: Rack
    path: str
    budget_at: str
    file: str | None = None
    kw: float = 0.0
    nodes: int = 0
    models: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Place:
    site: SiteSpec
    pod: str
    block: str
    site_index: int


class _Builder:
    def __init__(self, spec: FleetSpec, file: str, table_dir: str) -> None:
        self.spec = spec
        self.file = file
        self.table_dir = table_dir
        self.errors: list[FieldError] = []
        self.catalog = self._catalog()
        self.fleet = Fleet(catalog=self.catalog, name=spec.name)
        self.node_origin: dict[str, str] = {}
        self.racks: dict[str, _RackAcc] = {}
        self.site_kw: list[float] = [0.0] * len(spec.sites)
        self.places: dict[str, _Place] = {}
        self.pod_names: dict[str, str] = {}
        #: where each node's GPU serials were written: (location, file, per-GPU paths?)
        #: (path, file) of the place that gave a node its GPU serials; read only to
        #: report a problem (domain/gpu_serials.py), so building it costs one dict entry
        self.gpu_serial_origin: dict[str, tuple[str, str | None]] = {}

    def err(self, location: str, message: str, file: str | None = None) -> None:
        self.errors.append(FieldError(file or self.file, location, message))

    def build(self) -> Fleet:
        site_seen: dict[str, str] = {}
        for si, site in enumerate(self.spec.sites):
            path = f"sites[{si}]"
            if _dup(site_seen, site.name, f"{path}.name"):
                self.err(f"{path}.name", f"duplicate site name {site.name!r} ({site_seen[site.name]})")
                continue
            self._site(si, site, path)
        self._tables()
        self._overrides()
        self._check_gpu_serials()
        self._check_racks()
        self._check_sites()
        return self.fleet

    # -- catalog ----------------------------------------------------------
    def _catalog(self) -> GpuCatalog:
        base = builtin_catalog()
        extra: list[GpuModel] = []
        for mi, m in enumerate(self.spec.gpu_models):
            path = f"gpu_models[{mi}]"
            if base.get(m.name) is not None or any(e.name == m.name for e in extra):
                self.err(f"{path}.name", f"GPU model {m.name!r} is already defined")
                continue
            domain = m.nvlink_domain_gpus or m.gpus_per_node
            if domain % m.gpus_per_node:
                self.err(
                    f"{path}.nvlink_domain_gpus",
                    f"{domain} is not a multiple of gpus_per_node ({m.gpus_per_node})",
                )
                continue
            extra.append(m.to_model())
        return base.with_models(extra)

    # -- topology ---------------------------------------------------------
    def _site(self, si: int, site: SiteSpec, path: str) -> None:
        self.fleet.sites.append(
            Site(
                name=site.name,
                region=site.region,
                power_mw=site.power_mw,
                pue=site.pue,
                electricity_usd_per_kwh=site.electricity_usd_per_kwh,
                facility_power_mw=site.facility_power_mw,
            )
        )
        for pi, pod in enumerate(site.pods):
            ppath = f"{path}.pods[{pi}]"
            if pod.name in self.pod_names:
                self.err(f"{ppath}.name", f"duplicate pod name {pod.name!r} ({self.pod_names[pod.name]})")
                continue
            self.pod_names[pod.name] = f"first at {ppath}"
            self.fleet.pods.append(Pod(pod.name, site.name))
            for bi, block in enumerate(pod.blocks):
                self._block(si, site, pod.name, block, f"{ppath}.blocks[{bi}]")

    def _block(self, si: int, site: SiteSpec, pod: str, block: BlockSpec, path: str) -> None:
        if block.name in self.places:
            self.err(f"{path}.name", f"duplicate block name {block.name!r}")
            return
        place = _Place(site, pod, block.name, si)
        self.places[block.name] = place
        self.fleet.blocks.append(Block(block.name, site.name, pod))
        for ri, rack in enumerate(block.racks):
            rpath = f"{path}.racks[{ri}]"
            if rack.name in self.racks:
                self.err(f"{rpath}.name", f"duplicate rack name {rack.name!r} ({self.racks[rack.name].path})")
                continue
            self._new_rack(rack.name, place, rack.power_kw, rpath, budget_at=f"{rpath}.power_kw")
        for gi, group in enumerate(block.node_groups):
            self._group(place, group, f"{path}.node_groups[{gi}]")
        for ni, node in enumerate(block.nodes):
            npath = f"{path}.nodes[{ni}]"
            self._add_node(place, npath, node)

    def _new_rack(
        self, name: str, place: _Place, power_kw: float | None, path: str, *, budget_at: str, file: str | None = None
    ) -> _RackAcc:
        rack = Rack(name, place.site.name, place.pod, place.block, power_kw)
        acc = _RackAcc(rack, path, budget_at, file)
        self.racks[name] = acc
        self.fleet.racks.append(rack)
        return acc

    def _group(self, place: _Place, group: NodeGroupSpec, path: str) -> None:
        model = self._model(group.gpu_model, f"{path}.gpu_model")
        ok = model is not None
        for key in ("id_pattern", "serial_pattern", "rack_pattern", "gpu_serial_pattern"):
            pattern = getattr(group, key)
            allowed = GPU_PATTERN_FIELDS if key == "gpu_serial_pattern" else PATTERN_FIELDS
            problem = None if pattern is None else pattern_problem(pattern, allowed)
            if problem:
                self.err(f"{path}.{key}", problem)
                ok = False
        if group.gpu_serial_pattern is not None and ok and "g" not in _field_specs(group.gpu_serial_pattern):
            self.err(
                f"{path}.gpu_serial_pattern",
                f"pattern {group.gpu_serial_pattern!r} lacks {{g}} (the GPU index): every GPU of a node "
                "would get the same serial",
            )
            ok = False
        per_rack = group.nodes_per_rack
        if model is not None and model.rack_scale and per_rack is None:
            per_rack = model.nodes_per_nvlink_domain
        if model is not None and model.rack_scale and group.rack_pattern is None:
            self.err(f"{path}.rack_pattern", _needs_rack(model))
            ok = False
        if group.rack_pattern is not None and per_rack is None:
            self.err(f"{path}.nodes_per_rack", "required with rack_pattern")
            ok = False
        if not ok or model is None:
            return
        gpus = model.gpus_per_node if group.gpu_count is None else group.gpu_count
        for node_id, serial, rack, gpu_serials in _expand_group(group, place, per_rack or 1, gpus):
            node = NodeSpec(node_id, model.name, serial, group.gpu_count, rack, gpu_serials=gpu_serials)
            self._add_node(place, path, node, rack_power_kw=group.rack_power_kw, model=model)

    def _model(self, name: str, location: str, file: str | None = None) -> GpuModel | None:
        model = self.catalog.get(name)
        if model is None:
            self.err(location, f"unknown GPU model {name!r}; known: {', '.join(self.catalog.names())}", file)
        return model

    def _add_node(
        self,
        place: _Place,
        path: str,
        node: NodeSpec,
        *,
        rack_power_kw: float | None = None,
        model: GpuModel | None = None,
        file: str | None = None,
    ) -> None:
        node_id, rack = node.id, node.rack
        if model is None:
            model = self._model(node.gpu_model, _field(path, "gpu_model"), file)
        first = self.node_origin.get(node_id)
        if first is not None:
            self.err(path, f"duplicate node id {node_id!r} (first defined at {first})", file)
            return
        self.node_origin[node_id] = path if file is None else f"{file} {path}"
        if model is None:
            return
        count = model.gpus_per_node if node.gpu_count is None else node.gpu_count
        if not 1 <= count <= model.gpus_per_node:
            self.err(
                _field(path, "gpu_count"),
                f"{count} GPUs on a {model.name} node; expected 1 to {model.gpus_per_node}",
                file,
            )
            return
        domain = node_id
        if rack is not None:
            acc = self._rack_for(rack, place, rack_power_kw, path, file)
            if acc is None:
                return
            acc.kw += model.node_power_kw or 0.0
            acc.nodes += 1
            acc.models.add(model.name)
            if model.rack_scale:
                domain = rack
        elif model.rack_scale:
            self.err(_field(path, "rack"), _needs_rack(model), file)
            return
        self.site_kw[place.site_index] += model.node_power_kw or 0.0
        self.fleet.nodes.append(
            Node(
                id=node_id,
                serial=node.serial or node_id,
                gpu_model=model.name,
                gpu_count=count,
                site=place.site.name,
                pod=place.pod,
                block=place.block,
                rack=rack,
                nvlink_domain=domain,
                health=node.health,
                gpu_serials=node.gpu_serials,
            )
        )
        if node.gpu_serials:
            self.gpu_serial_origin[node_id] = (path, file)

    def _rack_for(
        self, name: str, place: _Place, power_kw: float | None, path: str, file: str | None
    ) -> _RackAcc | None:
        acc = self.racks.get(name)
        if acc is None:
            if power_kw is not None:
                return self._new_rack(name, place, power_kw, path, budget_at=f"{path}.rack_power_kw", file=file)
            site_default = f"sites[{place.site_index}].rack_power_kw"
            return self._new_rack(name, place, place.site.rack_power_kw, path, budget_at=site_default, file=file)
        if acc.rack.block != place.block:
            self.err(
                _field(path, "rack"),
                f"rack {name!r} belongs to block {acc.rack.block!r}, not {place.block!r}",
                file,
            )
            return None
        return acc

    # -- node tables ------------------------------------------------------
    def _tables(self) -> None:
        for table in self.spec.node_tables:
            shown = posixpath.join(self.table_dir, table.path) if self.table_dir else table.path
            for row in table.rows:
                self._table_row(shown, row)

    def _table_row(self, file: str, row: TableRow) -> None:
        loc = f"row {row.row}"
        place = self.places.get(row.block)
        if place is None:
            self.err(f"{loc}, column block", f"unknown block {row.block!r}", file)
            return
        if place.site.name != row.site:
            self.err(f"{loc}, column site", f"block {row.block!r} is in site {place.site.name!r}", file)
            return
        if place.pod != row.pod:
            self.err(f"{loc}, column pod", f"block {row.block!r} is in pod {place.pod!r}", file)
            return
        node = NodeSpec(row.id, row.gpu_model, row.serial, row.gpu_count, row.rack, row.health, row.gpu_serials)
        self._add_node(place, loc, node, file=file)

    # -- overrides --------------------------------------------------------
    def _overrides(self) -> None:
        if not self.spec.overrides:
            return
        by_id = {n.id: n for n in self.fleet.nodes}
        for oi, override in enumerate(self.spec.overrides):
            node = by_id.get(override.id)
            if node is None:
                self.err(f"overrides[{oi}].id", f"no node has id {override.id!r}")
                continue
            if override.health is not None:
                node.health = override.health
            if override.serial is not None:
                node.serial = override.serial
            if override.gpu_serials is not None:
                node.gpu_serials = override.gpu_serials
                self.gpu_serial_origin[node.id] = (f"overrides[{oi}]", None)
                if not override.gpu_serials:
                    del self.gpu_serial_origin[node.id]

    # -- GPU serials ------------------------------------------------------
    def _check_gpu_serials(self) -> None:
        for location, file, message in gpu_serial_problems(self.fleet.nodes, self.gpu_serial_origin):
            self.err(location, message, file)

    # -- budgets ----------------------------------------------------------
    def _check_racks(self) -> None:
        # A node outside a rack-scale domain is its own NVLink domain, named by its id.
        own_domains = {n.id for n in self.fleet.nodes if n.nvlink_domain == n.id and n.rack != n.id}
        for acc in self.racks.values():
            budget = acc.rack.power_kw
            if budget is not None and acc.kw > budget * (1 + _POWER_TOLERANCE):
                self.err(
                    acc.budget_at,
                    f"rack {acc.rack.name!r} draws {acc.kw:.1f} kW at node maximum, over its budget of {budget:g} kW",
                )
            models = [self.catalog.get(m) for m in acc.models]
            scale = [m for m in models if m is not None and m.rack_scale]
            if scale and len(acc.models) > 1:
                self.err(acc.path, f"rack {acc.rack.name!r} mixes {sorted(acc.models)} in one NVLink domain", acc.file)
            elif scale and acc.nodes > scale[0].nodes_per_nvlink_domain:
                self.err(
                    acc.path,
                    f"rack {acc.rack.name!r} holds {acc.nodes} {scale[0].name} nodes; "
                    f"its NVLink domain takes at most {scale[0].nodes_per_nvlink_domain}",
                    acc.file,
                )
            if scale and acc.rack.name in own_domains:
                self.err(
                    acc.path,
                    f"rack {acc.rack.name!r} is an NVLink domain with the name of node {acc.rack.name!r} "
                    f"(at {self.node_origin[acc.rack.name]}), which is a domain of its own; rename one",
                    acc.file,
                )

    def _check_sites(self) -> None:
        for si, site in enumerate(self.spec.sites):
            it_mw = self.site_kw[si] / 1000.0
            path = f"sites[{si}]"
            if site.power_mw is not None and it_mw > site.power_mw * (1 + _POWER_TOLERANCE):
                self.err(
                    f"{path}.power_mw",
                    f"site {site.name!r} IT load is {it_mw:.2f} MW at node maximum, "
                    f"over its IT budget of {site.power_mw:g} MW",
                )
            facility = site.facility_power_mw
            if facility is not None and it_mw * site.pue > facility * (1 + _POWER_TOLERANCE):
                self.err(
                    f"{path}.facility_power_mw",
                    f"site {site.name!r} draws {it_mw * site.pue:.2f} MW with PUE {site.pue:g} "
                    f"({it_mw:.2f} MW IT), over its facility budget of {facility:g} MW",
                )


def _expand_group(
    group: NodeGroupSpec, place: _Place, per_rack: int, gpus: int
) -> Iterator[tuple[str, str | None, str | None, tuple[str, ...]]]:
    """Per node: id, serial, rack and GPU serials (``{g}`` from 0 to ``gpus - 1``)."""
    names = {"site": place.site.name, "pod": place.pod, "block": place.block}
    id_fmt = group.id_pattern.format
    serial_fmt = group.serial_pattern.format if group.serial_pattern else None
    rack_fmt = group.rack_pattern.format if group.rack_pattern else None
    gpu_fmt = group.gpu_serial_pattern.format if group.gpu_serial_pattern else None
    # {g} without a format spec: format once per node with a mark, then put each index in
    g_specs = _field_specs(group.gpu_serial_pattern or "").get("g", set())
    g_plain = g_specs == {""} and not any("\0" in name for name in names.values())
    indices = [str(g) for g in range(gpus)]
    for k in range(group.count):
        i = group.start + k
        r = group.rack_start + k // per_rack
        gpu_serials: tuple[str, ...] = ()
        if gpu_fmt is not None and g_plain:
            head, *rest = gpu_fmt(i=i, r=r, g="\0", **names).split("\0")
            if len(rest) == 1:  # {g} once: head + index + tail, the usual case
                gpu_serials = tuple([head + g + rest[0] for g in indices])
            else:
                gpu_serials = tuple([g.join([head, *rest]) for g in indices])
        elif gpu_fmt is not None:
            gpu_serials = tuple(gpu_fmt(i=i, r=r, g=g, **names) for g in range(gpus))
        yield (
            id_fmt(i=i, r=r, **names),
            serial_fmt(i=i, r=r, **names) if serial_fmt else None,
            rack_fmt(i=i, r=r, **names) if rack_fmt else None,
            gpu_serials,
        )


def _field_specs(pattern: str) -> dict[str, set[str]]:
    """The fields of a valid pattern and the format specs each is written with."""
    out: dict[str, set[str]] = {}
    for _, name, spec, _ in string.Formatter().parse(pattern):
        if name is not None:
            out.setdefault(name, set()).add(spec or "")
    return out


def _dup(seen: dict[str, str], key: str, where: str) -> bool:
    if key in seen:
        return True
    seen[key] = f"first at {where}"
    return False


def _field(path: str, name: str) -> str:
    """``path.name`` for YAML paths; ``row N, column name`` for table rows."""
    return f"{path}, column {name}" if path.startswith("row ") else f"{path}.{name}"


def _needs_rack(model: GpuModel) -> str:
    return (
        f"{model.name} nodes need a rack: the rack is their NVLink domain "
        f"({model.nodes_per_nvlink_domain} nodes, {model.nvlink_domain_gpus} GPUs)"
    )


def spec_from_fleet(fleet: Fleet, table_path: str | None = None, name: str | None = None) -> FleetSpec:
    """A spec that lists every node of ``fleet`` explicitly.

    With ``table_path`` the nodes go to a node table at that path (racks stay
    declared in the YAML with their budgets); otherwise they are written inline
    under their blocks. Custom GPU models are carried over.
    """
    racks_by_block: dict[str, list[RackSpec]] = {}
    for rack in fleet.racks:
        racks_by_block.setdefault(rack.block, []).append(RackSpec(rack.name, rack.power_kw))
    nodes_by_block: dict[str, list[NodeSpec]] = {}
    rows: list[TableRow] = []
    for node in fleet.nodes:
        serial = None if node.serial == node.id else node.serial
        if table_path is None:
            nodes_by_block.setdefault(node.block, []).append(
                NodeSpec(node.id, node.gpu_model, serial, node.gpu_count, node.rack, node.health, node.gpu_serials)
            )
        else:
            rows.append(
                TableRow(
                    len(rows) + 2,
                    node.id,
                    node.gpu_model,
                    node.site,
                    node.pod,
                    node.block,
                    serial,
                    node.gpu_count,
                    node.rack,
                    node.health,
                    node.gpu_serials,
                )
            )
    sites = []
    for site in fleet.sites:
        pods = tuple(
            PodSpec(
                pod.name,
                tuple(
                    BlockSpec(b.name, tuple(racks_by_block.get(b.name, ())), (), tuple(nodes_by_block.get(b.name, ())))
                    for b in fleet.blocks
                    if b.pod == pod.name
                ),
            )
            for pod in fleet.pods
            if pod.site == site.name
        )
        sites.append(
            SiteSpec(
                site.name,
                site.region,
                site.power_mw,
                site.pue,
                site.electricity_usd_per_kwh,
                site.facility_power_mw,
                None,
                pods,
            )
        )
    custom = tuple(
        GpuModelSpec(m.name, m.gpus_per_node, m.memory_gb, m.tdp_w, m.node_power_kw, m.nvlink_domain_gpus)
        for m in fleet.catalog.models()
        if not m.builtin
    )
    tables = (NodeTable(table_path, tuple(rows)),) if table_path is not None else ()
    return FleetSpec(name=name, gpu_models=custom, sites=tuple(sites), node_tables=tables)
