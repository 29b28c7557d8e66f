"""How long does billing's pure core take for a month of 1,000 leases on a 230k-GPU fleet?

The colossus-1 preset (230,024 GPUs, 32,506 nodes) split into 1,000 leases of
consecutive nodes (about 32 each) held by 50 tenants: a tenth wholesale, 70% reserved,
15% on-demand, 5% spot; a tenth of them start mid-month and a tenth end mid-month. The
failure history of January 2027 (744 h) is drawn at ``unexpected_interrupts_per_gpu_hour``
1 / 50,700 ([D] from [R90], economics.md §6, 2024): about 3,375 node failures, each at
a uniform instant on a node drawn in proportion to its GPUs and repaired after a
uniform 1 to 72 hours (an assumption of this benchmark: repair times are not sourced).
Seeded, so every run meters the same history.

Timed, each the median of ``--repeat`` runs (the pure core only; no store):

1. ``rate_lease`` for every lease: meter, rate, SLA credit;
2. ``invoice_run`` for the month: one draft per tenant;
3. the run again after the drafts were issued, with every lease re-rated: the
   corrections pass that finds nothing to change.

Peak memory: Python's allocations during steps 1 and 2 (``tracemalloc``, a separate
pass, as tracing slows the code), and the process's peak resident set.

    .venv/bin/python benchmarks/billing_core.py [--repeat 3] [--out /tmp/billing_core.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from neocloud.billing import LeaseHistory, RatedLease, invoice_run, rate_lease, signed_price
from neocloud.domain.billing import InvoiceState, change_invoice_state, period
from neocloud.domain.clock import SystemClock
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest, LeaseState, Segment, Tier
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Shape
from neocloud.domain.spec import build_fleet
from neocloud.economics.pricebook import PriceBook, RampStep, RateCards, WholesaleCard

LEASES, TENANTS = 1_000, 50
GPU_HOURS_PER_INTERRUPT = 50_700  # [D] from [R90] (2024), economics.md §6
REPAIR_H = (1, 72)  # assumption of this benchmark
PERIOD = period("2027-01")
HOUR = 3600
TIERS = [Tier.WHOLESALE] * 10 + [Tier.RESERVED] * 70 + [Tier.ON_DEMAND] * 15 + [Tier.SPOT] * 5
RATES = {Tier.RESERVED: "2.35", Tier.ON_DEMAND: "3.99", Tier.SPOT: "1.5960", Tier.WHOLESALE: "1.4109"}


def world(fleet: Fleet, seed: int = 11) -> tuple[list[LeaseHistory], PriceBook]:
    """The leases, their bookings and the month's failures as billing's inputs."""
    rng = random.Random(seed)
    nodes = fleet.nodes
    models = sorted({n.gpu_model for n in nodes})
    book = PriceBook(1, 0, RateCards(wholesale=tuple(_card(m) for m in models)))
    groups = [nodes[k * len(nodes) // LEASES : (k + 1) * len(nodes) // LEASES] for k in range(LEASES)]
    log = _failures(fleet, rng)
    histories = []
    for k, group in enumerate(groups):
        tier = TIERS[k % len(TIERS)]
        start, end = PERIOD.start_s - 30 * 86_400, PERIOD.end_s + 300 * 86_400
        if k % 10 == 3:
            start = PERIOD.start_s + rng.randrange(PERIOD.seconds)
        if k % 10 == 7:
            end = PERIOD.start_s + rng.randrange(PERIOD.seconds)
        gpus = sum(n.gpu_count for n in group)
        request = LeaseRequest(
            f"tenant-{k % TENANTS:02d}",
            Shape((group[0].gpu_model,), gpus=gpus),
            start,
            end,
            Money(Decimal(RATES[tier])),
            tier=tier,
            price_version=1,
        )
        lease = Lease(f"L-{k:04d}", request, LeaseState.ACTIVE, group[0].gpu_model, (Segment(start, end, gpus),), 0)
        bookings = tuple(Booking(j, n.id, start, end, HolderKind.LEASE, lease.id) for j, n in enumerate(group))
        mine = tuple(r for n in group for r in log.get(n.id, ()))
        histories.append(LeaseHistory(lease, bookings, {n.id: n.gpu_count for n in group}, mine))
    return histories, book


def _card(model: str) -> WholesaleCard:
    return WholesaleCard(model, per_gpu_month=Money(Decimal("1030.63")), ramp=(RampStep(1, Decimal("0.5")),))


def _failures(fleet: Fleet, rng: random.Random) -> dict[str, list[tuple[str, int, Health]]]:
    gpus = sum(n.gpu_count for n in fleet.nodes)
    count = round(gpus * PERIOD.seconds / HOUR / GPU_HOURS_PER_INTERRUPT)
    chosen = rng.choices(fleet.nodes, weights=[n.gpu_count for n in fleet.nodes], k=count)
    out: dict[str, list[tuple[str, int, Health]]] = defaultdict(list)
    for node in chosen:
        at = PERIOD.start_s + rng.randrange(PERIOD.seconds)
        back = at + rng.randint(*REPAIR_H) * HOUR
        out[node.id] += [(node.id, at, Health.FAILED), (node.id, back, Health.HEALTHY)]
    return out


def rate_all(histories: list[LeaseHistory], book: PriceBook) -> list[RatedLease]:
    return [rate_lease(h, PERIOD, signed_price(h.lease, [book])) for h in histories]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/billing_core.json"))
    args = parser.parse_args()
    fleet = build_fleet(preset("colossus-1"))
    histories, book = world(fleet)
    t_rate, rated = timed(lambda: rate_all(histories, book), args.repeat)
    t_run, run = timed(lambda: invoice_run(PERIOD, rated, created_s=PERIOD.end_s), args.repeat)
    issued = [change_invoice_state(i, InvoiceState.ISSUED, at_s=0, actor="bench", reason="") for i in run.invoices]
    t_again, again = timed(
        lambda: invoice_run(PERIOD, rate_all(histories, book), invoices=issued, created_s=PERIOD.end_s), args.repeat
    )
    assert again.empty, "re-running the month issued something"
    tracemalloc.start()
    invoice_run(PERIOD, rate_all(histories, book), created_s=PERIOD.end_s)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    failures = sum(len(h.health_log) for h in histories) // 2
    credited = sum(1 for r in rated if r.credit is not None)
    rows = [
        ("rate_lease x 1,000 (meter, rate, credit)", f"{t_rate * 1000:,.0f} ms"),
        ("invoice_run: drafts", f"{t_run * 1000:,.0f} ms"),
        ("re-rate + invoice_run again: corrections", f"{t_again * 1000:,.0f} ms"),
        ("peak Python allocations (rate + run)", f"{peak / 2**20:,.1f} MiB"),
        ("peak resident set (process)", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB"),
    ]
    print(f"{LEASES:,} leases, {len(fleet.nodes):,} nodes, {failures:,} failures, {credited} leases credited")
    print(f"{len(run.invoices)} invoices; total {sum(i.total.amount for i in run.invoices):,.2f} USD")
    for name, value in rows:
        print(f"  {name:<44} {value:>12}")
    report = {
        "date": SystemClock().now().date().isoformat(),
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
        "leases": LEASES,
        "nodes": len(fleet.nodes),
        "failures": failures,
        "credited": credited,
        "invoices": len(run.invoices),
        "rate_s": t_rate,
        "run_s": t_run,
        "rerun_s": t_again,
        "peak_alloc_bytes": peak,
        "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
