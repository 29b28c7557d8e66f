"""How fast is the ledger at colossus-1 scale (230k GPUs, 32,506 nodes), durably?

On SQLite (WAL, synchronous=FULL) and on PostgreSQL (fsync on, synchronous_commit on),
each in a fresh database:

1. ``big``: place and book one 100k-GPU lease of whole fabric blocks inside the site
   (196 H100 blocks of 512 = 100,352 GPUs, 12,544 bookings), committed. Target < 1 s.
2. ``small``: 1,000 small leases (8 to 512 GPUs, block-local, seeded dates within a
   year) booked one by one, each its own durable transaction; reported as a ratio to
   the raw commit rate of the same database measured in the same run (one-row insert
   transactions, same durability). Target: within 2x.
3. ``availability``: free capacity per model over one year with those ~1,000 leases
   present (whole-window counts, largest free units, step series). Target < 100 ms.
   "cold" is the first query after the last booking (computed); "warm" the median of
   six repeats (answered from the per-version cache).

A cProfile of 200 more small bookings (a separate run, not timed) shows where the
time goes.

    .venv/bin/python benchmarks/ledger_scale.py [--leases 1000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud import bootstrap
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Unplaceable

START = datetime(2027, 1, 4, tzinfo=UTC)
DAY = 86_400
SIZES = [8, 16, 32, 64, 128, 256, 512]
PROFILED = 200


def small_requests(n: int, seed: int) -> list[LeaseRequest]:
    rng = random.Random(seed)
    t0 = to_s(START) + DAY
    out = []
    for k in range(n):
        start = t0 + rng.randrange(0, 300) * DAY
        shape = Shape(("H100", "H200"), gpus=rng.choice(SIZES), locality=Locality.BLOCK)
        out.append(LeaseRequest(f"t{k % 20}", shape, start, start + rng.randrange(7, 90) * DAY, Money(Decimal("2.35"))))
    return out


def run_store(name: str, url: str, raw_commits_per_s: float, n: int) -> dict[str, Any]:
    clock = ManualClock(START)
    svc = bootstrap.leasing_service(url, clock)
    t = time.perf_counter()
    svc.init(build_fleet(preset("colossus-1")), actor="bench")
    init_s = time.perf_counter() - t
    for k in range(20):
        svc.add_tenant(f"t{k}", actor="bench")
    svc.add_tenant("anthropic-like", actor="bench")
    svc.leases()  # warm the cached engine (load from the database)

    t0 = to_s(START) + DAY
    big = LeaseRequest(
        "anthropic-like",
        Shape(("H100",), unit=Unit.BLOCK, units=196, locality=Locality.SITE),
        t0 + 400 * DAY,
        t0 + 800 * DAY,
        Money(Decimal("2.10")),
    )
    t = time.perf_counter()
    lease, _ = svc.create(big, actor="bench")
    big_s = time.perf_counter() - t

    requests = small_requests(n + PROFILED, seed=1)
    booked = refused = 0
    t = time.perf_counter()
    for req in requests[:n]:
        try:
            svc.create(req, actor="bench")
            booked += 1
        except Unplaceable:
            refused += 1
    small_s = time.perf_counter() - t
    rate = (booked + refused) / small_s
    profiler = cProfile.Profile()  # a separate, profiled run: the profiler slows what it watches
    profiler.enable()
    for req in requests[n:]:
        with contextlib.suppress(Unplaceable):
            svc.create(req, actor="bench")
    profiler.disable()

    times = []
    for _ in range(7):
        t = time.perf_counter()
        rows = svc.availability(to_s(START), to_s(START) + 365 * DAY)
        times.append(time.perf_counter() - t)
    return {
        "store": name,
        "init_s": init_s,
        "big_lease_gpus": lease.gpus,
        "big_lease_s": big_s,
        "small_booked": booked,
        "small_refused": refused,
        "small_leases_per_s": rate,
        "raw_commits_per_s": raw_commits_per_s,
        "ratio_raw_to_leases": raw_commits_per_s / rate,
        "availability_cold_ms": times[0] * 1000,
        "availability_median_ms": statistics.median(times) * 1000,
        "availability_models": len(rows),
        "profile_top": _top(profiler),
    }


def raw_sqlite(path: Path, n: int) -> float:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.execute("CREATE TABLE IF NOT EXISTS raw_bench (id INTEGER PRIMARY KEY, v INTEGER)")
    t = time.perf_counter()
    for k in range(n):
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO raw_bench (v) VALUES (?)", (k,))
        con.execute("COMMIT")
    rate = n / (time.perf_counter() - t)
    con.close()
    return rate


def raw_postgres(url: str, n: int) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=False) as con:
        con.execute("CREATE TABLE raw_bench (id BIGSERIAL PRIMARY KEY, v BIGINT)")
        con.commit()
        t = time.perf_counter()
        for k in range(n):
            con.execute("INSERT INTO raw_bench (v) VALUES (%s)", (k,))
            con.commit()
        return n / (time.perf_counter() - t)


def _top(profiler: cProfile.Profile, count: int = 12) -> list[str]:
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf).sort_stats("tottime")
    stats.print_stats(count)
    lines = [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls"))
    return lines[start : start + count + 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=int, default=1000)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/ledger_scale.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        raw = raw_sqlite(Path(tmp) / "raw.db", args.leases)
        rows.append(run_store("sqlite", f"sqlite:///{Path(tmp) / 'ledger.db'}", raw, args.leases))
    if not args.skip_postgres:
        rows.append(_postgres(args.leases))
    report = {
        "benchmark": "ledger_scale",
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
        "fleet": "colossus-1 (230,024 GPUs, 32,506 nodes)",
        "rows": rows,
    }
    print(f"ledger_scale on {report['fleet']}; {report['machine']}")
    print(
        f"{'store':<9}{'100k lease s':>13}{'leases/s':>10}{'raw commits/s':>15}{'ratio':>7}"
        f"{'avail cold ms':>14}{'avail warm ms':>14}"
    )
    for r in rows:
        print(
            f"{r['store']:<9}{r['big_lease_s']:>13.3f}{r['small_leases_per_s']:>10.1f}"
            f"{r['raw_commits_per_s']:>15.1f}{r['ratio_raw_to_leases']:>7.2f}"
            f"{r['availability_cold_ms']:>14.1f}{r['availability_median_ms']:>14.1f}"
        )
    for r in rows:
        print(f"\nprofile of the small bookings on {r['store']} (top by own time):")
        print("\n".join(r["profile_top"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


def _postgres(n: int) -> dict[str, Any]:
    """A throwaway durable PostgreSQL server on 127.0.0.1 (fsync and synchronous_commit on)."""
    from neocloud.devtools.pgserver import find_bin_dir, start_server, stop_server

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql), or use --skip-postgres")
    server = start_server(bin_dir, durable=True)
    try:
        raw = raw_postgres(server.create_database(), n)
        return run_store("postgres", server.create_database(), raw, n)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
