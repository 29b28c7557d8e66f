"""Can the simulator replay a synthetic month at campus scale: 1,000,000 jobs on 200,000 GPUs?

Issue 12 section 8: under 120 s and under 2 GB peak RSS. The workload is
``neocloud.sim.synthetic.resampled_jobs``: (GPUs, duration) pairs resampled with a seed
from the 111,549 jobs of the Philly list (a size keeps its own durations), arriving as
a Poisson process at the rate that offers ``--target`` of the fleet (default 0.47,
Philly's own offered load on its 2,490 GPUs: the same pressure, 80x the fleet). The
fleet is ``gpus:200000x8`` (25,000 nodes), count placement, the default restart cost.

Each policy runs in a fresh Python process (``--one``), so its peak RSS
(``ru_maxrss``) is its own: interpreter, imports, the Philly sample, the jobs (streamed
into the cluster, which keeps every job it has seen) and the run. The wall time covers
the replay only (generation streams inside it); ``--profile`` adds the cProfile table.

    .venv/bin/python benchmarks/sim_campus.py [--policies backfill,las] [--jobs 1000000] [--gpus 200000]
        [--target 0.47] [--seed 0] [--profile] [--out /tmp/sim_campus.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine, profile_table  # beside this script (python benchmarks/sim_campus.py)

REPO = Path(__file__).resolve().parents[1]
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--policies", default="backfill,las")
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--gpus", type=int, default=200_000)
    parser.add_argument("--target", type=float, default=0.47)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one policy here, print JSON
    parser.add_argument("--out", type=Path, default=Path("/tmp/sim_campus.json"))
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args, args.one)))
        return
    rows = []
    for policy in args.policies.split(","):
        cmd = [sys.executable, __file__, "--one", policy, *_passed(args)]
        done = subprocess.run(cmd, check=True, capture_output=True, text=True)
        rows.append(json.loads(done.stdout.splitlines()[-1]))
    print_table(rows)
    for row in rows:
        if row.get("profile"):
            print(f"\nwhere the time goes, {row['policy']} (cProfile, own time):\n{row['profile']}")
    args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


def _passed(args: argparse.Namespace) -> list[str]:
    out = ["--traces", str(args.traces), "--jobs", str(args.jobs), "--gpus", str(args.gpus)]
    out += ["--target", str(args.target), "--seed", str(args.seed)]
    return out + (["--profile"] if args.profile else [])


def one(args: argparse.Namespace, policy: str) -> dict[str, Any]:
    import numpy as np

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
    from neocloud.sim.synthetic import arrival_rate_per_s, resampled_jobs

    sample = [(j.gpus, j.duration_s or 0.0) for j in bootstrap.trace_jobs("philly", args.traces / PHILLY)]
    gpus = np.array([g for g, _ in sample])
    durations = np.array([d for _, d in sample])
    rate = arrival_rate_per_s(gpus, durations, args.gpus, args.target)
    cluster = Cluster(GpuPool(build_snapshot(build_fleet(uniform_fleet(args.gpus, 8)))))
    jobs = resampled_jobs(
        gpus, durations, jobs=args.jobs, fleet_gpus=args.gpus, target_utilization=args.target, seed=args.seed
    )
    prof = cProfile.Profile() if args.profile else None
    load_before = os.getloadavg()[0]
    c0, t0 = time.process_time(), time.perf_counter()
    if prof:
        prof.enable()
    run = simulate(cluster, jobs, POLICIES[policy](), JobPlacement.COUNT)
    if prof:
        prof.disable()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = summarize(run)
    return {
        "policy": policy,
        "jobs": s.jobs,
        "finished": s.finished,
        "gpus": args.gpus,
        "target_utilization": args.target,
        "arrival_rate_per_s": rate,
        "arrival_span_days": max(j.submit_s for j in cluster.jobs) / 86_400,
        "utilization_mean": s.utilization_mean,
        "jct_mean_s": s.jct_mean_s,
        "queue_mean_s": s.queue_mean_s,
        "preemptions": s.preemptions,
        "cycles": s.cycles,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "profiled": bool(prof),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "profile": profile_table(prof) if prof else "",
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'policy':<10}{'jobs':>11}{'span d':>8}{'util':>7}{'cycles':>10}"
        f"{'wall s':>8}{'CPU s':>8}{'RSS MB':>8}{'load':>6}"
    )
    for r in rows:
        print(
            f"{r['policy']:<10}{r['finished']:>11,}{r['arrival_span_days']:>8.1f}{r['utilization_mean']:>7.1%}"
            f"{r['cycles']:>10,}{r['wall_s']:>8.1f}{r['cpu_s']:>8.1f}{r['peak_rss_mb']:>8.0f}{r['load_before']:>6.1f}"
        )


if __name__ == "__main__":
    main()
