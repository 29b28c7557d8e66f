"""How long a 12-point sweep takes on 1 and 2 local processes and through a local Ray instance.

Issue 13 section 4: the Philly window 40,000-49,999 (10,000 jobs) on ``gpus:1024x8``,
``fifo`` and ``las`` x 3 seeds x load factors 1 and 1.5, lease fraction 0, with node
failures on (so the seeds differ), count placement. Each executor runs the same grid
through ``neocloud.cli.sweep_executors`` (what ``neocloud sim sweep`` calls): in this
process one point after the other (``--workers 1``), on 2 spawned processes
(``--workers 2``), and as Ray tasks on a local instance with 2 CPUs (``--ray local
--workers 2``; starting and stopping the instance is timed apart). Every executor
starts with nothing read, so each worker's reading of the trace is in its wall time.
The rows must be the same everywhere (wall times aside); the script says so.

    .venv/bin/python benchmarks/sim_sweep.py [--traces ../shared/traces] [--no-ray] [--out /tmp/sim_sweep.json]

Prints a table; numbers go in docs/benchmarks.md with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine  # beside this script (python benchmarks/sim_sweep.py)
from neocloud.cli import sweep_executors as ex
from neocloud.sim.sweep import Grid, Row
from neocloud.sim.workload import Window

REPO = Path(__file__).resolve().parents[1]
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray run")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sim_sweep.json"))
    args = parser.parse_args()
    trace = args.traces / PHILLY
    if not trace.is_file():
        sys.exit(f"no Philly trace at {trace}")
    grid = Grid(
        policies=("fifo", "las"),
        seeds=(0, 1, 2),
        loads=(1.0, 1.5),
        lease_fractions=(0.0,),
        trace=f"philly:{trace.resolve()}",
        cluster="gpus:1024x8",
        window=Window(40_000, 49_999),
        failures=True,
    )
    points = grid.points()
    runs: list[dict[str, Any]] = []
    reference: list[Row] | None = None
    modes: list[tuple[str, Any]] = [
        ("local, 1 worker (this process)", lambda: ex.run_local(points, 1)),
        ("local, 2 processes", lambda: ex.run_local(points, 2)),
    ]
    if not args.no_ray:
        modes.append(("Ray, local instance, 2 CPUs", lambda: _ray(points)))
    for name, execute in modes:
        ex._inputs.clear()  # every executor starts with nothing read
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        result = execute()
        wall = time.perf_counter() - started
        rows, extra = result if isinstance(result, tuple) else (result, {})
        same = reference is None or _strip(rows) == _strip(reference)
        reference = reference or rows
        runs.append(
            {
                "executor": name,
                "wall_s": round(wall, 2),
                "replays_s": round(sum(r.wall_s for r in rows), 2),
                "same_rows": same,
                "load_average_1m_before": load_before,
                "load_average_1m_after": os.getloadavg()[0],
                **extra,
            }
        )
        print(f"{name}: {wall:.2f} s", file=sys.stderr)
    _table(runs, reference or [])
    doc = {"machine": machine(), "points": len(points), "runs": runs, "rows": [r.as_dict() for r in reference or []]}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"\nwritten: {args.out}")


def _ray(points: Any) -> tuple[list[Row], dict[str, float]]:
    """The points through the CLI's Ray executor (a local instance started, the tasks,
    the instance stopped), and apart from it what starting and stopping an instance
    with no task costs, to say where the time goes."""
    ray = ex.import_ray()
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    up = time.perf_counter() - started
    started = time.perf_counter()
    ray.shutdown()
    down = time.perf_counter() - started
    return ex.run_ray(points, "local", 2), {"ray_start_s": round(up, 2), "ray_stop_s": round(down, 2)}


def _strip(rows: list[Row]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.as_dict().items() if k != "wall_s"} for r in rows]


def _table(runs: list[dict[str, Any]], rows: list[Row]) -> None:
    print(f"{'executor':34} {'wall s':>8} {'replays s':>10} {'same rows':>10} {'load 1m':>8}")
    for run in runs:
        print(
            f"{run['executor']:34} {run['wall_s']:8.2f} {run['replays_s']:10.2f} {run['same_rows']!s:>10}"
            f" {run['load_average_1m_before']:8.2f}"
        )
    for run in runs:
        if "ray_start_s" in run:
            print(f"Ray alone (no task): start {run['ray_start_s']:.2f} s, stop {run['ray_stop_s']:.2f} s")
    print(f"\n{'policy':6} {'load':>4} {'seed':>4} {'JCT mean s':>11} {'interrupts':>10} {'replay s':>9}")
    for r in rows:
        print(f"{r.policy:6} {r.load:4g} {r.seed:4d} {r.jct_mean_s:11,.0f} {r.interruptions:10d} {r.wall_s:9.2f}")


if __name__ == "__main__":
    main()
