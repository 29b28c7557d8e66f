"""Synthetic workloads resampled from a real trace, scaled to a fleet and a target load.

:func:`resampled_jobs` makes ``jobs`` job specs whose (GPUs, duration) pairs are drawn
with replacement from a real trace's pairs (drawn together, so a size keeps the
durations it had: Philly's 8-GPU jobs run longer than its 1-GPU ones), arriving as a
Poisson process whose rate makes the offered load match ``target_utilization`` of
``fleet_gpus``:

    rate = target_utilization x fleet_gpus / mean(gpus x duration)   [jobs per second]

so that over the arrivals' span the GPU-seconds asked equal that share of the fleet's
(:func:`arrival_rate_per_s`). Pure and seeded: the same inputs and seed give the same
jobs; nothing reads a file or the clock. Jobs are generated in chunks and streamed, so
memory holds one chunk beside what the caller keeps.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from neocloud.scheduling.jobs import JobSpec

#: jobs generated per NumPy draw [D: our own; bounds the generator's memory]
CHUNK = 65_536


def arrival_rate_per_s(
    gpus: npt.ArrayLike, duration_s: npt.ArrayLike, fleet_gpus: int, target_utilization: float
) -> float:
    """Jobs per second that offer ``target_utilization`` of ``fleet_gpus`` GPUs when
    jobs are drawn from these (GPUs, duration) pairs."""
    g, d = _pairs(gpus, duration_s)
    if fleet_gpus <= 0:
        raise ValueError(f"fleet_gpus: {fleet_gpus} is not a positive count")
    if not 0 < target_utilization <= 1:
        raise ValueError(f"target utilization: {target_utilization} is not above 0 and at most 1")
    work = float(np.mean(g * d))
    if work <= 0:
        raise ValueError("the sample asks no GPU-seconds: every duration is 0")
    return target_utilization * fleet_gpus / work


def resampled_jobs(
    gpus: npt.ArrayLike,
    duration_s: npt.ArrayLike,
    *,
    jobs: int,
    fleet_gpus: int,
    target_utilization: float,
    seed: int = 0,
) -> Iterator[JobSpec]:
    """``jobs`` job specs resampled from the pairs (see the module doc), in arrival
    order from 0, ids ``syn-0``, ``syn-1``..., oracle estimates."""
    if jobs < 0:
        raise ValueError(f"jobs: {jobs} is negative")
    g, d = _pairs(gpus, duration_s)
    rate = arrival_rate_per_s(g, d, fleet_gpus, target_utilization)
    rng = np.random.default_rng(seed)
    now = 0.0
    for first in range(0, jobs, CHUNK):
        n = min(CHUNK, jobs - first)
        pick = rng.integers(0, len(g), n)
        gaps = rng.exponential(1.0 / rate, n)
        if first == 0:
            gaps[0] = 0.0  # the first job arrives at 0
        arrivals = now + np.cumsum(gaps)
        now = float(arrivals[-1])
        sizes, runs = g[pick].tolist(), d[pick].tolist()
        for k, (at, size, run) in enumerate(zip(arrivals.tolist(), sizes, runs, strict=True)):
            yield JobSpec(f"syn-{first + k}", at, int(size), run, run)


def _pairs(gpus: npt.ArrayLike, duration_s: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    g = np.asarray(gpus, np.int64)
    d = np.asarray(duration_s, np.float64)
    if g.ndim != 1 or g.shape != d.shape or not g.size:
        raise ValueError("gpus and duration_s: one value each per sampled job, at least one job")
    if (g <= 0).any():
        raise ValueError("gpus: every sampled job needs at least one GPU")
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError("duration_s: every sampled duration is a finite number of seconds, 0 or more")
    return g, d
