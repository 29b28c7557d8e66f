"""Shared modelling for imported inventories: GPU models, sites and flat fleets.

Rules every importer follows (docs/importers.md):

* A source model name that the built-in catalog knows (by name or alias, any case)
  becomes that built-in model. Any other name is declared as a fleet GPU model
  whose ``gpus_per_node`` is the largest GPU count the file shows for it, whose
  ``memory_gb`` is set only when the source states it (a memory column, or a size
  such as ``80GB`` in the name), and whose TDP and node power stay unknown.
* Sites have no power budget and no electricity price (the sources publish
  neither) and PUE 1.25, the default of ``../shared/reference/economics.md``
  section 6 ([R9]); the sources state no PUE, and 1.0 would claim a perfect one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from neocloud.adapters.importers._csv import Row, RowErrors, count, read_rows, text, unique
from neocloud.domain.catalog import builtin_catalog
from neocloud.domain.errors import FieldError, SpecError
from neocloud.domain.spec import BlockSpec, FleetSpec, GpuModelSpec, NodeSpec, PodSpec, SiteSpec

#: Reads a row's GPU model: ``(name, memory per GPU or None)``, or ``None`` after recording the problem.
ModelOf = Callable[[Row, RowErrors], tuple[str, float | None] | None]

SITE_PUE = 1.25
UNKNOWN_REGION = "unknown"
_SIZE_IN_NAME = re.compile(r"(\d+(?:\.\d+)?)\s*GB", re.IGNORECASE)
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class SourceNode:
    """A GPU machine as the source lists it; ``memory_gb`` per GPU when stated."""

    id: str
    model: str
    gpu_count: int
    memory_gb: float | None = None


@dataclass(frozen=True, slots=True)
class Inventory:
    """The GPU machines of a file, and how many CPU-only rows were skipped."""

    nodes: tuple[SourceNode, ...]
    cpu_only: int = 0

    @property
    def gpus(self) -> int:
        return sum(n.gpu_count for n in self.nodes)


@dataclass(frozen=True, slots=True)
class Models:
    """Fleet GPU-model declarations, and the catalog name of each source model name."""

    declared: tuple[GpuModelSpec, ...]
    names: Mapping[str, str]

    def node(self, node: SourceNode) -> NodeSpec:
        """The node spec of ``node``, keeping its source GPU count."""
        return NodeSpec(id=node.id, gpu_model=self.names[node.model], gpu_count=node.gpu_count)


def declare_models(nodes: Iterable[SourceNode]) -> Models:
    """Map source model names to built-in models, or declare them (see module doc).

    Names that differ only in case are one model, spelled as first seen.
    """
    catalog = builtin_catalog()
    spelling: dict[str, str] = {}
    largest: dict[str, int] = {}
    memory: dict[str, float | None] = {}
    seen: set[str] = set()
    for n in nodes:
        seen.add(n.model)
        key = spelling.setdefault(n.model.casefold(), n.model)
        largest[key] = max(largest.get(key, 0), n.gpu_count)
        if memory.get(key) is None:
            memory[key] = n.memory_gb if n.memory_gb is not None else _size_in_name(n.model)
    names: dict[str, str] = {}
    declared: list[GpuModelSpec] = []
    for key, most in largest.items():
        builtin = catalog.get(key)
        if builtin is None:
            declared.append(GpuModelSpec(name=key, gpus_per_node=most, memory_gb=memory[key]))
        names[key] = key if builtin is None else builtin.name
    return Models(tuple(declared), {m: names[spelling[m.casefold()]] for m in seen})


def _size_in_name(name: str) -> float | None:
    match = _SIZE_IN_NAME.search(name)
    return float(match.group(1)) if match else None


def site(name: str, pods: Sequence[PodSpec], region: str = UNKNOWN_REGION) -> SiteSpec:
    """A site with unknown power budget and price, at the default PUE."""
    return SiteSpec(
        name=name,
        region=region,
        power_mw=None,
        pue=SITE_PUE,
        electricity_usd_per_kwh=None,
        pods=tuple(pods),
    )


def flat_fleet(name: str, inventory: Inventory, region: str = UNKNOWN_REGION) -> FleetSpec:
    """A fleet for a source without network topology.

    One site and one pod, both called ``name``, and one fabric block per GPU model
    (``{name}-{model}``, or just the model when it already starts with ``{name}-``),
    in the order the models first appear.
    """
    models = declare_models(inventory.nodes)
    by_model: dict[str, list[NodeSpec]] = {}
    for node in inventory.nodes:
        spec = models.node(node)
        by_model.setdefault(spec.gpu_model, []).append(spec)
    blocks = [BlockSpec(_prefixed(name, model), nodes=tuple(nodes)) for model, nodes in by_model.items()]
    pod = PodSpec(name, tuple(blocks))
    return FleetSpec(name=name, gpu_models=models.declared, sites=(site(name, [pod], region),))


def _prefixed(name: str, model: str) -> str:
    return model if model.startswith(f"{name}-") else f"{name}-{model}"


def read_machines(path: Path, *, machine: str, gpus: str, model_columns: Sequence[str], model_of: ModelOf) -> Inventory:
    """GPU machines from a CSV with an id and a GPU-count column; ``model_of`` reads a
    row's model (name, memory per GPU when stated) from ``model_columns``.

    Rows with 0 GPUs are counted as CPU-only and skipped (their model is not read);
    every bad row is reported in one :class:`SpecError`.
    """
    errors = RowErrors(path)
    seen: dict[str, int] = {}
    nodes: list[SourceNode] = []
    cpu_only = 0
    for row in read_rows(path, (machine, gpus, *model_columns)):
        node_id, gpu_count = text(row, machine, errors), count(row, gpus, errors)
        if node_id is not None and not unique(row, machine, node_id, seen, errors):
            continue
        if gpu_count == 0:
            cpu_only += 1
            continue
        model = model_of(row, errors)
        if node_id is not None and gpu_count is not None and model is not None:
            nodes.append(SourceNode(node_id, model[0], gpu_count, model[1]))
    errors.raise_if_any()
    return Inventory(tuple(nodes), cpu_only)


def import_flat(name: str, path: Path, inventory: Inventory) -> FleetSpec:
    """A source without topology as a fleet (:func:`flat_fleet`); no GPU machine is an error."""
    require_nodes(str(path), inventory)
    return flat_fleet(name, inventory)


def require_nodes(path: str, inventory: Inventory) -> None:
    """Raise :class:`SpecError` when the file lists no GPU machine at all."""
    if not inventory.nodes:
        skipped = f" ({inventory.cpu_only} CPU-only rows skipped)" if inventory.cpu_only else ""
        raise SpecError([FieldError(path, "", f"no GPU machines in the file{skipped}")])


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``S2`` before ``S10``."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _DIGITS.split(name) if p)
