"""Capacity as values: GPUs by fleet model, and the serving system each model runs as.

Three sources give the same value (:class:`Capacity`): a lease (the GPUs of the nodes it
holds, by model), a site (the fleet's GPUs there, by model) or counts typed by a person
(``H100=150000,H200=50000,GB200=30000``). Fleet model names are the domain catalog's
(``domain/catalog.py``: names and aliases, any case); the serving systems are the
files of ``serving-silicon/systems`` (``h100_sxm``, ``gb200``, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from neocloud.domain.catalog import GpuCatalog
from neocloud.domain.counts import model_counts
from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Node

#: Fleet GPU model -> serving system file. HGX/DGX boards are the SXM systems; the
#: NVL72 racks are their own systems (NVLink across 72 GPUs).
SYSTEM_OF_MODEL: dict[str, str] = {
    "H100": "h100_sxm",
    "H200": "h200_sxm",
    "B200": "b200_sxm",
    "B300": "b300_sxm",
    "GB200": "gb200",
    "GB300": "gb300",
}
MAX_GPUS_PER_MODEL = 100_000_000


@dataclass(frozen=True, slots=True)
class Capacity:
    """GPUs by fleet model name (canonical names, counts > 0) and where they came from."""

    gpus: Mapping[str, int]
    source: str

    @property
    def total(self) -> int:
        return sum(self.gpus.values())


def system_for(model: str, catalog: GpuCatalog) -> str | None:
    """The serving system of a fleet GPU model (by name or alias), or ``None``."""
    known = catalog.get(model)
    return SYSTEM_OF_MODEL.get(known.name if known else model.upper())


def parse_gpu_counts(text: str, catalog: GpuCatalog, field: str = "gpus") -> Capacity:
    """``H100=150000,H200=50000`` -> a :class:`Capacity`; every bad item is named."""
    typed, problems = model_counts(text, field, max_count=MAX_GPUS_PER_MODEL)
    counts: dict[str, int] = {}
    for name, n in typed.items():
        model = catalog.get(name)
        if model is None:
            problems.append(f"{field}: {name!r}: unknown GPU model (known: {', '.join(catalog.names())})")
        elif model.name in counts:
            problems.append(f"{field}: {model.name} is given twice")
        else:
            counts[model.name] = n
    if problems:
        raise RequestError(problems)
    return Capacity(counts, "counts")


def capacity_of_nodes(nodes: Iterable[Node], source: str) -> Capacity:
    """The GPUs of ``nodes`` by model, in first-seen order."""
    counts: Counter[str] = Counter()
    for node in nodes:
        counts[node.gpu_model] += node.gpu_count
    return Capacity(dict(counts), source)
