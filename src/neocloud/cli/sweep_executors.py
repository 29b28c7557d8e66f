"""Where a sweep's points or a keep-vs-lease study's fractions run: in this process,
on local processes, or as Ray tasks.

Every executor maps one module-level function (``run``: :func:`point_row` for a sweep,
``cli.plan_keep.fraction_kept`` for a study) over its tasks and returns the results in
the tasks' order, whatever order they finish in, so the results are the same for the
same tasks wherever they ran (a sweep row's ``wall_s`` aside). A worker reads its inputs
itself, once per process (:func:`point_row`: the first point a worker gets reads the
trace and builds the cluster; the others reuse them). :func:`execute` picks the executor
from ``--workers`` and ``--ray`` and says where the tasks ran.

Ray is imported only here, inside :func:`run_ray`, so the product runs without it.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any, TypeVar

from rich.markup import escape

from neocloud.cli.sim_inputs import arrival_ordered, cluster_fleet, fail, trace_source
from neocloud.domain.workload import TraceJob
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot
from neocloud.sim.sweep import Point, Row, run_point

T = TypeVar("T")
R = TypeVar("R")
#: Called with the number of tasks finished so far, once per task.
Done = Callable[[int], None]
#: ``--ray`` addresses: ``local`` (start a Ray instance here), ``auto`` (the cluster
#: this machine belongs to), ``ray://host:port`` (Ray Client) or ``host:port`` (a GCS).
RAY_ADDRESS = re.compile(r"local|auto|(ray://)?[A-Za-z0-9_.\-]+:[0-9]{1,5}")

_inputs: dict[tuple[str, str], tuple[tuple[TraceJob, ...], FleetSnapshot]] = {}


class RayUnavailable(RuntimeError):
    """``--ray`` without ray installed, or a Ray cluster that cannot be reached."""


def ray_ready(address: str) -> None:
    """Exit 2 naming ``--ray`` unless ``address`` is well formed and ray is installed."""
    if not RAY_ADDRESS.fullmatch(address):
        fail(f"--ray {address!r}: expected local, auto, ray://HOST:PORT or HOST:PORT")
    try:
        import_ray()
    except RayUnavailable as exc:
        fail(escape(f"--ray {address}: {exc}"))


def execute(
    tasks: Sequence[T],
    run: Callable[[T], R],
    *,
    workers: int | None,
    ray: str | None,
    done: Done | None = None,
    here: Callable[[], None] | None = None,
) -> tuple[list[R], str]:
    """``run`` over ``tasks`` as ``--workers`` and ``--ray`` say (Ray at ``ray``; else up
    to ``workers`` local processes, the CPU count by default; in this process when that
    is one, after calling ``here``, which may hand this process the inputs it already
    read); the results in task order and where they ran, in words. A Ray cluster that
    cannot be reached exits 2 naming ``--ray``."""
    if ray is not None:
        try:
            results = run_ray(tasks, ray, workers, done, run=run)
        except RayUnavailable as exc:
            fail(escape(f"--ray {ray}: {exc}"))
            raise
        if ray == "local":
            return results, f"a local Ray instance ({workers or os.cpu_count()} CPUs)"
        return results, f"Ray at {ray}" + (f", {workers} tasks at once" if workers else "")
    count = min(workers or os.cpu_count() or 1, max(len(tasks), 1))
    if count <= 1 and here is not None:
        here()
    try:
        results = run_local(tasks, count, done, run=run)
    except BrokenProcessPool as exc:
        fail(escape(f"--workers {count}: a worker process ended abruptly ({exc}); out of memory? try fewer workers"))
        raise
    return results, f"{count} local process{'es' if count > 1 else ''}"


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


def run_here(tasks: Sequence[T], done: Done | None = None, *, run: Callable[[T], R]) -> list[R]:
    """One task after the other in this process (``--workers 1``)."""
    results = []
    for task in tasks:
        results.append(run(task))
        if done is not None:
            done(len(results))
    return results


def run_local(tasks: Sequence[T], workers: int, done: Done | None = None, *, run: Callable[[T], R]) -> list[R]:
    """The tasks on up to ``workers`` local processes, in task order. Workers are
    started fresh (``spawn``), as Ray's are: nothing of this process is inherited, so
    a worker reads the inputs itself."""
    if workers <= 1 or len(tasks) <= 1:
        return run_here(tasks, done, run=run)
    rows: dict[int, R] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        pending: dict[Future[R], int] = {pool.submit(run, p): k for k, p in enumerate(tasks)}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:  # one call per row, however many one wait returns
                    rows[pending.pop(future)] = future.result()
                    if done is not None:
                        done(len(rows))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [rows[k] for k in range(len(tasks))]


def import_ray() -> Any:
    """The ``ray`` module, or :class:`RayUnavailable` saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"ray is not installed here ({exc}); pip install 'neocloud[ray]'") from exc
    return ray


def run_ray(
    tasks: Sequence[T],
    address: str,
    workers: int | None,
    done: Done | None = None,
    *,
    run: Callable[[T], R],
) -> list[R]:
    """The tasks as Ray tasks (one CPU each), in task order. ``local`` starts a Ray
    instance on this machine with ``workers`` CPUs (all of them when ``None``) and stops
    it after; any other address connects to a running cluster, whose every node must
    have neocloud installed and the inputs at the same paths, and disconnects after;
    there ``workers`` caps the tasks in flight."""
    ray = import_ray()
    _start_ray(ray, address, workers)
    try:
        remote = ray.remote(num_cpus=1)(run)
        cap = len(tasks) if workers is None else max(workers, 1)
        rows: dict[int, R] = {}
        waiting = list(enumerate(tasks))[::-1]  # popped from the end: task order
        pending: dict[Any, int] = {}
        while waiting or pending:
            while waiting and len(pending) < cap:
                k, task = waiting.pop()
                pending[remote.remote(task)] = k
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                try:
                    rows[pending.pop(ref)] = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # the task's own error, not Ray's wrapping of it
                    if isinstance(exc.cause, Exception):
                        raise exc.cause from None
                    raise
                if done is not None:
                    done(len(rows))
        return [rows[k] for k in range(len(tasks))]
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
