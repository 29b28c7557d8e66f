"""How fast do the trace readers stream the real traces in ../shared/traces?

For one shipped file per format, the script reads every job with
``neocloud.adapters.traces.read_jobs`` (nothing kept but a count) ``--repeat`` times in
this process and reports the first read (cold: imports done, caches such as Pollux's
profiles empty) and the median of all reads, in wall seconds and CPU seconds
(``time.process_time``, which moves less than wall time on a shared machine). A
``philly csv only`` row reads the same Philly file with ``gzip`` and ``csv`` alone:
the floor under any reader. The budget in issue 12 is the 10-s Philly replay; the
reader should take well under 1 s of it.

    .venv/bin/python benchmarks/trace_read.py [--traces ../shared/traces] [--repeat 5] [--out /tmp/trace_read.json]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from neocloud.adapters.traces import read_jobs

REPO = Path(__file__).resolve().parents[1]
FILES = {
    "philly": "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz",
    "philly-vc": "microsoft-philly-2017/derived_pollux_philly_jobs_with_vc.csv.gz",
    "tiresias": "tiresias-nsdi19/60_job.csv",
    "pollux": "pollux-osdi21-workloads/workloads/workload-1.csv",
    "sia": "sia-sosp23-workloads/philly/workload-1.csv",
    "chronus": "chronus-socc21-philly-slo/trace_job_Philly_MIX1.csv.gz",
    "crux": "alibaba-lingjun-crux-2023/derived_rfold_crux_jobs.csv",
    "openb": "alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--traces", type=Path, default=REPO.parent / "shared" / "traces")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/trace_read.json"))
    args = parser.parse_args()
    if not args.traces.is_dir():
        sys.exit(f"no traces at {args.traces}")
    results = [measure(fmt, args.traces / name, args.repeat) for fmt, name in FILES.items()]
    philly = args.traces / FILES["philly"]
    results.append(timed("philly csv only", philly, lambda: _csv_rows(philly), args.repeat))
    print_table(results)
    report = {"machine": machine(), "repeat": args.repeat, "results": results}
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


def measure(fmt: str, path: Path, repeat: int) -> dict[str, Any]:
    """Read every job of ``path`` ``repeat`` times."""
    return timed(fmt, path, lambda: sum(1 for _ in read_jobs(fmt, path)), repeat)


def timed(name: str, path: Path, read: Callable[[], int], repeat: int) -> dict[str, Any]:
    walls, cpus, rows = [], [], 0
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        rows = read()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    wall = statistics.median(walls)
    return {
        "format": name,
        "file": path.name,
        "rows": rows,
        "first_wall_s": round(walls[0], 4),
        "median_wall_s": round(wall, 4),
        "median_cpu_s": round(statistics.median(cpus), 4),
        "rows_per_s": round(rows / wall) if wall else None,
    }


def _csv_rows(path: Path) -> int:
    with gzip.open(path, "rt", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'format':<16} {'rows':>8} {'first s':>8} {'median s':>9} {'cpu s':>7} {'rows/s':>10}")
    for r in results:
        print(
            f"{r['format']:<16} {r['rows']:>8,} {r['first_wall_s']:>8.3f} {r['median_wall_s']:>9.3f}"
            f" {r['median_cpu_s']:>7.3f} {r['rows_per_s'] or 0:>10,}"
        )


def machine() -> dict[str, Any]:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpus": os.cpu_count(),
        "load_average_1m": load,
    }


if __name__ == "__main__":
    main()
