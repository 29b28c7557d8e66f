"""Do ledger operations cost what the change costs, whatever the history?

A fleet of ~280 H100 nodes runs hour after hour: each hour is filled with one-hour,
64-GPU, block-local leases booked two hours ahead, and the clock moves on (holds
expire, leases start and end, ended bookings retire). When the ledger holds 8k,
48k and 200k bookings, three decisions are timed on the engine (median of repeats;
a decision is pure, so repeats see the same state):

* ``cancel`` of a lease two hours ahead;
* ``extend`` of the newest lease by one hour (its nodes are free then);
* ``refused quote``: 512 GPUs in one block an hour ahead, which does not fit, with
  the alternatives searched (fewer GPUs, looser locality, later starts).

Target: the 200k figure within 1.5x of the 8k figure. A second table books 10,000
small leases through ``LeasingService`` on the in-memory store (target < 5 s).

    .venv/bin/python benchmarks/ledger_history.py [--out benchmarks/results/ledger_history.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud import bootstrap
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.errors import DomainError
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Engine, Refusal

START = datetime(2027, 1, 4, tzinfo=UTC)
HOUR = 3600
CHECKPOINTS = (8_000, 48_000, 200_000)
REPEATS = 30
FLEET = {"power_mw": "3", "mix": "H100:1", "block_gpus": "512", "blocks_per_pod": "4"}


def request(start_s: int, gpus: int = 64, hours: int = 1) -> LeaseRequest:
    shape = Shape(("H100",), gpus=gpus, locality=Locality.BLOCK)
    return LeaseRequest("t", shape, start_s, start_s + hours * HOUR, Money(Decimal("2.35")))


def median_ms(fn: Any) -> float:
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def timed_decisions(engine: Engine, now_s: int, ahead: list[str], newest: str) -> dict[str, float]:
    def extend() -> None:
        lease = engine.lease(newest)
        engine.extend(newest, lease.end_s + HOUR, now_s=now_s, actor="b")

    def refused() -> None:
        assert isinstance(engine.quote(request(now_s + HOUR, gpus=512), now_s), Refusal)

    return {
        "cancel_ms": median_ms(lambda: engine.cancel(ahead[0], now_s=now_s, actor="b")),
        "extend_ms": median_ms(extend),
        "refused_quote_ms": median_ms(refused),
    }


def history_run() -> list[dict[str, Any]]:
    engine = Engine.of_fleet(build_fleet(preset("generic", FLEET)))
    now = to_s(START)
    hour = 0
    count = 0
    rows: list[dict[str, Any]] = []
    by_hour: dict[int, list[str]] = {}
    checkpoints = list(CHECKPOINTS)
    t_run = time.perf_counter()
    while checkpoints:
        slot = now + 2 * HOUR  # book the hour two hours ahead, full
        ids: list[str] = []
        while True:
            count += 1
            try:
                _, change = engine.create(request(slot), lease_id=f"L{count}", now_s=now, actor="b")
            except DomainError:
                break
            engine.apply(change)
            ids.append(f"L{count}")
        by_hour[hour] = ids
        if len(engine.view.ledger) >= checkpoints[0]:
            checkpoints.pop(0)
            live = len(engine.view.ledger._live)
            row = {"bookings": len(engine.view.ledger), "live_bookings": live, "hours": hour}
            row |= timed_decisions(engine, now, by_hour[hour], by_hour[hour][-1])
            rows.append(row)
        hour += 1
        now += HOUR
        engine.apply(engine.tick(now))
        engine.view.retire(now)
    rows[-1]["run_s"] = time.perf_counter() - t_run
    return rows


def memory_store_run(leases: int) -> dict[str, Any]:
    clock = ManualClock(START)
    services = bootstrap.in_memory(clock)
    svc = services.leasing
    svc.init(build_fleet(preset("generic", FLEET)), actor="b")
    svc.add_tenant("t", actor="b")
    t = time.perf_counter()
    booked = 0
    while booked < leases:
        slot = to_s(clock.now()) + 2 * HOUR
        for _ in range(34):
            if booked >= leases:
                break
            try:
                svc.create(request(slot, gpus=64), actor="b")
            except DomainError:
                break
            booked += 1
        clock.advance(seconds=HOUR)
    return {"leases": booked, "seconds": time.perf_counter() - t}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=int, default=10_000, help="small leases through the memory store")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ledger_history.json"))
    args = parser.parse_args()
    rows = history_run()
    print(f"ledger_history: {platform.machine()}, Python {platform.python_version()}")
    print(f"{'bookings':>9} {'live':>6} {'cancel ms':>10} {'extend ms':>10} {'refused quote ms':>17}")
    for r in rows:
        print(
            f"{r['bookings']:>9,} {r['live_bookings']:>6,} {r['cancel_ms']:>10.3f} {r['extend_ms']:>10.3f} "
            f"{r['refused_quote_ms']:>17.3f}"
        )
    ratios = {k: rows[-1][k] / rows[0][k] for k in ("cancel_ms", "extend_ms", "refused_quote_ms")}
    print("200k / 8k: " + ", ".join(f"{k.removesuffix('_ms')} {v:.2f}x" for k, v in ratios.items()) + " (target 1.5x)")
    mem = memory_store_run(args.leases)
    print(f"memory store: {mem['leases']:,} small leases booked in {mem['seconds']:.2f} s (target < 5 s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = {"date": datetime.now(UTC).isoformat(), "history": rows, "ratios": ratios, "memory_store": mem}  # noqa: TID251 - a benchmark's timestamp
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
