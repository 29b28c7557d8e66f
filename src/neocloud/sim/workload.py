"""A trace's jobs as the scheduler's :class:`~neocloud.scheduling.jobs.JobSpec` values.

:func:`job_specs` streams :class:`~neocloud.domain.workload.TraceJob` values (in
arrival order) into job specs for a cluster:

- ``window``: only the jobs ``first`` to ``last`` (0-based, inclusive, counted over
  every job of the trace in arrival order), their times re-based so the first of them
  arrives at 0;
- a job the scheduler cannot run is skipped and counted (:class:`Skipped`): no GPUs
  (openb's CPU-only pods) or no duration (a pod never scheduled);
- a job asking for part of a GPU (openb's shared pods) takes whole GPUs here: the
  fractional packing is ``sim pack``'s experiment, not a replay's;
- the tenant is registered with the cluster (``tenant_of``), ``""`` when the trace
  names none; a deadline is re-based with the arrival;
- ``estimate_error`` ``e``: backfill's runtime estimate is the duration times a factor
  drawn uniformly from ``[1 - e, 1 + e]`` (seeded); 0 is the oracle.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from neocloud.domain.workload import TraceJob
from neocloud.scheduling.jobs import JobSpec


@dataclass(frozen=True, slots=True)
class Window:
    first: int
    last: int

    def __post_init__(self) -> None:
        if not 0 <= self.first <= self.last:
            raise ValueError(f"window {self.first}:{self.last}: expected 0 <= FIRST <= LAST")


@dataclass(slots=True)
class Skipped:
    """Jobs of the trace left out of a replay, by reason."""

    no_gpus: int = 0
    no_duration: int = 0
    shared_gpu_rounded_up: int = 0  # not left out: taken as whole GPUs
    examples: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.no_gpus + self.no_duration


def job_specs(
    trace: Iterable[TraceJob],
    tenant_of: Callable[[str], int],
    *,
    window: Window | None = None,
    estimate_error: float = 0.0,
    seed: int = 0,
    skipped: Skipped | None = None,
) -> Iterator[JobSpec]:
    """The job specs of ``trace`` (see the module doc), streamed."""
    if not 0 <= estimate_error < 1:
        raise ValueError(f"estimate error: {estimate_error} is not from 0 to below 1")
    rng = np.random.default_rng(seed)
    counts = skipped if skipped is not None else Skipped()
    base: float | None = None
    for index, job in enumerate(trace):
        if window is not None:
            if index < window.first:
                continue
            if index > window.last:
                return
        if base is None:
            base = job.arrival_s
        if job.gpus == 0:
            counts.no_gpus += 1
            counts.examples.setdefault("no_gpus", job.id)
            continue
        if job.duration_s is None:
            counts.no_duration += 1
            counts.examples.setdefault("no_duration", job.id)
            continue
        if job.gpu_milli < 1000:
            counts.shared_gpu_rounded_up += 1
        factor = 1.0 + estimate_error * float(rng.uniform(-1.0, 1.0)) if estimate_error else 1.0
        yield JobSpec(
            id=job.id,
            submit_s=job.arrival_s - base,
            gpus=job.gpus,
            duration_s=job.duration_s,
            estimate_s=job.duration_s * factor,
            tenant=tenant_of(job.tenant or ""),
            deadline_s=None if job.deadline_s is None else job.deadline_s - base,
        )
