"""What a run shows a person: per-tenant figures, the utilization and queue over time
and the JCT distribution, small enough to draw (a few hundred points however long
the run).

Series are binned on equal spans of simulated time: per bin the time-weighted mean of
GPUs used and offered (so utilization per bin is exact) and the most jobs waiting at
any instant in it. The JCT CDF is the JCT at evenly spaced quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from neocloud.sim.driver import Run

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TenantFigures:
    tenant: str
    jobs: int
    finished: int
    rejected: int
    gpu_hours: float  # GPU-hours received (attained service)
    jct_mean_s: float
    queue_mean_s: float
    preemptions: int


@dataclass(frozen=True, slots=True)
class Series:
    t_s: FloatArray  # each bin's start
    used: FloatArray  # time-weighted mean GPUs used in the bin
    offered: FloatArray
    waiting: FloatArray  # the most jobs waiting at once in the bin


def per_tenant(run: Run) -> list[TenantFigures]:
    """Figures per tenant of the run's cluster, in tenant order."""
    cluster = run.cluster
    n = cluster.size
    tenant = np.fromiter((s.tenant for s in cluster.jobs), np.int64, n)
    submit = np.fromiter((s.submit_s for s in cluster.jobs), np.float64, n)
    finish = cluster.finish_s[:n]
    first = cluster.first_start_s[:n]
    rejected = np.zeros(n, bool)
    rejected[list(cluster.rejected)] = True
    out = []
    for t, name in enumerate(cluster.tenants):
        mine = tenant == t
        done = mine & ~np.isnan(finish)
        out.append(
            TenantFigures(
                tenant=name,
                jobs=int(mine.sum()),
                finished=int(done.sum()),
                rejected=int((mine & rejected).sum()),
                gpu_hours=float(cluster.attained_gpu_s[:n][mine].sum() / 3600),
                jct_mean_s=float((finish[done] - submit[done]).mean()) if done.any() else 0.0,
                queue_mean_s=float((first[done] - submit[done]).mean()) if done.any() else 0.0,
                preemptions=int(cluster.preemptions[:n][mine].sum()),
            )
        )
    return out


def series(run: Run, bins: int = 400) -> Series:
    """The trajectory in ``bins`` equal spans of time (fewer when it has fewer steps)."""
    traj = run.trajectory
    t = np.asarray(traj.t_s, np.float64)
    if len(t) < 2:
        empty = np.zeros(0)
        return Series(empty, empty, empty, empty)
    used = np.asarray(traj.used[:-1], np.float64)
    offered = np.asarray(traj.offered[:-1], np.float64)
    waiting = np.asarray(traj.waiting[:-1], np.float64)
    edges = np.linspace(t[0], t[-1], min(bins, len(t) - 1) + 1)
    # integrate the step functions: cumulative GPU-seconds at each step, read at the edges
    cum_used = np.concatenate(([0.0], np.cumsum(used * np.diff(t))))
    cum_offered = np.concatenate(([0.0], np.cumsum(offered * np.diff(t))))
    at_used = np.interp(edges, t, cum_used)
    at_offered = np.interp(edges, t, cum_offered)
    width = np.diff(edges)
    step_bin = np.clip(np.searchsorted(edges, t[:-1], side="right") - 1, 0, len(width) - 1)
    # the step in force at each bin's start counts too: a bin no step starts in is not empty
    most_waiting = waiting[np.clip(np.searchsorted(t, edges[:-1], side="right") - 1, 0, len(waiting) - 1)]
    np.maximum.at(most_waiting, step_bin, waiting)
    return Series(edges[:-1], np.diff(at_used) / width, np.diff(at_offered) / width, most_waiting)


def jct_quantiles(run: Run, points: int = 101) -> tuple[FloatArray, FloatArray]:
    """(quantile, JCT seconds) at ``points`` evenly spaced quantiles of finished jobs."""
    cluster = run.cluster
    n = cluster.size
    finish = cluster.finish_s[:n]
    submit = np.fromiter((s.submit_s for s in cluster.jobs), np.float64, n)
    done = ~np.isnan(finish)
    q = np.linspace(0.0, 1.0, points)
    if not done.any():
        return q, np.zeros(points)
    return q, np.quantile(finish[done] - submit[done], q)
