"""What a run reports: job completion and queueing times, makespan, utilization over
time, preemptions, rejections, per tenant and deadlines missed.

Utilization is GPU-time used over the fleet's GPU-time between the first submission
and the end of the run; the allocation ratio is GPU-time used over GPU-time offered
(capacity down or leased away left out); both integrate the trajectory's step
functions exactly. Fragmentation is the mean stranded fraction of free GPUs
(docs/placement.md) over the cycles sampled. JCT is
finish - submit; the wait is first start - submit; the delay is JCT - run time, the
time a finished job was not making progress (waiting to start, preempted, and redoing
or restoring work after each preemption). Under 2D-LAS almost every job starts at once
and then waits preempted, so the wait alone hides what the delay shows. Percentiles are
NumPy's linear interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neocloud.sim.driver import Run


@dataclass(frozen=True, slots=True)
class Summary:
    jobs: int
    finished: int
    rejected: int
    jct_mean_s: float
    jct_p50_s: float
    jct_p99_s: float
    queue_mean_s: float
    queue_p99_s: float
    delay_mean_s: float
    delay_p99_s: float
    makespan_s: float
    utilization_mean: float
    allocation_ratio_mean: float
    fragmentation_mean: float
    preemptions: int
    interruptions: int
    deadlines: int
    deadline_misses: int
    cycles: int


def summarize(run: Run) -> Summary:
    cluster = run.cluster
    jobs = cluster.jobs
    n = cluster.size
    submit_all = np.fromiter((s.submit_s for s in jobs), np.float64, n)
    finish_all = cluster.finish_s[:n]
    done = ~np.isnan(finish_all)
    submit, finish = submit_all[done], finish_all[done]
    jct = finish - submit
    queue = cluster.first_start_s[:n][done] - submit
    run_s = np.fromiter((s.duration_s for s in jobs), np.float64, n)[done]
    delay = np.maximum(jct - run_s, 0.0)  # never below 0 (finish - submit - run rounds)
    deadline = np.fromiter((np.nan if s.deadline_s is None else s.deadline_s for s in jobs), np.float64, n)
    # a job with a deadline misses it when it finished after it, or never finished
    with_deadline = ~np.isnan(deadline)
    late = np.where(done, finish_all, np.inf)
    missed = int((late[with_deadline] > deadline[with_deadline]).sum())
    start = float(submit_all.min()) if n else 0.0
    finished = int(done.sum())
    return Summary(
        jobs=len(jobs),
        finished=finished,
        rejected=len(cluster.rejected),
        jct_mean_s=float(jct.mean()) if finished else 0.0,
        jct_p50_s=float(np.percentile(jct, 50)) if finished else 0.0,
        jct_p99_s=float(np.percentile(jct, 99)) if finished else 0.0,
        queue_mean_s=float(queue.mean()) if finished else 0.0,
        queue_p99_s=float(np.percentile(queue, 99)) if finished else 0.0,
        delay_mean_s=float(delay.mean()) if finished else 0.0,
        delay_p99_s=float(np.percentile(delay, 99)) if finished else 0.0,
        makespan_s=float(finish.max() - start) if finished else 0.0,
        utilization_mean=utilization(run, start, of_fleet=True),
        allocation_ratio_mean=utilization(run, start, of_fleet=False),
        fragmentation_mean=float(np.mean(run.trajectory.stranded)) if run.trajectory.stranded else 0.0,
        preemptions=int(cluster.preemptions[:n].sum()),
        interruptions=run.interruptions,
        deadlines=int(with_deadline.sum()),
        deadline_misses=missed,
        cycles=run.cycles,
    )


def utilization(run: Run, start_s: float, *, of_fleet: bool = True) -> float:
    """GPU-time used / the fleet's GPU-time (``of_fleet``) or GPU-time offered, from
    ``start_s`` to the run's end."""
    traj = run.trajectory
    if len(traj.t_s) < 2:
        return 0.0
    t = np.asarray(traj.t_s)
    width = np.diff(t)
    keep = t[:-1] >= start_s
    used = float((np.asarray(traj.used[:-1], np.float64) * width)[keep].sum())
    if of_fleet:
        offered = float((width[keep]).sum()) * run.cluster.pool.snap.total_gpus
    else:
        offered = float((np.asarray(traj.offered[:-1], np.float64) * width)[keep].sum())
    return used / offered if offered else 0.0
