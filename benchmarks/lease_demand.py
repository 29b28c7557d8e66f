"""How fast does a year of lease demand replay through the leasing engine at campus scale?

Issue 13 section 2. The fleet is the colossus-1 preset (230,024 GPUs: H100 and H200
HGX nodes, GB200 NVL72 racks; 32,506 nodes, every node healthy); the demand is the
seeded demand model (sim/demand_model.py, default classes) for 365 days at the rate
that offers ``--load`` of the fleet's GPU-days within the year (default 0.8,
``cluster_utilization_target`` [R93]), or at ``--rate`` requests a day. The stream is
generated first (timed apart); the replay is timed alone, without and then with a
pinned contract (``--pin``, default one whole HGX pod for three years), each on a
fresh engine. ``--profile`` adds the cProfile table of the first replay.

    .venv/bin/python benchmarks/lease_demand.py [--load 0.8 | --rate R] [--days 365]
        [--pin pod:1095] [--seed 0] [--profile] [--out /tmp/lease_demand.json]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import time
from pathlib import Path
from typing import Any

from _sim_bench import machine, profile_table  # beside this script (python benchmarks/lease_demand.py)
from neocloud.domain.demand import parse_shape
from neocloud.domain.leases import Tier
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.placement.snapshot import build_snapshot
from neocloud.sim import demand_model as dm
from neocloud.sim.lease_demand import Pin, replay, request_gpus, seeded_book, summarize

DAY_S = 86_400


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=float, default=dm.DEFAULT_LOAD)
    parser.add_argument("--rate", type=float, default=None, help="requests a day (instead of --load)")
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--pin", default="pod:1095", help="SHAPE:DAYS, or '' for none")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/lease_demand.json"))
    args = parser.parse_args()

    started = time.perf_counter()
    fleet = build_fleet(preset("colossus-1"), file="colossus-1")
    snap = build_snapshot(fleet)
    fleet_s = time.perf_counter() - started
    model = dm.DemandModel()
    rate = args.rate or dm.rate_for_load(
        model, args.load, snap.total_gpus, args.days, lambda s: request_gpus(snap, s)[1]
    )
    started = time.perf_counter()
    stream = dm.generate(model, rate, args.days, args.seed)
    generate_s = time.perf_counter() - started

    rows: list[dict[str, Any]] = []
    profile = ""
    for pinned in (None, _pin(args.pin)) if args.pin else (None,):
        prof = cProfile.Profile() if args.profile and pinned is None else None
        started = time.perf_counter()
        if prof is not None:
            prof.enable()
        run = replay(fleet, stream, seeded_book(), horizon_s=round(args.days * DAY_S), pin=pinned)
        if prof is not None:
            prof.disable()
            profile = profile_table(prof)
        wall = time.perf_counter() - started
        s = summarize(run)
        rows.append(
            {
                "run": "with pin" if pinned else "without pin",
                "requests": s.requests,
                "accepted": s.accepted,
                "acceptance": round(s.acceptance, 4),
                "revenue_booked": str(s.revenue_booked),
                "revenue_refused": str(s.revenue_refused),
                "utilization_mean": round(s.utilization_mean, 4),
                "stranded_mean": round(s.stranded_mean, 4),
                "samples": len(run.samples),
                "wall_s": round(wall, 2),
                "requests_per_s": round(s.requests / wall, 1),
                "profiled": prof is not None,
            }
        )
    doc = {
        "question": "a year of lease demand through the leasing engine on colossus-1",
        "machine": machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "fleet_gpus": snap.total_gpus,
        "fleet_nodes": len(snap.node_ids),
        "fleet_build_s": round(fleet_s, 2),
        "rate_per_day": rate,
        "load": None if args.rate else args.load,
        "days": args.days,
        "seed": args.seed,
        "pin": args.pin or None,
        "generate_s": round(generate_s, 3),
        "rows": rows,
        "profile": profile,
    }
    _print(doc)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {args.out}")


def _pin(text: str) -> Pin:
    shape_text, _, days = text.rpartition(":")
    shape = parse_shape(shape_text)
    tier = Tier.RESERVED if shape.unit is None else Tier.WHOLESALE
    return Pin(shape_text, shape, round(float(days) * DAY_S), tier)


def _print(doc: dict[str, Any]) -> None:
    print(
        f"colossus-1: {doc['fleet_gpus']:,} GPUs on {doc['fleet_nodes']:,} nodes (built in {doc['fleet_build_s']} s); "
        f"{doc['rate_per_day']:.1f} requests a day for {doc['days']:g} days (generated in {doc['generate_s']} s); "
        f"load average {doc['load_average']}"
    )
    head = ("run", "requests", "accepted", "util", "stranded", "wall s", "req/s")
    print("{:<12} {:>9} {:>9} {:>6} {:>9} {:>8} {:>8}".format(*head))
    for r in doc["rows"]:
        print(
            f"{r['run']:<12} {r['requests']:>9,} {r['acceptance']:>9.1%} {r['utilization_mean']:>6.1%} "
            f"{r['stranded_mean']:>9.1%} {r['wall_s']:>8} {r['requests_per_s']:>8}"
        )
    if doc["profile"]:
        print(doc["profile"])


if __name__ == "__main__":
    main()
