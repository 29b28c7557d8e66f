"""Microsoft Philly (ATC'19) machine list -> fleet spec.

Source: ``microsoft-philly-2017/cluster_machine_list.csv`` of the Philly trace
(msr-fiddle/philly-traces, CC BY 4.0): 552 machines, 2,490 GPUs (321 with 2x12 GB,
231 with 8x24 GB). Schema: ``machineId, number of GPUs, single GPU mem`` (header
names carry stray spaces; they are stripped). Other columns are ignored.

Modelling and assumptions:

* The trace does not name the GPU model, only its memory, so each memory size is
  a model of its own, ``philly-<mem>GB`` (``philly-12GB``, ``philly-24GB``), with
  ``memory_gb`` from ``single GPU mem``, ``gpus_per_node`` the largest count seen
  for it, and TDP and node power unknown.
* The source has no network topology: one site and one pod called ``philly``, one
  fabric block per model, named like it (``philly-12GB``, ``philly-24GB``). Node ids are the machine
  ids; rows with 0 GPUs would be counted as CPU-only and skipped.
* Region, power budget and electricity price are unknown; PUE is the 1.25 default
  (economics.md section 6), not a measured figure.
"""

from __future__ import annotations

from pathlib import Path

from neocloud.adapters.importers._csv import RowErrors, count, memory_gb, read_rows, text, unique
from neocloud.adapters.importers._fleet import Inventory, SourceNode, flat_fleet, require_nodes
from neocloud.domain.spec import FleetSpec

FLEET_NAME = "philly"
MACHINE, GPUS, MEMORY = "machineId", "number of GPUs", "single GPU mem"


def import_philly(path: Path) -> FleetSpec:
    """The Philly machine list at ``path`` as a fleet spec (see the module doc)."""
    inventory = read_philly(path)
    require_nodes(str(path), inventory)
    return flat_fleet(FLEET_NAME, inventory)


def read_philly(path: Path) -> Inventory:
    """The GPU machines of a Philly machine list; :class:`SpecError` lists every bad row."""
    errors = RowErrors(path)
    seen: dict[str, int] = {}
    nodes: list[SourceNode] = []
    cpu_only = 0
    for row in read_rows(path, (MACHINE, GPUS, MEMORY)):
        machine, gpus = text(row, MACHINE, errors), count(row, GPUS, errors)
        if machine is not None and not unique(row, MACHINE, machine, seen, errors):
            continue
        if gpus == 0:
            cpu_only += 1
            continue
        mem = memory_gb(row, MEMORY, errors)
        if machine is not None and gpus is not None and mem is not None:
            nodes.append(SourceNode(machine, f"philly-{mem:g}GB", gpus, mem))
    errors.raise_if_any()
    return Inventory(tuple(nodes), cpu_only)
