"""How fast is ``sim pack``, and how close to the FGD paper's published allocation?

Runs the FGD experiment on openb ``default`` (8,152 pods, the 1,213 GPU nodes, 6,212
GPUs, inflated to 130%) for each of the six policies and each seed (42-51 by
default), one run at a time in this process, and prints per policy: the seconds per
run (median and slowest, wall and CPU, ``time.process_time``, which moves less than
wall time on a shared machine), pods per second, our allocation at 100% and 130%
(mean of the seeds), the published means from the artifact's raw file and the
difference at 130%. The artifact itself takes about 10 minutes per run on 2 vCPU
(its experiments/README.md).

    .venv/bin/python benchmarks/sim_pack.py [--traces ../shared/traces] [--seeds 42-51]
        [--policies fgd,bestfit] [--out /tmp/sim_pack.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from neocloud import bootstrap
from neocloud.placement.packing_scores import POLICY_NAMES
from neocloud.sim.pack import PackResult, experiment

REPO = Path(__file__).resolve().parents[1]
OPENB = "alibaba-gpu-v2023-openb"
PUBLISHED = f"{OPENB}/fgd_expected_results/analysis_allo_discrete.csv"
ARTIFACT = {"random": "01-Random", "dotprod": "02-DotProd", "gpuclustering": "03-GpuClustering"}
ARTIFACT |= {"gpupacking": "04-GpuPacking", "bestfit": "05-BestFit", "fgd": "06-FGD"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--seeds", default="42-51", help="FIRST-LAST")
    parser.add_argument("--policies", default=",".join(POLICY_NAMES))
    parser.add_argument("--out", type=Path, default=Path("/tmp/sim_pack.json"))
    args = parser.parse_args()
    if not args.traces.is_dir():
        sys.exit(f"no traces at {args.traces}")
    first, _, last = args.seeds.partition("-")
    seeds = list(range(int(first), int(last or first) + 1))
    csvs = args.traces / OPENB / "csv"
    nodes = bootstrap.pack_nodes(csvs / "openb_node_list_gpu_node.csv")
    pods = list(bootstrap.trace_jobs("openb", csvs / "openb_pod_list_default.csv"))
    published = read_published(args.traces / PUBLISHED, seeds)
    load_before = os.getloadavg()[0]
    results = [measure(nodes, pods, policy, seeds, published) for policy in args.policies.split(",")]
    print_table(results)
    report = {"machine": machine(), "load_average_1m_before": load_before, "seeds": seeds, "results": results}
    print(f"load average (1 min): {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def read_published(path: Path, seeds: list[int]) -> dict[str, dict[str, float]]:
    """Per artifact policy name: the mean at 100% and 130% over ``seeds`` on default."""
    rows: dict[str, list[dict[str, str]]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            if row["workload"] == "openb_pod_list_default" and int(row["seed"]) in seeds:
                rows.setdefault(row["sc_policy"], []).append(row)
    return {
        name: {k: round(statistics.mean(float(r[k]) for r in group), 2) for k in ("100", "130")}
        for name, group in rows.items()
    }


def measure(nodes: Any, pods: Any, policy: str, seeds: list[int], published: dict[str, Any]) -> dict[str, Any]:
    walls, cpus, runs = [], [], []
    for seed in seeds:
        wall, cpu = time.perf_counter(), time.process_time()
        result: PackResult = experiment(nodes, pods, policy, seeds=[seed])
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        runs.extend(result.runs)
    mean = PackResult(policy, 1.3, tuple(runs)).allocation_pct()
    theirs = published.get(ARTIFACT[policy], {})
    row = {
        "policy": policy,
        "runs": len(seeds),
        "pods_per_run": statistics.mean(r.pods for r in runs),
        "wall_s_median": round(statistics.median(walls), 3),
        "wall_s_max": round(max(walls), 3),
        "cpu_s_median": round(statistics.median(cpus), 3),
        "pods_per_s": round(statistics.mean(r.pods for r in runs) / statistics.median(walls)),
        "ours_100": mean["100"],
        "ours_130": mean["130"],
        "ours_130_per_seed": [r.curve(130)["130"] for r in runs],
        "published_100": theirs.get("100"),
        "published_130": theirs.get("130"),
    }
    row["diff_130"] = None if row["published_130"] is None else round(row["ours_130"] - row["published_130"], 2)
    return row


def print_table(results: list[dict[str, Any]]) -> None:
    head = ("policy", "s/run", "max s", "cpu s", "pods/s", "ours 100", "pub 100", "ours 130", "pub 130", "diff")
    print(" ".join(f"{h:>9}" for h in head))
    for r in results:
        cells = (
            r["policy"][:9],
            f"{r['wall_s_median']:.2f}",
            f"{r['wall_s_max']:.2f}",
            f"{r['cpu_s_median']:.2f}",
            f"{r['pods_per_s']:,}",
            f"{r['ours_100']:.2f}",
            _f(r["published_100"]),
            f"{r['ours_130']:.2f}",
            _f(r["published_130"]),
            _f(r["diff_130"], sign=True),
        )
        print(" ".join(f"{c:>9}" for c in cells))


def _f(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.2f}" if sign else f"{value:.2f}"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
        "load_average_1m_after": os.getloadavg()[0],
    }


if __name__ == "__main__":
    main()
