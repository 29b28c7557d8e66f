"""Alibaba GPU inventories (openb 2023, PAI 2020, spot-GPU 2026) -> fleet specs.

Sources (``../shared/traces``, README sections 2, 3 and 5), each read by schema:

* ``openb``: ``alibaba-gpu-v2023-openb/csv/openb_node_list_*.csv`` (alibaba/clusterdata,
  cluster-trace-gpu-v2023), columns ``sn, cpu_milli, memory_mib, gpu, model``. The
  all-node list has 1,523 nodes: 1,213 GPU nodes with 6,212 GPUs and 310 CPU-only
  nodes (``gpu`` 0, empty ``model``).
* ``pai``: ``alibaba-pai-v2020/pai_machine_spec.csv`` (cluster-trace-gpu-v2020),
  columns ``machine, gpu_type, cap_cpu, cap_mem, cap_gpu``: 1,897 machines, of which
  83 are CPU-only (``gpu_type`` CPU, ``cap_gpu`` 0), so 1,814 GPU machines, 6,742 GPUs.
* ``alibaba-spot``: ``alibaba-spot-gpu-v2026/node_info_df.csv`` (cluster-trace-v2026-spot-gpu),
  columns ``gpu_model, gpu_capacity_num, cpu_num, node_name``: 4,278 nodes, 10,412 GPUs.

Modelling and assumptions:

* Only the id, model and GPU-count columns are used for a fleet; CPU and memory
  columns may be absent. :func:`read_openb_nodes` reads openb's CPU and memory too,
  for the packing experiment (``neocloud sim pack``). Rows with 0 GPUs are CPU-only: skipped and counted
  (:attr:`Inventory.cpu_only`), whatever their model column says.
* None of these sources has network topology: one site and one pod named after the
  source (``alibaba-openb``, ``alibaba-pai``, ``alibaba-spot``), one fabric block per
  GPU model. Node ids are the source's machine ids (the spot trace's are plain
  numbers, kept as they are).
* Model names are kept as published (``G2``, ``T4``, ``V100M16``, ``MISC``,
  ``GPU-series-1``, ``A100-SXM4-80GB``, ``H800``...); a name the built-in catalog
  knows becomes that model. ``memory_gb`` is set only from a size in the name
  (``80GB``): ``V100M32`` is likely a 32 GB V100 but the source does not say so.
  TDP and node power are unknown; ``gpus_per_node`` is the largest count seen.
* Region, power budget and price are unknown; PUE is the 1.25 default
  (economics.md section 6).
"""

from __future__ import annotations

from pathlib import Path

from neocloud.adapters.importers._csv import Row, RowErrors, count, read_rows, text, unique
from neocloud.adapters.importers._fleet import Inventory, import_flat, read_machines
from neocloud.domain.spec import FleetSpec
from neocloud.domain.workload import NodeCapacity

OPENB_NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")


def import_openb(path: Path) -> FleetSpec:
    """An openb node list (``sn, gpu, model``; CPU-only rows skipped) as a fleet spec."""
    return import_flat("alibaba-openb", path, read_openb(path))


def import_pai(path: Path) -> FleetSpec:
    """A PAI machine spec (``machine, gpu_type, cap_gpu``; CPU-only rows skipped) as a fleet spec."""
    return import_flat("alibaba-pai", path, read_pai(path))


def import_spot(path: Path) -> FleetSpec:
    """A spot-GPU node list (``node_name, gpu_model, gpu_capacity_num``) as a fleet spec."""
    return import_flat("alibaba-spot", path, read_spot(path))


def read_openb(path: Path) -> Inventory:
    """The GPU nodes of an openb node list."""
    return _read(path, machine="sn", model="model", gpus="gpu")


def read_openb_nodes(path: Path) -> tuple[NodeCapacity, ...]:
    """Every node of an openb node list with its CPU and memory, CPU-only ones included
    (``gpu`` 0, ``gpu_model`` ``None``), in file order: what the FGD packing experiment
    packs pods onto. :class:`SpecError` lists every bad row; ``model`` may be empty only
    on a CPU-only node.
    """
    errors = RowErrors(path)
    seen: dict[str, int] = {}
    nodes: list[NodeCapacity] = []
    for row in read_rows(path, OPENB_NODE_COLUMNS):
        sn = text(row, "sn", errors)
        cpu, memory, gpus = (count(row, c, errors) for c in ("cpu_milli", "memory_mib", "gpu"))
        model = row.cells["model"] or None
        if gpus and model is None:
            errors.add(row.line, "model", "empty value on a node with GPUs")
        if sn is None or not unique(row, "sn", sn, seen, errors) or cpu is None or memory is None or gpus is None:
            continue
        nodes.append(NodeCapacity(sn, cpu, memory, gpus, model if gpus else None))
    errors.raise_if_any()
    return tuple(nodes)


def read_pai(path: Path) -> Inventory:
    """The GPU machines of a PAI machine spec."""
    return _read(path, machine="machine", model="gpu_type", gpus="cap_gpu")


def read_spot(path: Path) -> Inventory:
    """The GPU nodes of a spot-GPU node list."""
    return _read(path, machine="node_name", model="gpu_model", gpus="gpu_capacity_num")


def _read(path: Path, *, machine: str, model: str, gpus: str) -> Inventory:
    """Machines whose model is named in the ``model`` column (memory unknown)."""

    def model_of(row: Row, errors: RowErrors) -> tuple[str, float | None] | None:
        name = text(row, model, errors)
        return None if name is None else (name, None)

    return read_machines(path, machine=machine, gpus=gpus, model_columns=(model,), model_of=model_of)
