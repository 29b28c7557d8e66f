"""What a workload trace holds, in one streaming pass: ``neocloud sim trace``.

:func:`summarize` consumes :class:`TraceJob` values as a reader yields them and keeps
counters, plus the durations (one float per job, for the median) and the first
``first`` jobs: never the jobs themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from neocloud.domain.workload import WHOLE_GPU_MILLI, TraceJob

SECONDS_PER_HOUR = 3600.0
#: Tenants a summary names (by job count); the rest are counted.
TOP_TENANTS = 5


@dataclass(frozen=True, slots=True)
class TraceSummary:
    """A trace at a glance (units in the names; ``None`` where no job has the value)."""

    jobs: int
    jobs_by_gpus: dict[int, int]  # GPUs per job -> jobs, by GPUs ascending
    shared_gpu_jobs: int  # jobs asking for part of a GPU (gpu_milli < 1000)
    first_arrival_s: float | None
    last_arrival_s: float | None
    in_arrival_order: bool  # every job arrives no earlier than the one before it in the file
    gpu_hours: float  # over the jobs with a duration (shares counted as fractions)
    jobs_without_duration: int
    duration_mean_s: float | None
    duration_median_s: float | None
    duration_max_s: float | None
    tenants: int
    top_tenants: dict[str, int]  # the TOP_TENANTS tenants with most jobs -> jobs
    jobs_with_deadline: int
    first: tuple[TraceJob, ...]

    @property
    def span_s(self) -> float | None:
        """Seconds from the first arrival to the last."""
        if self.first_arrival_s is None or self.last_arrival_s is None:
            return None
        return self.last_arrival_s - self.first_arrival_s


def summarize(jobs: Iterable[TraceJob], first: int = 5) -> TraceSummary:
    """Summarize ``jobs`` in one pass, keeping the first ``first`` of them."""
    sizes: Counter[int] = Counter()
    tenants: Counter[str] = Counter()
    durations: list[float] = []
    kept: list[TraceJob] = []
    count = shared = deadlines = 0
    gpu_s = 0.0
    lo = hi = previous = None
    ordered = True
    for job in jobs:
        count += 1
        if len(kept) < first:
            kept.append(job)
        sizes[job.gpus] += 1
        shared += 0 < job.gpu_milli < WHOLE_GPU_MILLI and job.gpus > 0
        deadlines += job.deadline_s is not None
        if job.tenant is not None:
            tenants[job.tenant] += 1
        t = job.arrival_s
        ordered = ordered and (previous is None or t >= previous)
        previous = t
        lo = t if lo is None or t < lo else lo
        hi = t if hi is None or t > hi else hi
        if job.duration_s is not None:
            durations.append(job.duration_s)
            gpu_s += job.gpus * job.gpu_milli / WHOLE_GPU_MILLI * job.duration_s
    return TraceSummary(
        jobs=count,
        jobs_by_gpus=dict(sorted(sizes.items())),
        shared_gpu_jobs=shared,
        first_arrival_s=lo,
        last_arrival_s=hi,
        in_arrival_order=ordered,
        gpu_hours=gpu_s / SECONDS_PER_HOUR,
        jobs_without_duration=count - len(durations),
        duration_mean_s=sum(durations) / len(durations) if durations else None,
        duration_median_s=_median(durations),
        duration_max_s=max(durations) if durations else None,
        tenants=len(tenants),
        top_tenants=dict(tenants.most_common(TOP_TENANTS)),
        jobs_with_deadline=deadlines,
        first=tuple(kept),
    )


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values.sort()
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
