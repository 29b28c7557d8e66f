"""The scheduler's state: the GPU pool, the jobs, who waits, who runs, and how much each
has received. The only mutable scheduling state; decisions change it through
:meth:`Cluster.apply`, completions through :meth:`Cluster.finish`.

Per job (lists indexed by the job's number, in submission order): the run time still
owed (``remaining_s``: the duration, less what ran, plus the restart cost of every
preemption), the GPU-seconds received (``attained_gpu_s``, what 2D-LAS ranks by), when
the current run started, when the job first started and finished, and how often it
was preempted. ``restart_s`` is the cost of a preemption: the run time a job must
redo or spend restoring when it resumes.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from neocloud.placement.pool import Allocation, GpuPool
from neocloud.scheduling.jobs import Decision, JobSpec, Preempt, Reject, Start

#: The cost of a preemption, in run time: 10 minutes, the recovery time Tr of
#: economics.md 5.3's worked example (NVIDIA, arXiv 2410.18124 [R95]; a placeholder
#: input there, marked [D]). A checkpoint interval's lost work is not added: a job
#: preempted by the scheduler checkpoints first.
DEFAULT_RESTART_S = 600.0


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class Cluster:
    """The scheduling state (module doc). Per-job figures are NumPy arrays indexed by
    job number (grown by doubling), so a policy ranks every active job in one
    vectorised pass; ``first_start_s`` and ``finish_s`` are NaN until they happen."""

    def __init__(self, pool: GpuPool, tenants: tuple[str, ...] = ("",), restart_s: float = DEFAULT_RESTART_S) -> None:
        if not 0 <= restart_s < math.inf:  # NaN fails too
            raise ValueError(f"restart cost: {restart_s} s is not a finite number of seconds >= 0")
        self.pool = pool
        self.tenants = list(tenants)
        self._tenant_index = {name: k for k, name in enumerate(self.tenants)}
        self.restart_s = restart_s
        self.jobs: list[JobSpec] = []
        self.waiting: dict[int, None] = {}  # insertion-ordered; see waiting_in_order
        self._waiting_sorted = True  # the dict's order is job number (submission) order
        self.model_jobs = 0  # active jobs that name a GPU model (selection counts per model then)
        self.running: dict[int, Allocation] = {}
        self.rejected: dict[int, str] = {}
        self.cancelled: dict[int, str] = {}  # withdrawn by its owner (live queues only), why
        self.tenant_gpus = [0] * len(tenants)  # GPUs each tenant holds now
        self.on_node: dict[int, set[int]] = {}  # node -> running jobs on it
        self.active_gpus = 0  # GPUs asked by every waiting and running job
        self.fresh: list[int] = []  # submitted since the last cycle was applied
        self._size = 0
        self.gpus: IntArray = np.zeros(0, np.int64)
        self.remaining_s: FloatArray = np.zeros(0)
        self.attained_gpu_s: FloatArray = np.zeros(0)
        self.run_start_s: FloatArray = np.zeros(0)
        self.first_start_s: FloatArray = np.zeros(0)
        self.finish_s: FloatArray = np.zeros(0)
        self.is_running: BoolArray = np.zeros(0, bool)
        self.preemptions: IntArray = np.zeros(0, np.int64)
        self.runs: IntArray = np.zeros(0, np.int64)  # starts so far: tells a stale completion
        self.estimate_scale: FloatArray = np.zeros(0)  # estimate / duration (1 for a 0-s job)

    _ARRAYS = (
        "gpus",
        "remaining_s",
        "attained_gpu_s",
        "run_start_s",
        "first_start_s",
        "finish_s",
        "is_running",
        "preemptions",
        "runs",
        "estimate_scale",
    )

    def _grow(self) -> None:
        size = max(1024, 2 * len(self.gpus))
        for name in self._ARRAYS:
            old = getattr(self, name)
            new = np.full(size, np.nan) if name in ("first_start_s", "finish_s") else np.zeros(size, old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def submit(self, spec: JobSpec) -> int:
        """Queue ``spec``; its number."""
        job = self._size
        if job == len(self.gpus):
            self._grow()
        self._size += 1
        self.jobs.append(spec)
        self.gpus[job] = spec.gpus
        self.remaining_s[job] = spec.duration_s
        self.estimate_scale[job] = spec.estimate_s / spec.duration_s if spec.duration_s > 0 else 1.0
        self.waiting[job] = None  # the highest number yet: the order stays sorted
        self.active_gpus += spec.gpus
        self.model_jobs += spec.model is not None
        self.fresh.append(job)
        return job

    def tenant(self, name: str) -> int:
        """The index of tenant ``name``, added when new."""
        index = self._tenant_index.get(name)
        if index is None:
            index = self._tenant_index[name] = len(self.tenants)
            self.tenants.append(name)
            self.tenant_gpus.append(0)
        return index

    def waiting_in_order(self) -> dict[int, None]:
        """The waiting jobs in submission (job number) order. Jobs join at the end when
        submitted; a preempted job rejoins out of order, and the next call sorts once."""
        if not self._waiting_sorted:
            self.waiting = dict.fromkeys(sorted(self.waiting))
            self._waiting_sorted = True
        return self.waiting

    @property
    def size(self) -> int:
        """Jobs submitted so far."""
        return self._size

    def attained(self, job: int, now_s: float) -> float:
        """GPU-seconds ``job`` has received by ``now_s``, its current run included: the
        same float operations, in the same order, as :meth:`attained_of` (a test holds
        them equal bit for bit, which a review timed at a queue limit relies on)."""
        got = float(self.attained_gpu_s[job])
        if self.is_running[job]:
            got += (now_s - float(self.run_start_s[job])) * float(self.gpus[job])
        return got

    def attained_of(self, jobs: IntArray, now_s: float) -> FloatArray:
        """:meth:`attained` of many jobs at once."""
        running = self.is_running[jobs]
        return self.attained_gpu_s[jobs] + np.where(running, (now_s - self.run_start_s[jobs]) * self.gpus[jobs], 0.0)

    def ends_s(self, job: int) -> float:
        """When running ``job`` completes if nothing stops it."""
        return float(self.run_start_s[job] + self.remaining_s[job])

    def apply_cycle(self, decisions: list[Decision], now_s: float, *, pool_applied: bool = False) -> None:
        """Carry out a cycle's decisions at ``now_s``, in order; the jobs submitted
        before it have now been seen by a cycle. ``pool_applied``: the pool already
        holds what the decisions take and gives back what they free (the cycle kept
        its tentative state, :func:`~neocloud.scheduling.cycle.run_cycle`)."""
        for decision in decisions:
            self.apply(decision, now_s, pool_applied=pool_applied)
        self.fresh.clear()

    def apply(self, decision: Decision, now_s: float, *, pool_applied: bool = False) -> None:
        """Carry out one decision at ``now_s`` (``pool_applied``: see :meth:`apply_cycle`)."""
        if isinstance(decision, Start):
            self._start(decision.job, decision.alloc, now_s, take=not pool_applied)
        elif isinstance(decision, Preempt):
            self._stop(decision.job, now_s, give=not pool_applied)
            self.remaining_s[decision.job] += self.restart_s
            self.preemptions[decision.job] += 1
            self._rejoin(decision.job)
        elif isinstance(decision, Reject):
            self.waiting.pop(decision.job)
            self.rejected[decision.job] = decision.reason
            self._leave(decision.job)

    def finish(self, job: int, now_s: float) -> None:
        """``job`` completed at ``now_s``: its GPUs return to the pool."""
        self._stop(job, now_s)
        self.remaining_s[job] = 0.0
        self.finish_s[job] = now_s
        self._leave(job)

    def cancel(self, job: int, now_s: float, reason: str) -> None:
        """``job`` is withdrawn at ``now_s`` (waiting: it leaves the queue; running: it
        stops, its GPUs return to the pool); it never runs again."""
        if job in self.running:
            self._stop(job, now_s)
        else:
            del self.waiting[job]  # KeyError for a job that is neither
            if job in self.fresh:
                self.fresh.remove(job)
        self.cancelled[job] = reason
        self._leave(job)

    def _rejoin(self, job: int) -> None:
        if self.waiting and job < next(reversed(self.waiting)):
            self._waiting_sorted = False
        self.waiting[job] = None

    def _leave(self, job: int) -> None:
        self.active_gpus -= self.jobs[job].gpus
        self.model_jobs -= self.jobs[job].model is not None

    def _start(self, job: int, alloc: Allocation, now_s: float, *, take: bool = True) -> None:
        if take:
            self.pool.take(alloc)
        del self.waiting[job]
        self.running[job] = alloc
        self.is_running[job] = True
        self.run_start_s[job] = now_s
        self.runs[job] += 1
        if np.isnan(self.first_start_s[job]):
            self.first_start_s[job] = now_s
        self.tenant_gpus[self.jobs[job].tenant] += alloc.total
        for node in alloc.nodes:
            self.on_node.setdefault(node, set()).add(job)

    def _stop(self, job: int, now_s: float, *, give: bool = True) -> None:
        alloc = self.running.pop(job)
        self.is_running[job] = False
        if give:
            self.pool.give(alloc)
        ran = now_s - float(self.run_start_s[job])
        self.remaining_s[job] = max(float(self.remaining_s[job]) - ran, 0.0)
        self.attained_gpu_s[job] += ran * self.jobs[job].gpus
        self.tenant_gpus[self.jobs[job].tenant] -= alloc.total
        for node in alloc.nodes:
            self.on_node[node].discard(job)
