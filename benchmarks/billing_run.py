"""How long does an invoice run take, through the service and the store, for one month of
1,000 leases on a 230k-GPU fleet, on SQLite and on PostgreSQL? (issue 11 §7)

The world is ``billing_core.py``'s (the same seed): colossus-1 (230,024 GPUs, 32,506
nodes) in 1,000 leases of consecutive nodes held by 50 tenants, a tenth wholesale at a
ramped card, and January 2027's failures at 1 interrupt per 50,700 GPU-hours ([D] from
[R90], economics.md §6, 2024), each repaired after 1 to 72 h (that benchmark's
assumption). It is written into a new database in bulk (fleet, tenants, the price
book, the leases with their bookings, the health log), then, with the clock at
2027-02-01 01:00 UTC:

1. ``BillingService.run("2027-01")`` from a cold service (as ``neocloud billing run``
   does it: the ledger read from the database, every lease rated, 50 invoices and
   their events written in one transaction);
2. the same run again: everything re-rated, nothing new issued;
3. a dry run under ``tracemalloc``: the peak of Python's allocations while a run
   gathers, rates and drafts (writes aside).

Target (the issue): under 10 s and under 1 GB. Peak resident set is the process's
(the fleet and the world built in it included).

    .venv/bin/python benchmarks/billing_run.py [--skip-postgres] [--out /tmp/billing_run.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from billing_core import LEASES, PERIOD, world  # the same leases and failures as the core's benchmark
from neocloud import bootstrap
from neocloud.billing import LeaseHistory
from neocloud.domain.changes import Change, HealthChange
from neocloud.domain.clock import ManualClock, SystemClock
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.ledger import Draft
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.pricebook import PriceBook
from neocloud.services.billing import BillingService

RUN_AT = datetime(2027, 2, 1, 1, tzinfo=UTC)


def fill(url: str, fleet: Fleet, histories: list[LeaseHistory], book: PriceBook) -> float:
    """The world written into the database at ``url`` in bulk; seconds it took."""
    t0 = time.perf_counter()
    store = bootstrap.ledger_store(url)
    store.create_schema()
    store.load_fleet(fleet, PERIOD.start_s - 60 * 86_400, "bench")
    drafts = tuple(Draft(b.node, b.start_s, b.end_s, b.kind, b.holder) for h in histories for b in h.bookings)
    records = sorted({r for h in histories for r in h.health_log}, key=lambda r: r[1])
    health = tuple(
        HealthChange(node, Health.HEALTHY if to is Health.FAILED else Health.FAILED, to, at_s, "bench")
        for node, at_s, to in records
    )
    with store.writing() as w:
        for tenant in sorted({h.lease.tenant for h in histories}):
            w.add_tenant(tenant, 0, "bench")
        w.publish_prices(book)
        w.write(Change(book=drafts, leases=tuple(h.lease for h in histories), health=health))
    store.close()
    return time.perf_counter() - t0


def service(url: str) -> BillingService:
    """The CLI's wiring (bootstrap.billing_service) with the clock after January."""
    return bootstrap.billing_service(url, ManualClock(RUN_AT))


def measure(name: str, url: str, fleet: Fleet, histories: list[LeaseHistory], book: PriceBook) -> dict[str, Any]:
    filled = fill(url, fleet, histories, book)
    t0 = time.perf_counter()
    first = service(url).run(PERIOD.label, actor="bench")
    t1 = time.perf_counter()
    again = service(url).run(PERIOD.label, actor="bench")
    t2 = time.perf_counter()
    assert len(first.invoices) == len({h.lease.tenant for h in histories}), "one invoice per tenant"
    assert not again.invoices, "re-running the month issued an invoice"
    assert not again.credit_notes, "re-running the month issued a credit note"
    tracemalloc.start()
    service(url).run(PERIOD.label, actor="bench", dry_run=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "store": name,
        "fill_s": filled,
        "run_s": t1 - t0,
        "rerun_s": t2 - t1,
        "invoices": len(first.invoices),
        "lines": sum(len(i.lines) for i in first.invoices),
        "total_usd": str(sum(i.total.amount for i in first.invoices)),
        "peak_alloc_bytes": peak,
    }


def postgres(fleet: Fleet, histories: list[LeaseHistory], book: PriceBook) -> dict[str, Any]:
    """On a throwaway durable PostgreSQL server on 127.0.0.1 (fsync on)."""
    from neocloud.devtools.pgserver import find_bin_dir, start_server, stop_server

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql), or use --skip-postgres")
    server = start_server(bin_dir, durable=True)
    try:
        return measure("postgres", server.create_database(), fleet, histories, book)
    finally:
        stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("/tmp/billing_run.json"))
    args = parser.parse_args()
    fleet = build_fleet(preset("colossus-1"))
    histories, book = world(fleet)
    rows = []
    with tempfile.TemporaryDirectory(prefix="billing-run-") as folder:
        rows.append(measure("sqlite", f"sqlite:///{folder}/ledger.db", fleet, histories, book))
    if not args.skip_postgres:
        rows.append(postgres(fleet, histories, book))
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    failures = sum(len(h.health_log) for h in histories) // 2
    print(f"{LEASES:,} leases, {len(fleet.nodes):,} nodes, {failures:,} failures, month {PERIOD.label}")
    print(f"{'store':<10}{'fill s':>8}{'run s':>8}{'re-run s':>10}{'invoices':>10}{'lines':>7}{'peak MiB':>10}")
    for r in rows:
        print(
            f"{r['store']:<10}{r['fill_s']:>8.1f}{r['run_s']:>8.2f}{r['rerun_s']:>10.2f}"
            f"{r['invoices']:>10}{r['lines']:>7}{r['peak_alloc_bytes'] / 2**20:>10.1f}"
        )
    print(f"peak resident set of the process: {rss_mib:,.0f} MiB")
    report = {
        "date": SystemClock().now().date().isoformat(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
        "leases": LEASES,
        "nodes": len(fleet.nodes),
        "failures": failures,
        "rows": rows,
        "max_rss_mib": rss_mib,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
