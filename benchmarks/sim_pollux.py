"""Pollux workloads 1-4 under our 2D-LAS beside the Tiresias JCTs Pollux's artifact published.

Issue 12 section 7: the 1.0x-load workloads (160 jobs each over about 8 h) on Pollux's
testbed, 16 nodes x 4 GPUs (``gpus:64x4``), our ``las`` with Pollux's 30-s restart
delay (``neocloud.adapters.traces.profiles.RESTART_DELAY_S``) and count placement.
Published beside it (../shared/traces/pollux-osdi21-workloads/published_results_jobload/
tiresias-1.0/summary.json, petuum/adaptdl osdi21-artifact): the mean JCT of each
workload, and the 1.122-h average over its eight workloads (published-results.md
section 2). Caveat: Pollux's Tiresias baseline runs "+TunedJobs" (each job's batch
size and GPU count tuned beforehand) in Pollux's own simulator; our durations are the
rigid run times of the file's replicas and batch size (docs/simulator.md, pollux), so
this is a benchmark row, not a test with a tolerance.

    .venv/bin/python benchmarks/sim_pollux.py [--traces ../shared/traces] [--out /tmp/sim_pollux.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine  # beside this script (python benchmarks/sim_pollux.py)
from neocloud import bootstrap
from neocloud.adapters.traces.profiles import RESTART_DELAY_S
from neocloud.domain.spec import build_fleet
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import build_snapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.policies import POLICIES
from neocloud.sim.clusters import uniform_fleet
from neocloud.sim.driver import simulate
from neocloud.sim.metrics import summarize
from neocloud.sim.workload import job_specs

REPO = Path(__file__).resolve().parents[1]
POLLUX = "pollux-osdi21-workloads"
PUBLISHED_AVERAGE_H = 1.122  # published-results.md section 2: Tiresias (+TunedJobs), 1.0x, 8 workloads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--out", type=Path, default=Path("/tmp/sim_pollux.json"))
    args = parser.parse_args()
    root = args.traces / POLLUX
    if not root.is_dir():
        sys.exit(f"no Pollux workloads under {args.traces}")
    published = json.loads((root / "published_results_jobload/tiresias-1.0/summary.json").read_text())["jcts"]
    rows = [replay(root, n, published) for n in (1, 2, 3, 4)]
    print_table(rows)
    doc = {"machine": machine(), "restart_s": RESTART_DELAY_S, "published_average_h": PUBLISHED_AVERAGE_H}
    args.out.write_text(json.dumps({**doc, "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


def replay(root: Path, n: int, published: dict[str, dict[str, float]]) -> dict[str, Any]:
    cluster = Cluster(GpuPool(build_snapshot(build_fleet(uniform_fleet(64, 4)))), restart_s=RESTART_DELAY_S)
    trace = bootstrap.trace_jobs("pollux", root / "workloads" / f"workload-{n}.csv")
    t0 = time.perf_counter()
    run = simulate(cluster, job_specs(trace, cluster.tenant), POLICIES["las"](), JobPlacement.COUNT)
    wall = time.perf_counter() - t0
    s = summarize(run)
    theirs = published[f"workload-{n}"]
    return {
        "workload": n,
        "jobs": s.finished,
        "ours_jct_mean_h": s.jct_mean_s / 3600,
        "ours_makespan_h": s.makespan_s / 3600,
        "ours_preemptions": s.preemptions,
        "published_tiresias_jct_mean_h": statistics.mean(theirs.values()) / 3600,
        "published_jobs": len(theirs),
        "wall_s": wall,
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'workload':<10}{'jobs':>6}{'ours JCT h':>12}{'Tiresias h':>12}{'ratio':>7}{'preempt':>9}{'wall s':>8}")
    for r in rows:
        ratio = r["ours_jct_mean_h"] / r["published_tiresias_jct_mean_h"]
        print(
            f"{r['workload']:<10}{r['jobs']:>6}{r['ours_jct_mean_h']:>12.3f}{r['published_tiresias_jct_mean_h']:>12.3f}"
            f"{ratio:>7.2f}{r['ours_preemptions']:>9}{r['wall_s']:>8.2f}"
        )
    ours = statistics.mean(r["ours_jct_mean_h"] for r in rows)
    theirs = statistics.mean(r["published_tiresias_jct_mean_h"] for r in rows)
    print(f"{'mean 1-4':<10}{'':>6}{ours:>12.3f}{theirs:>12.3f}{ours / theirs:>7.2f}")
    print(f"published Tiresias average over workloads 1-8: {PUBLISHED_AVERAGE_H:.3f} h")


if __name__ == "__main__":
    main()
