"""How fast does the full Philly job list replay on the Philly inventory, and where does the time go?

Issue 12 section 8: all 111,549 jobs of the rfold Philly list on the 552 machines and
2,490 GPUs of ``cluster_machine_list.csv``, count placement, the default restart cost;
targets: FIFO with backfill under 10 s, 2D-LAS under 20 s on this 2-core machine.
The trace is read into job specs and the fleet built before the clock starts (the
reader's own cost is ``benchmarks/trace_read.py``); each policy runs ``--repeat``
times in this process (median wall, and CPU seconds, which move less on a shared
machine), then once under cProfile for the table of where the time goes.

    .venv/bin/python benchmarks/sim_replay.py [--traces ../shared/traces] [--policies backfill,las,fifo]
        [--repeat 3] [--top 12] [--out /tmp/sim_replay.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine, profile_table  # beside this script (python benchmarks/sim_replay.py)
from neocloud import bootstrap
from neocloud.domain.spec import build_fleet
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import build_snapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.jobs import JobSpec
from neocloud.scheduling.policies import POLICIES
from neocloud.sim.driver import simulate
from neocloud.sim.metrics import summarize
from neocloud.sim.workload import job_specs

REPO = Path(__file__).resolve().parents[1]
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"
MACHINES = "microsoft-philly-2017/cluster_machine_list.csv"
TARGET_S = {"backfill": 10.0, "las": 20.0}  # issue 12 section 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--policies", default="backfill,las,fifo")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("/tmp/sim_replay.json"))
    args = parser.parse_args()
    if not (args.traces / PHILLY).is_file():
        sys.exit(f"no Philly trace under {args.traces}")
    rows = [measure(args.traces, p, args.repeat, args.top) for p in args.policies.split(",")]
    print_table(rows)
    for row in rows:
        print(f"\nwhere the time goes, {row['policy']} (cProfile, own time):\n{row['profile']}")
    args.out.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


def setup(traces: Path) -> tuple[Cluster, list[JobSpec]]:
    inventory = traces / MACHINES
    fleet = build_fleet(bootstrap.importers()["philly"](inventory), file=str(inventory))
    cluster = Cluster(GpuPool(build_snapshot(fleet)), tenants=())
    return cluster, list(job_specs(bootstrap.trace_jobs("philly", traces / PHILLY), cluster.tenant))


def measure(traces: Path, policy: str, repeat: int, top: int) -> dict[str, Any]:
    walls, cpus = [], []
    load_before = os.getloadavg()[0]
    summary: Any = None
    for _ in range(repeat):
        cluster, specs = setup(traces)
        c0, t0 = time.process_time(), time.perf_counter()
        run = simulate(cluster, specs, POLICIES[policy](), JobPlacement.COUNT)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        summary = summarize(run)
    cluster, specs = setup(traces)
    prof = cProfile.Profile()
    prof.enable()
    simulate(cluster, specs, POLICIES[policy](), JobPlacement.COUNT)
    prof.disable()
    return {
        "policy": policy,
        "jobs": summary.finished,
        "gpus": cluster.pool.snap.total_gpus,
        "cycles": summary.cycles,
        "preemptions": summary.preemptions,
        "jct_mean_s": summary.jct_mean_s,
        "utilization_mean": summary.utilization_mean,
        "median_wall_s": statistics.median(walls),
        "median_cpu_s": statistics.median(cpus),
        "walls_s": walls,
        "target_s": TARGET_S.get(policy),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "profile": profile_table(prof, top),
    }


def print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'policy':<10}{'jobs':>9}{'cycles':>9}{'preempt':>9}{'util':>7}"
        f"{'wall s':>8}{'CPU s':>8}{'target':>8}{'load':>6}"
    )
    for r in rows:
        target = f"< {r['target_s']:g}" if r["target_s"] else "-"
        print(
            f"{r['policy']:<10}{r['jobs']:>9,}{r['cycles']:>9,}{r['preemptions']:>9,}{r['utilization_mean']:>7.1%}"
            f"{r['median_wall_s']:>8.2f}{r['median_cpu_s']:>8.2f}{target:>8}{r['load_before']:>6.1f}"
        )


if __name__ == "__main__":
    main()
