"""What do per-GPU serials cost when a large fleet is expanded and validated?

The fleet of ``benchmarks/fleet_scale.py`` (two colossus-1 sites and a colossus-2
phase: 570,064 GPUs in 92,516 nodes), built by ``build_fleet`` from the presets as
they are (every node group with a ``gpu_serial_pattern``, so 570,064 GPU serials to
format and check for uniqueness) and with the pattern taken out (no GPU serials, as
before issue 11 §5). Each variant runs in a fresh Python process; the script reports
the CPU seconds of ``build_fleet`` (user + system of the process, which on a shared
machine moves much less than wall time) and its wall seconds, and the process's peak
RSS (interpreter and imports included). Median of ``--repeat`` runs.

    .venv/bin/python benchmarks/gpu_serials.py [--repeat 3] [--out /tmp/gpu_serials.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

VARIANTS = ("with_gpu_serials", "without")


def run_variant(variant: str) -> dict[str, float]:
    """Build the fleet in this process; CPU and wall seconds, peak RSS, GPU serials."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fleet_scale import fleet_spec
    from neocloud.domain.spec import build_fleet

    spec = fleet_spec()
    if variant == "without":
        spec = _without_gpu_serials(spec)
    before, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    fleet = build_fleet(spec)
    wall, after = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(after.ru_maxrss / 1024, 1),
        "gpus": fleet.gpu_count,
        "gpu_serials": sum(len(n.gpu_serials) for n in fleet.nodes),
    }


def _without_gpu_serials(spec: Any) -> Any:
    sites = tuple(
        replace(
            site,
            pods=tuple(
                replace(
                    pod,
                    blocks=tuple(
                        replace(b, node_groups=tuple(replace(g, gpu_serial_pattern=None) for g in b.node_groups))
                        for b in pod.blocks
                    ),
                )
                for pod in site.pods
            ),
        )
        for site in spec.sites
    )
    return replace(spec, sites=sites)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/gpu_serials.json"))
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)  # a child process's one run
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(run_variant(args.variant)))
        return
    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    for _ in range(args.repeat):
        for variant in VARIANTS:  # interleaved, so that load on the machine hits both alike
            done = subprocess.run(
                [sys.executable, __file__, "--variant", variant], capture_output=True, text=True, check=True
            )
            results[variant].append(json.loads(done.stdout))
    summary = {v: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for v, runs in results.items()}
    print(f"gpu_serials: build_fleet of {summary['without']['gpus']:,.0f} GPUs, median of {args.repeat}")
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print(f"{'variant':<18}{'GPU serials':>12}{'cpu s':>8}{'wall s':>8}{'peak RSS MB':>13}")
    for variant, m in summary.items():
        print(f"{variant:<18}{m['gpu_serials']:>12,.0f}{m['cpu_s']:>8.2f}{m['wall_s']:>8.2f}{m['peak_rss_mb']:>13.0f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"summary": summary, "runs": results}, indent=2))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
