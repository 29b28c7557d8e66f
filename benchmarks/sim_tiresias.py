"""Our FIFO and 2D-LAS against Tiresias' own simulator on the same Philly window, side by side.

Issue 12 sections 7 and 8: the Philly window 40,000-49,999 (10,000 jobs in arrival
order, re-based to start at 0) on 128 nodes x 8 GPUs with count placement. The script

1. converts the window to Tiresias' CSV (``job_id,num_gpu,submit_time,iterations,
   model_name,duration,interval``; whole seconds, as Tiresias truncates durations
   itself; ``model_name`` resnet50 and ``iterations`` 1, which its ``count`` scheme and
   its schedulers do not use) and a cluster spec of 4 switches x 32 nodes x 8 GPUs,
   both under ``--work`` (default /tmp/sim_tiresias);
2. runs Tiresias' ``simulator/run_sim.py`` (a checkout of SymbioticLab/Tiresias given
   by ``--tiresias``) with ``--python2`` and ``--scheme=count``, schedules ``fifo`` and
   ``dlas-gpu``, and reads the JCTs from its ``job.csv``;
3. replays the same window with ours (``las`` and ``fifo``, ``--restart-s 0``: Tiresias
   charges nothing to resume), in this process, ``--repeat`` times (median wall);
4. prints JCT mean / p50 / p99, makespan and wall time of both, our JCT relative to
   theirs, and the speedup, and writes everything as JSON to ``--out``.

With ``--profile`` it also prints where our time goes (cProfile, top functions by own
time) for each policy.

    .venv/bin/python benchmarks/sim_tiresias.py --tiresias /tmp/Tiresias/simulator \\
        --python2 /root/.pyenv/versions/2.7.18/bin/python2.7 --pythonpath /tmp/py2lib \\
        [--traces ../shared/traces] [--repeat 3] [--profile] [--out /tmp/sim_tiresias.json]

Without ``--tiresias`` only our side runs. Numbers go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from _sim_bench import machine, profile_table  # beside this script (python benchmarks/sim_tiresias.py)
from neocloud import bootstrap
from neocloud.domain.spec import build_fleet
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import build_snapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.policies import POLICIES
from neocloud.sim.clusters import uniform_fleet
from neocloud.sim.driver import simulate
from neocloud.sim.metrics import summarize
from neocloud.sim.workload import Window, job_specs

REPO = Path(__file__).resolve().parents[1]
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"
FIRST, LAST = 40_000, 49_999
SWITCHES, NODES_PER_SWITCH, GPUS_PER_NODE = 4, 32, 8  # 1,024 GPUs: gpus:1024x8
SCHEDULES = {"fifo": "fifo", "las": "dlas-gpu"}  # ours -> Tiresias'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--tiresias", type=Path, help="Tiresias' simulator/ folder (a checkout)")
    parser.add_argument("--python2", default="python2.7")
    parser.add_argument("--pythonpath", default="", help="where numpy<1.17 for Python 2.7 lives")
    parser.add_argument("--work", type=Path, default=Path("/tmp/sim_tiresias"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sim_tiresias.json"))
    args = parser.parse_args()
    trace = args.traces / PHILLY
    if not trace.is_file():
        sys.exit(f"no Philly trace at {trace}")
    args.work.mkdir(parents=True, exist_ok=True)
    job_file, spec_file = convert(trace, args.work)
    rows = []
    for ours, theirs in SCHEDULES.items():
        row: dict[str, Any] = {"policy": ours, "tiresias_schedule": theirs, "load_before": os.getloadavg()[0]}
        row["ours"] = ours_run(trace, ours, args.repeat)
        if args.tiresias:
            row["tiresias"] = tiresias_run(args, theirs, job_file, spec_file)
            row["jct_mean_rel"] = row["ours"]["jct_mean_s"] / row["tiresias"]["jct_mean_s"] - 1
            row["speedup"] = row["tiresias"]["wall_s"] / row["ours"]["wall_s"]
        row["load_after"] = os.getloadavg()[0]
        if args.profile:
            row["profile"] = profile(trace, ours)
        rows.append(row)
    print_table(rows)
    for row in rows:
        if "profile" in row:
            print(f"\nwhere our time goes, {row['policy']} (cProfile, own time):\n{row['profile']}")
    report = {"machine": machine(), "window": [FIRST, LAST], "rows": rows}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def convert(trace: Path, work: Path) -> tuple[Path, Path]:
    """The window as Tiresias' job CSV, and its cluster spec."""
    job_file = work / f"philly_{FIRST}_{LAST}.csv"
    with gzip.open(trace, "rt") as f:
        reader = csv.reader(f)
        next(reader)
        rows = [r for k, r in enumerate(reader) if FIRST <= k <= LAST]
    base = int(float(rows[0][1]))
    with job_file.open("w") as out:
        out.write("job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n")
        for k, r in enumerate(rows):
            out.write(f"{k},{int(r[4])},{int(float(r[1])) - base},1,resnet50,{int(float(r[5]))},0\n")
    spec_file = work / f"n{SWITCHES * NODES_PER_SWITCH}g{GPUS_PER_NODE}.csv"
    spec_file.write_text(
        "num_switch,num_node_p_switch,num_gpu_p_node,num_cpu_p_node,mem_p_node\n"
        f"{SWITCHES},{NODES_PER_SWITCH},{GPUS_PER_NODE},128,256\n"
    )
    return job_file, spec_file


def ours_run(trace: Path, policy: str, repeat: int) -> dict[str, Any]:
    walls: list[float] = []
    figures: dict[str, Any] = {}
    for _ in range(repeat):
        cluster, specs = _setup(trace)
        t0 = time.perf_counter()
        run = simulate(cluster, specs, POLICIES[policy](), JobPlacement.COUNT)
        walls.append(time.perf_counter() - t0)
        s = summarize(run)
        figures = {
            "jobs": s.finished,
            "jct_mean_s": s.jct_mean_s,
            "jct_p50_s": s.jct_p50_s,
            "jct_p99_s": s.jct_p99_s,
            "makespan_s": s.makespan_s,
            "preemptions": s.preemptions,
            "cycles": s.cycles,
        }
    return {**figures, "wall_s": statistics.median(walls), "walls_s": walls}


def _setup(trace: Path) -> tuple[Cluster, list[Any]]:
    """The cluster and the window's jobs, read before the clock starts (as Tiresias
    reads its whole file before simulating)."""
    fleet = build_fleet(uniform_fleet(SWITCHES * NODES_PER_SWITCH * GPUS_PER_NODE, GPUS_PER_NODE))
    cluster = Cluster(GpuPool(build_snapshot(fleet)), tenants=(), restart_s=0.0)
    specs = list(job_specs(bootstrap.trace_jobs("philly", trace), cluster.tenant, window=Window(FIRST, LAST)))
    return cluster, specs


def tiresias_run(args: argparse.Namespace, schedule: str, job_file: Path, spec_file: Path) -> dict[str, Any]:
    log = args.work / f"tiresias-{schedule}"
    cmd = [
        args.python2,
        "run_sim.py",
        f"--cluster_spec={spec_file}",
        "--scheme=count",
        f"--trace_file={job_file}",
        f"--schedule={schedule}",
        f"--log_path={log}",
    ]
    env = {**os.environ, "PYTHONPATH": args.pythonpath}
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=args.tiresias, env=env, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    with (log / "job.csv").open() as f:
        done = list(csv.DictReader(f))
    jct = np.array([float(r["JCT"]) for r in done])
    ends = np.array([float(r["end_time"]) for r in done])
    submits = np.array([float(r["submit_time"]) for r in done])
    return {
        "command": " ".join(cmd),
        "jobs": len(done),
        "jct_mean_s": float(jct.mean()),
        "jct_p50_s": float(np.percentile(jct, 50)),
        "jct_p99_s": float(np.percentile(jct, 99)),
        "makespan_s": float(ends.max() - submits.min()),
        "preemptions": sum(int(r["preempt"]) for r in done),
        "wall_s": wall,
    }


def profile(trace: Path, policy: str, top: int = 12) -> str:
    cluster, specs = _setup(trace)
    prof = cProfile.Profile()
    prof.enable()
    simulate(cluster, specs, POLICIES[policy](), JobPlacement.COUNT)
    prof.disable()
    return profile_table(prof, top)


def print_table(rows: list[dict[str, Any]]) -> None:
    head = f"{'run':<22}{'jobs':>7}{'JCT mean':>11}{'p50':>9}{'p99':>10}{'makespan':>11}{'preempt':>8}{'wall s':>9}"
    print(head)
    for row in rows:
        sides = [("ours " + row["policy"], row["ours"])]
        if "tiresias" in row:
            sides.append(("tiresias " + row["tiresias_schedule"], row["tiresias"]))
        for name, r in sides:
            print(
                f"{name:<22}{r['jobs']:>7,}{r['jct_mean_s']:>11,.0f}{r['jct_p50_s']:>9,.0f}{r['jct_p99_s']:>10,.0f}"
                f"{r['makespan_s']:>11,.0f}{r['preemptions']:>8,}{r['wall_s']:>9.2f}"
            )
        if "tiresias" in row:
            print(f"{'  ours vs theirs':<22}JCT mean {row['jct_mean_rel']:+.2%}, {row['speedup']:.0f}x faster")


if __name__ == "__main__":
    main()
