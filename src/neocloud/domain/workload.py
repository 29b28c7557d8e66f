"""One job of a workload trace: the value every trace reader yields (pure: stdlib only).

A :class:`TraceJob` is the small core the simulator needs from any trace (when it
arrives, how many GPUs and how much of each, how long it runs, whose it is, when it
is due) plus one typed ``detail`` per trace family with the columns a policy or a
placement may use. Times are float seconds from the trace's start (sub-second where
the file has it); the readers in ``neocloud.adapters.traces`` say, per format, what
the start is and how each field is derived (docs/simulator.md#trace-readers).

Readers yield jobs in file order and never sort; :func:`in_arrival_order` is the one
stable sort for the formats whose files are not in arrival order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

#: ``gpu_milli`` of a job that uses whole GPUs: 1000 thousandths of a GPU.
WHOLE_GPU_MILLI = 1000


@dataclass(frozen=True, slots=True)
class ShapeDetail:
    """RFold's derived job lists (Philly, Crux): the topology and shape columns.

    ``topology`` is the network the job was mapped onto (``CLOS`` in both files);
    ``parts`` are the GPUs of each part of the job as written in ``shape``
    (``4+4`` -> ``(4, 4)``); they sum to the job's GPUs.
    """

    topology: str
    parts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ModelDetail:
    """Tiresias' job format: the model trained and its iterations.

    ``interval_s`` is the gap to the next submission as the file states it (Tiresias'
    simulator does not use it, nor ``iterations``); each field is ``None`` where the
    file has no such column.
    """

    model_name: str | None
    iterations: int | None
    interval_s: float | None


@dataclass(frozen=True, slots=True)
class DeadlineDetail:
    """Chronus' SLO jobs: the model, and the deadline offers of the job.

    ``job_type`` is ``strict`` (one hard deadline), ``soft`` (a value that decays
    over later deadlines) or ``best`` (best effort: no deadline). ``expect_s`` are the
    completion times the job asks for, in seconds after its arrival, with
    ``expect_values`` the value of finishing by each (Chronus' ``expect_time_list`` /
    ``expect_value_list``, ``159-189-229-289`` / ``10-8-5-2``); the first is the
    deadline.
    """

    model_name: str
    iterations: int
    interval_s: float
    expect_s: tuple[float, ...]
    expect_values: tuple[int, ...]
    job_type: str

    @property
    def best_effort(self) -> bool:
        """A job without a deadline."""
        return self.job_type == "best"


@dataclass(frozen=True, slots=True)
class AdaptiveDetail:
    """Pollux and Sia workloads: an application run at a fixed configuration.

    ``num_replicas`` GPUs (one replica per GPU) and ``batch_size`` samples per step
    across all replicas, as the file sets them for non-adaptive schedulers;
    ``application`` names its profile (``cifar10``, ``bert``...).
    """

    application: str
    num_replicas: int
    batch_size: int


@dataclass(frozen=True, slots=True)
class PodDetail:
    """Alibaba openb pods (FGD, ATC'23): what a packing policy needs beyond GPUs.

    ``cpu_milli`` thousandths of a CPU core and ``memory_mib`` MiB requested;
    ``gpu_models`` the GPU models the pod may run on (empty: any; ``gpu_spec``
    ``V100M16|V100M32``); ``qos`` (``LS``, ``BE``, ``Burstable``, ``Guaranteed``) and
    ``phase`` (``Running``, ``Pending``...) as published; ``scheduled_s`` and
    ``deletion_s`` seconds from the trace's start (``None`` where the file has no such
    column, or the pod was never scheduled).
    """

    cpu_milli: int
    memory_mib: int
    gpu_models: tuple[str, ...] = ()
    qos: str | None = None
    phase: str | None = None
    scheduled_s: float | None = None
    deletion_s: float | None = None


JobDetail = ShapeDetail | ModelDetail | DeadlineDetail | AdaptiveDetail | PodDetail


@dataclass(frozen=True, slots=True)
class TraceJob:
    """One job of a trace, in units the simulator uses.

    * ``id``: the trace's job id or name (a data-row ordinal where it has none);
    * ``arrival_s``: seconds from the trace's start, >= 0;
    * ``gpus``: GPUs requested (0 for CPU-only pods);
    * ``gpu_milli``: thousandths of each GPU used (1000 a whole GPU; openb's shared
      pods ask for less; 0 when ``gpus`` is 0);
    * ``duration_s``: seconds the job runs once started on its GPUs, or ``None``
      where the trace gives none (an openb pod never scheduled, a pod list without
      times);
    * ``tenant``: who submitted it (Philly's virtual cluster, Chronus' user), or
      ``None`` where the trace does not say;
    * ``deadline_s``: seconds from the trace's start by which the job should finish
      (Chronus' strict jobs), else ``None``;
    * ``detail``: the trace family's own columns (see the ``*Detail`` types).
    """

    id: str
    arrival_s: float
    gpus: int
    duration_s: float | None
    gpu_milli: int = WHOLE_GPU_MILLI
    tenant: str | None = None
    deadline_s: float | None = None
    detail: JobDetail | None = None

    def __post_init__(self) -> None:
        duration = 0.0 if self.duration_s is None else self.duration_s
        times_ok = 0 <= self.arrival_s < math.inf and 0 <= duration < math.inf  # NaN fails too
        if times_ok and self.gpus >= 0 <= self.gpu_milli <= WHOLE_GPU_MILLI:  # one cheap test per job
            return
        if not 0 <= self.arrival_s < math.inf:
            raise ValueError(f"job {self.id}: arrival_s must be finite and >= 0, got {self.arrival_s}")
        if self.gpus < 0:
            raise ValueError(f"job {self.id}: gpus must be >= 0, got {self.gpus}")
        if not 0 <= self.gpu_milli <= WHOLE_GPU_MILLI:
            raise ValueError(f"job {self.id}: gpu_milli must be 0..{WHOLE_GPU_MILLI}, got {self.gpu_milli}")
        raise ValueError(f"job {self.id}: duration_s must be finite and >= 0, got {self.duration_s}")

    @property
    def gpu_seconds(self) -> float | None:
        """GPU-seconds the job holds once started (shares counted as fractions), if its duration is known."""
        if self.duration_s is None:
            return None
        return self.gpus * self.gpu_milli / WHOLE_GPU_MILLI * self.duration_s


def in_arrival_order(jobs: Iterable[TraceJob]) -> list[TraceJob]:
    """The jobs sorted by arrival, ties kept in file order (a stable sort).

    For formats whose files are not in arrival order (``philly-vc``, ``chronus``);
    it holds the whole trace in memory, which the simulator does anyway.
    """
    return sorted(jobs, key=_arrival)


def _arrival(job: TraceJob) -> float:
    return job.arrival_s


@dataclass(frozen=True, slots=True)
class NodeCapacity:
    """A node of a packing experiment (openb's node list): what a pod can be given.

    ``cpu_milli`` thousandths of a CPU core, ``memory_mib`` MiB, ``gpus`` GPUs of
    ``gpu_model`` (``None`` on a CPU-only node).
    """

    id: str
    cpu_milli: int
    memory_mib: int
    gpus: int
    gpu_model: str | None
