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

from neocloud.adapters.importers._csv import Row, RowErrors, memory_gb
from neocloud.adapters.importers._fleet import Inventory, import_flat, read_machines
from neocloud.domain.spec import FleetSpec

FLEET_NAME = "philly"
MACHINE, GPUS, MEMORY = "machineId", "number of GPUs", "single GPU mem"


def import_philly(path: Path) -> FleetSpec:
    """The Philly machine list at ``path`` as a fleet spec (see the module doc)."""
    return import_flat(FLEET_NAME, path, read_philly(path))


def read_philly(path: Path) -> Inventory:
    """The GPU machines of a Philly machine list; :class:`SpecError` lists every bad row."""

    def model_of(row: Row, errors: RowErrors) -> tuple[str, float | None] | None:
        mem = memory_gb(row, MEMORY, errors)
        return None if mem is None else (f"philly-{mem:g}GB", mem)

    return read_machines(path, machine=MACHINE, gpus=GPUS, model_columns=(MEMORY,), model_of=model_of)
