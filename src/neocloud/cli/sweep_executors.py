"""Where a sweep's points run: in this process, on local processes, or as Ray tasks.

Every executor maps the same :func:`point_row` over the grid's points and returns the
rows in grid order, whatever order they finish in, so the rows are the same for the
same points wherever they ran (``wall_s`` aside). :func:`point_row` is what a worker
runs: it reads the trace and builds the cluster once per worker process (the first
point a worker gets reads them; the others reuse them), then runs
:func:`neocloud.sim.sweep.run_point` and measures its wall time.

Ray is imported only here, inside :func:`run_ray`, so the product runs without it.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from typing import Any

from neocloud.cli.sim_inputs import arrival_ordered, cluster_fleet, trace_source
from neocloud.domain.workload import TraceJob
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot
from neocloud.sim.sweep import Point, Row, run_point

#: Called with the number of points finished so far.
Done = Callable[[int], None]
#: What runs one point: :func:`point_row` (a module-level function, so that spawned
#: processes and Ray workers can import it by name).
RunPoint = Callable[[Point], Row]
#: ``--ray`` addresses: ``local`` (start a Ray instance here), ``auto`` (the cluster
#: this machine belongs to), ``ray://host:port`` (Ray Client) or ``host:port`` (a GCS).
RAY_ADDRESS = re.compile(r"local|auto|(ray://)?[A-Za-z0-9_.\-]+:[0-9]{1,5}")

_inputs: dict[tuple[str, str], tuple[tuple[TraceJob, ...], FleetSnapshot]] = {}


class RayUnavailable(RuntimeError):
    """``--ray`` without ray installed, or a Ray cluster that cannot be reached."""


def point_row(point: Point) -> Row:
    """Run ``point`` here; ``wall_s`` is the replay's own time (reading the inputs,
    once per process, is not in it)."""
    jobs, snapshot = inputs(point.trace, point.cluster)
    started = time.perf_counter()
    row = run_point(point, jobs, snapshot)
    return replace(row, wall_s=round(time.perf_counter() - started, 3))


def inputs(trace: str, cluster: str) -> tuple[tuple[TraceJob, ...], FleetSnapshot]:
    """The trace's jobs in arrival order and the cluster's snapshot, read once per process."""
    key = (trace, cluster)
    if key not in _inputs:
        fmt, path = trace_source(trace)
        _inputs[key] = (tuple(arrival_ordered(fmt, path)), build_snapshot(cluster_fleet(cluster)))
    return _inputs[key]


def keep_inputs(trace: str, cluster: str, jobs: tuple[TraceJob, ...], snapshot: FleetSnapshot) -> None:
    """Inputs this process already read (the command's checks did), for points run here."""
    _inputs[(trace, cluster)] = (jobs, snapshot)


def run_here(points: Sequence[Point], done: Done | None = None, run: RunPoint | None = None) -> list[Row]:
    """One point after the other in this process (``--workers 1``)."""
    each = run or point_row
    rows = []
    for point in points:
        rows.append(each(point))
        if done is not None:
            done(len(rows))
    return rows


def run_local(
    points: Sequence[Point], workers: int, done: Done | None = None, run: RunPoint | None = None
) -> list[Row]:
    """The points on up to ``workers`` local processes, in grid order. Workers are
    started fresh (``spawn``), as Ray's are: nothing of this process is inherited, so
    a worker reads the inputs itself."""
    if workers <= 1 or len(points) <= 1:
        return run_here(points, done, run)
    rows: dict[int, Row] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(points)), mp_context=context) as pool:
        pending: dict[Future[Row], int] = {pool.submit(run or point_row, p): k for k, p in enumerate(points)}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    rows[pending.pop(future)] = future.result()
                if done is not None:
                    done(len(rows))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [rows[k] for k in range(len(points))]


def import_ray() -> Any:
    """The ``ray`` module, or :class:`RayUnavailable` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"ray is not installed here ({exc}); pip install 'neocloud[ray]'") from exc
    return ray


def run_ray(
    points: Sequence[Point],
    address: str,
    workers: int | None,
    done: Done | None = None,
    run: RunPoint | None = None,
) -> list[Row]:
    """The points as Ray tasks (one CPU each), in grid order. ``local`` starts a Ray
    instance on this machine with ``workers`` CPUs (all of them when ``None``) and stops
    it after; any other address connects to a running cluster, whose every node must
    have neocloud installed and the trace at the same path, and disconnects after;
    there ``workers`` caps the tasks in flight."""
    ray = import_ray()
    _start_ray(ray, address, workers)
    try:
        task = ray.remote(num_cpus=1)(run or point_row)
        cap = len(points) if workers is None else max(workers, 1)
        rows: dict[int, Row] = {}
        waiting = list(enumerate(points))[::-1]  # popped from the end: grid order
        pending: dict[Any, int] = {}
        while waiting or pending:
            while waiting and len(pending) < cap:
                k, point = waiting.pop()
                pending[task.remote(point)] = k
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                rows[pending.pop(ref)] = ray.get(ref)
            if done is not None:
                done(len(rows))
        return [rows[k] for k in range(len(points))]
    finally:
        ray.shutdown()


def _start_ray(ray: Any, address: str, workers: int | None) -> None:
    quiet = {"log_to_driver": False, "logging_level": "ERROR", "configure_logging": True}
    try:
        if address == "local":
            ray.init(num_cpus=workers, include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailable(f"could not start or reach Ray at {address!r}: {exc}") from exc
