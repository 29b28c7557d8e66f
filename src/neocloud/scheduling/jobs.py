"""What the scheduler is asked, and what it decides.

Times are float seconds on the scheduler's clock (a trace's seconds from its start in
the simulator). A job runs for ``duration_s`` once started on its GPUs; the scheduler
sees only ``estimate_s`` (backfill's runtime estimate; the oracle when equal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neocloud.placement.pool import Allocation


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job: ``gpus`` GPUs (of model index ``model``, any when ``None``) for
    ``duration_s`` seconds of run time, submitted at ``submit_s``. ``tenant`` is an
    index into the cluster's tenants (fair share, per-tenant figures); ``priority``
    orders the priority policy (higher first); ``consolidate`` asks placement to keep
    the job in the smallest unit that holds it; ``deadline_s`` is when it must finish
    (reported, not enforced)."""

    id: str
    submit_s: float
    gpus: int
    duration_s: float
    estimate_s: float
    tenant: int = 0
    priority: int = 0
    model: int | None = None
    consolidate: bool = False
    deadline_s: float | None = None

    def __post_init__(self) -> None:
        # one cheap test per job (a replay builds a million); NaN fails every comparison
        finite = 0 <= self.duration_s < math.inf and 0 <= self.estimate_s < math.inf
        if self.gpus > 0 and finite and -math.inf < self.submit_s < math.inf:
            return
        raise ValueError(
            f"job {self.id}: needs GPUs > 0 and finite submit, duration and estimate >= 0;"
            f" got {self.gpus} GPUs, submit {self.submit_s}, duration {self.duration_s}, estimate {self.estimate_s}"
        )


@dataclass(frozen=True, slots=True)
class Start:
    """Run job ``job`` (an index into the cluster's jobs) on ``alloc`` from now;
    ``resume``: the job ran before and was preempted (it pays the restart cost)."""

    job: int
    alloc: Allocation
    resume: bool = False


@dataclass(frozen=True, slots=True)
class Preempt:
    """Stop job ``job`` and put it back in the queue; it pays the restart cost when it
    runs again."""

    job: int
    reason: str


@dataclass(frozen=True, slots=True)
class Reject:
    """Job ``job`` can never run here (``reason`` says why); it leaves the queue."""

    job: int
    reason: str


Decision = Start | Preempt | Reject
