"""Alibaba openb pod lists (FGD, ATC'23): GPU-sharing pods with CPU, memory and GPU-model asks.

Source: ``alibaba-gpu-v2023-openb/csv/openb_pod_list_*.csv`` (alibaba/clusterdata @7a6c496e:
cluster-trace-gpu-v2023/csv/; no licence stated there, the simulator repo that ships the
same files, hkust-adsl/kubernetes-scheduler-simulator, is Apache-2.0). The default list
has 8,152 pods with 11 columns ``name, cpu_milli, memory_mib, num_gpu, gpu_milli,
gpu_spec, qos, pod_phase, creation_time, deletion_time, scheduled_time``; the paper's
``multigpu*`` variants have only the first 5. Both shapes are read: the 6 later columns
are optional, each on its own.

Read as (column meanings from cluster-trace-gpu-v2023/README.md):

* ``id`` = ``name``; ``gpus`` = ``num_gpu`` (0 to 8; 0 is a CPU-only pod);
  ``gpu_milli`` = ``gpu_milli``, thousandths of each GPU (< 1000: a shared GPU; 0
  for CPU-only pods);
* ``arrival_s`` = ``creation_time`` (seconds from the trace's start); a list without
  times has every pod arriving at 0, in file order (the FGD experiment's order);
* ``duration_s`` = ``deletion_time - scheduled_time``, the time the pod held its
  resources; ``None`` for a pod never scheduled (empty ``scheduled_time``: the 897
  ``Pending`` pods of the default list) or a list without times;
* :class:`PodDetail`: ``cpu_milli``, ``memory_mib``, ``gpu_spec`` split on ``|`` into
  ``gpu_models`` (empty: any model), ``qos``, ``pod_phase``, ``scheduled_s`` and
  ``deletion_s``.

A deletion before the schedule or creation, or a schedule before the creation, is an
error. The default list is in arrival (creation) order.

The node list the pods pack onto is read by :func:`neocloud.adapters.importers.alibaba.read_openb_nodes`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neocloud.adapters.traces._table import Row, read_table
from neocloud.domain.workload import WHOLE_GPU_MILLI, PodDetail, TraceJob

NAME, CPU, MEMORY, GPUS, GPU_MILLI = "name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"
GPU_SPEC, QOS, PHASE = "gpu_spec", "qos", "pod_phase"
CREATED, DELETED, SCHEDULED = "creation_time", "deletion_time", "scheduled_time"
REQUIRED = (NAME, CPU, MEMORY, GPUS, GPU_MILLI)
OPTIONAL = (GPU_SPEC, QOS, PHASE, CREATED, DELETED, SCHEDULED)


def read_openb(path: Path) -> Iterator[TraceJob]:
    """The pods of an openb pod list at ``path``, in file order (see the module doc)."""
    for row in read_table(path, REQUIRED, OPTIONAL):
        gpus, gpu_milli = row.count(GPUS), row.count(GPU_MILLI)
        if gpu_milli > WHOLE_GPU_MILLI:
            row.fail(GPU_MILLI, f"{gpu_milli} is more than a whole GPU ({WHOLE_GPU_MILLI})")
        created = row.optional_seconds(CREATED)
        scheduled, deleted = _times(row, created)
        spec = row.optional_text(GPU_SPEC)
        detail = PodDetail(
            cpu_milli=row.count(CPU),
            memory_mib=row.count(MEMORY),
            gpu_models=tuple(m.strip() for m in spec.split("|")) if spec else (),
            qos=row.optional_text(QOS),
            phase=row.optional_text(PHASE),
            scheduled_s=scheduled,
            deletion_s=deleted,
        )
        duration_s = deleted - scheduled if scheduled is not None and deleted is not None else None
        yield TraceJob(row.text(NAME), created or 0.0, gpus, duration_s, gpu_milli=gpu_milli, detail=detail)


def _times(row: Row, created: float | None) -> tuple[float | None, float | None]:
    scheduled, deleted = row.optional_seconds(SCHEDULED), row.optional_seconds(DELETED)
    if created is not None and scheduled is not None and scheduled < created:
        row.fail(SCHEDULED, f"{row.raw(SCHEDULED)!r} is before the creation time {row.raw(CREATED)}")
    if deleted is not None:
        for column, before in ((SCHEDULED, scheduled), (CREATED, created)):
            if before is not None and deleted < before:
                row.fail(DELETED, f"{row.raw(DELETED)!r} is before the {column} {row.raw(column)}")
    return scheduled, deleted
