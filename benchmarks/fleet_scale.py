"""How fast does a ~500k-GPU, three-site fleet generate, load, validate and snapshot?

The fleet: two colossus-1 sites (230,024 GPUs each: H100, H200 in HGX nodes and
GB200 NVL72) and one colossus-2-sized GB200 site at its first phase (110,016 GPUs,
[R46]), 570,064 GPUs and 92,516 nodes in all. Each phase runs in a fresh Python
process so that its peak RSS is its own (``ru_maxrss`` of the child, which includes
the interpreter and imports). Target (DESIGN.md): load + validate < 3 s and < 1.5 GB.

    .venv/bin/python benchmarks/fleet_scale.py [--repeat 3] [--out benchmarks/results/fleet_scale.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PHASES = ("generate", "generate_table", "load_yaml", "load_table", "snapshot")
TARGET_LOAD_S = 3.0
TARGET_RSS_MB = 1500.0


def fleet_spec() -> Any:
    from neocloud.domain.presets import preset
    from neocloud.domain.spec import FleetSpec

    parts = [
        preset("colossus-1", {"site_name": "colossus-1a", "prefix": "c1a"}),
        preset("colossus-1", {"site_name": "colossus-1b", "prefix": "c1b"}),
        preset("colossus-2", {"gb200_gpus": "110000"}),
    ]
    return FleetSpec(name="three-campus", sites=tuple(s for p in parts for s in p.sites))


def run_phase(phase: str, workdir: Path) -> dict[str, float]:
    """Run one phase in this process; return seconds and peak RSS."""
    from neocloud.adapters.fleetfile.io import load_fleet, save_spec
    from neocloud.domain.spec import build_fleet, spec_from_fleet
    from neocloud.placement.snapshot import build_snapshot

    yaml_path, table_yaml = workdir / "fleet.yaml", workdir / "fleet-table.yaml"
    extra: dict[str, float] = {}
    t0 = time.perf_counter()
    if phase == "generate":
        spec = fleet_spec()
        build_fleet(spec)
        save_spec(spec, yaml_path)
    elif phase == "generate_table":
        fleet = build_fleet(fleet_spec())
        save_spec(spec_from_fleet(fleet, table_path="fleet-table.nodes.csv", name="three-campus"), table_yaml)
    elif phase in ("load_yaml", "load_table"):
        fleet = load_fleet(yaml_path if phase == "load_yaml" else table_yaml)
        extra = {"gpus": fleet.gpu_count, "nodes": len(fleet.nodes)}
    elif phase == "snapshot":
        fleet = load_fleet(yaml_path)
        t0 = time.perf_counter()
        snap = build_snapshot(fleet)
        extra = {"gpus": snap.total_gpus, "blocks": len(snap.block_names), "domains": len(snap.domain_ids)}
    seconds = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {"seconds": seconds, "peak_rss_mb": rss_mb, **extra}


def measure(phase: str, workdir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", phase, "--workdir", str(workdir)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/fleet_scale.json"))
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.workdir)))
        return
    rows: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for phase in PHASES:
            runs = [measure(phase, work) for _ in range(args.repeat)]
            rows[phase] = {
                "seconds_median": statistics.median(r["seconds"] for r in runs),
                "seconds_runs": [round(r["seconds"], 3) for r in runs],
                "peak_rss_mb_max": max(r["peak_rss_mb"] for r in runs),
                **{k: v for k, v in runs[0].items() if k not in ("seconds", "peak_rss_mb")},
            }
        sizes = {p.name: p.stat().st_size for p in sorted(work.iterdir()) if not p.name.startswith(".")}
    report = {
        "benchmark": "fleet_scale",
        "machine": f"{platform.machine()}, {_cores()} cores, Python {platform.python_version()}",
        "fleet": "2 x colossus-1 + colossus-2 phase 1 (gb200_gpus=110000)",
        "targets": {"load_validate_s": TARGET_LOAD_S, "peak_rss_mb": TARGET_RSS_MB},
        "file_bytes": sizes,
        "phases": rows,
    }
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def _print(report: dict[str, Any]) -> None:
    print(f"fleet_scale: {report['fleet']}\nmachine: {report['machine']}")
    print(f"{'phase':<16}{'median s':>10}{'peak RSS MB':>13}  runs")
    for phase, row in report["phases"].items():
        print(f"{phase:<16}{row['seconds_median']:>10.3f}{row['peak_rss_mb_max']:>13.0f}  {row['seconds_runs']}")
    for name, size in report["file_bytes"].items():
        print(f"  {name}: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
