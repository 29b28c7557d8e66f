"""Does best-fit placement leave capacity less fragmented than naive first fit?

A seeded stream of lease requests arrives on the colossus-1 H100 capacity (150k
GPUs, 293 blocks of 512): sizes from 8 GPUs to 8,192 (block-local up to 512, pod-local
above), each held for a random duration; expired leases release their nodes. The same
stream is replayed with ``best_fit`` and ``first_fit``. Reported: requests accepted,
GPU-hours placed, and the fragmentation of free capacity sampled at every arrival
(stranded fraction: free GPUs in partly used blocks; free whole blocks).

    .venv/bin/python benchmarks/placement_fragmentation.py [--requests 3000] [--seed 1]
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from neocloud.domain.ledger import Draft, HolderKind, Ledger
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.placement.carve import Placement, Policy, carve
from neocloud.placement.fragmentation import measure
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
WEIGHTS = [20, 12, 10, 10, 8, 8, 10, 8, 6, 5, 3]
HOUR = 3600


def stream(n: int, seed: int) -> list[tuple[int, int, int]]:
    """(arrival_s, gpus, duration_s) with Poisson-ish arrivals, seeded."""
    rng = random.Random(seed)
    t = 0
    out = []
    for _ in range(n):
        t += int(rng.expovariate(1 / (2 * HOUR)))
        gpus = rng.choices(SIZES, WEIGHTS)[0]
        out.append((t, gpus, int(rng.uniform(24, 24 * 60)) * HOUR))
    return out


def replay(snap: FleetSnapshot, requests: list[tuple[int, int, int]], policy: Policy) -> dict[str, Any]:
    ledger = Ledger(snap.node_ids)
    healthy = np.ones(len(snap.node_ids), np.bool_)  # a fresh fleet: every node healthy
    ends: list[tuple[int, int]] = []
    accepted = 0
    gpu_hours = 0.0
    stranded: list[float] = []
    whole_blocks: list[int] = []
    t0 = time.perf_counter()
    for k, (arrival, gpus, duration) in enumerate(requests):
        while ends and ends[0][0] <= arrival:
            heapq.heappop(ends)
        unavailable = ledger.busy_at(arrival)
        frag = measure(snap, unavailable, healthy)
        stranded.append(frag.stranded_fraction)
        whole_blocks.append(frag.free_whole_blocks)
        locality = Locality.BLOCK if gpus <= 512 else Locality.POD
        window = ledger.unavailable(arrival, arrival + duration)
        result = carve(snap, ~window & healthy, Shape(("H100",), gpus=gpus, locality=locality), policy=policy)
        if isinstance(result, Placement):
            ledger.book(
                Draft(snap.node_ids[i], arrival, arrival + duration, HolderKind.LEASE, f"r{k}") for i in result.nodes
            )
            heapq.heappush(ends, (arrival + duration, k))
            accepted += 1
            gpu_hours += gpus * duration / HOUR
    return {
        "policy": policy,
        "accepted": accepted,
        "requests": len(requests),
        "gpu_hours_placed": round(gpu_hours),
        "stranded_fraction_mean": statistics.fmean(stranded),
        "free_whole_blocks_mean": statistics.fmean(whole_blocks),
        "seconds": time.perf_counter() - t0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/placement_fragmentation.json"))
    args = parser.parse_args()
    spec = preset("colossus-1", {"h200_gpus": "0", "gb200_gpus": "0"})
    snap = build_snapshot(build_fleet(spec))
    requests = stream(args.requests, args.seed)
    rows = [replay(snap, requests, policy) for policy in ("best_fit", "first_fit")]
    print(f"placement_fragmentation: {args.requests} requests, seed {args.seed}, {snap.total_gpus:,} H100 GPUs")
    print(f"{'policy':<10}{'accepted':>10}{'GPU-h placed':>16}{'stranded (mean)':>17}{'whole blocks':>14}{'s':>7}")
    for r in rows:
        print(
            f"{r['policy']:<10}{r['accepted']:>10}{r['gpu_hours_placed']:>16,}"
            f"{r['stranded_fraction_mean']:>17.3f}{r['free_whole_blocks_mean']:>14.1f}{r['seconds']:>7.1f}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "placement_fragmentation", "seed": args.seed, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
