"""What an invoice run rates, gathered from the ledger as values for the billing core.

For each period to rate: every lease billed in it (confirmed, active, ended or
terminated, its term overlapping the period), with its bookings over its whole term
(truncated ones keep their past intervals), the GPUs of its nodes, the health records
of those nodes, and the maintenance windows its contract excludes; priced at the
price-book version it was signed at (:func:`neocloud.billing.signed_price`). The
ledger is read once per run: one pass over the leases, one query for the bookings of
the leases billed, one for the health log of their nodes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from neocloud.billing import LeaseHistory, RatedLease, rate_lease, signed_price
from neocloud.domain.billing import Period
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseState
from neocloud.domain.ledger import Booking
from neocloud.economics.pricebook import PriceBook
from neocloud.services.leasing import LeasingService

#: Lease states that bill: a hold, a cancelled or an expired lease commits nothing.
BILLED_STATES = frozenset({LeaseState.CONFIRMED, LeaseState.ACTIVE, LeaseState.ENDED, LeaseState.TERMINATED})


def billed_leases(leases: Iterable[Lease], periods: Sequence[Period]) -> list[Lease]:
    """The leases in a billed state whose term overlaps one of ``periods``."""
    return [
        lease
        for lease in leases
        if lease.state in BILLED_STATES and any(p.clip(lease.start_s, lease.end_s) for p in periods)
    ]


def lease_histories(leasing: LeasingService, leases: Sequence[Lease]) -> list[LeaseHistory]:
    """Each lease's history as metering reads it (the module docstring)."""
    if not leases:
        return []
    bookings: dict[str, list[Booking]] = defaultdict(list)
    for b in leasing.bookings_of([lease.id for lease in leases]):
        bookings[b.holder].append(b)
    gpus = {n.id: n.gpu_count for n in leasing.fleet().nodes}
    nodes = sorted({b.node for bs in bookings.values() for b in bs})
    log: dict[str, list[tuple[str, int, Health]]] = defaultdict(list)
    for record in leasing.store.health_log(nodes):
        log[record[0]].append(record)
    out = []
    for lease in leases:
        mine = tuple(bookings.get(lease.id, ()))
        booked = sorted({b.node for b in mine})
        records = tuple(sorted((r for n in booked for r in log.get(n, ())), key=lambda r: r[1]))
        windows = lease.maintenance_windows  # announced windows the SLA does not count
        out.append(LeaseHistory(lease, mine, {n: gpus[n] for n in booked}, records, windows))
    return out


def rate_periods(
    histories: Sequence[LeaseHistory],
    periods: Sequence[Period],
    versions: Sequence[PriceBook],
    *,
    until_s: int | None = None,
) -> list[RatedLease]:
    """Every (lease, period) of ``histories`` x ``periods`` that overlap, rated at the
    price each lease was signed at (with ``until_s``: each period up to then only, the
    month so far of a preview)."""
    out = []
    for history in histories:
        lease = history.lease
        price = signed_price(lease, versions)
        for p in periods:
            if p.clip(lease.start_s, lease.end_s):
                out.append(rate_lease(history, p, price, until_s=until_s))
    return out
