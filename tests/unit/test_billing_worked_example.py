"""The worked example of docs/billing.md: the seed deal (all of Colossus 1 for $1.25B a
month with a two-month ramp, ``neocloud plan deal --seed colossus-1``) billed through
its ramp and through a September in which a cooling failure takes one 16,384-GPU pod
down for five days. Every number here is the one the docs print."""

from __future__ import annotations

from decimal import Decimal

import pytest

from neocloud.billing.invoicing import RatedLease, invoice_run, rate_lease
from neocloud.billing.metering import LeaseHistory
from neocloud.billing.rating import signed_price
from neocloud.cli.plan_deal import SEEDS
from neocloud.domain.billing import LineKind, period
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease, LeaseRequest, LeaseState, Segment, Tier
from neocloud.domain.ledger import Booking, HolderKind
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.economics.pricebook import PriceBook, RampStep, RateCards, WholesaleCard
from tests.billing_builders import at

SEED = SEEDS["colossus-1"]
MODEL = "H100+H200+GB200"  # the whole site's mix, priced as one unit
START, END = at(2026, 5, 6), at(2029, 6, 1)
BURST = (at(2026, 9, 10), at(2026, 9, 15))  # pod c1-pod01 down: five days


def test_the_example_uses_the_seed_deals_terms() -> None:
    assert (SEED.preset, SEED.monthly_fee, SEED.ramp, SEED.start, SEED.end) == (
        "colossus-1",
        "1.25B",
        "0.5,0.5",
        "2026-05-06",
        "2029-06-01",
    )


@pytest.fixture(scope="module")
def site() -> tuple[Fleet, Lease, PriceBook]:
    fleet = build_fleet(preset("colossus-1"))
    gpus = sum(n.gpu_count for n in fleet.nodes)
    ramp = tuple(RampStep(m, 1 - Decimal(f)) for m, f in enumerate(SEED.ramp.split(","), start=1))
    card = WholesaleCard(MODEL, monthly_fee=Money(Decimal("1250000000")), unit_gpus=gpus, ramp=ramp)
    book = PriceBook(7, START, RateCards(wholesale=(card,)))
    request = LeaseRequest(
        SEED.tenant,
        Shape(("*",), unit=Unit.SITE, site="colossus-1"),
        START,
        END,
        Money(Decimal("7.4436")),  # the recorded hourly rate: 1.25B / 230,024 / 730.5, for the record only
        tier=Tier.WHOLESALE,
        price_version=7,
    )
    lease = Lease("L-seed", request, LeaseState.ACTIVE, MODEL, (Segment(START, END, gpus),), START)
    return fleet, lease, book


def _history(fleet: Fleet, lease: Lease, burst: bool) -> LeaseHistory:
    bookings = tuple(
        Booking(k, n.id, START, END, HolderKind.LEASE, lease.id) for k, n in enumerate(fleet.nodes, start=1)
    )
    pod = [n.id for n in fleet.nodes if n.pod == "c1-pod01"]
    log = tuple(r for node in pod for r in ((node, BURST[0], Health.FAILED), (node, BURST[1], Health.HEALTHY)))
    return LeaseHistory(lease, bookings, {n.id: n.gpu_count for n in fleet.nodes}, log if burst else ())


def _month(site: tuple[Fleet, Lease, PriceBook], label: str, burst: bool = False) -> RatedLease:
    fleet, lease, book = site
    return rate_lease(_history(fleet, lease, burst), period(label), signed_price(lease, [book]))


def test_the_site_is_230024_gpus() -> None:
    fleet = build_fleet(preset("colossus-1"))
    assert sum(n.gpu_count for n in fleet.nodes) == 230_024
    assert sum(n.gpu_count for n in fleet.nodes if n.pod == "c1-pod01") == 16_384


@pytest.mark.parametrize(
    ("label", "fee"),
    [
        # May 6-31 of a 31-day May, all in contract month 1 at half the fee: 1.25B x 26/31 x 0.5
        ("2026-05", "524193548.39"),
        # June: contract months 1 (to June 5 10:30) and 2, both at half the fee
        ("2026-06", "625000000.00"),
        # July: 117 h of month 2 (to July 5 21:00) at half, 627 h at the full fee: 1.25B x 685.5 / 744
        ("2026-07", "1151713709.68"),
        ("2026-08", "1250000000.00"),
    ],
)
def test_the_ramp_months_of_the_seed_deal(site: tuple[Fleet, Lease, PriceBook], label: str, fee: str) -> None:
    rated = _month(site, label)
    assert rated.charge.amount == Money(Decimal(fee))
    assert rated.credit is None


def test_a_five_day_pod_outage_in_september_breaches_the_sla_and_credits_10_percent(
    site: tuple[Fleet, Lease, PriceBook],
) -> None:
    rated = _month(site, "2026-09", burst=True)
    usage = rated.usage
    assert usage.contracted_gpu_s == 230_024 * 720 * 3600  # 165,617,280 GPU-hours
    assert usage.shortfall_gpu_s == 16_384 * 120 * 3600  # 1,966,080 GPU-hours missing
    assert usage.delivered_gpu_s == (230_024 * 720 - 16_384 * 120) * 3600  # 163,651,200 GPU-hours
    assert usage.availability == pytest.approx(0.988129, abs=1e-6)  # below the 99% target, above 95%
    assert len(usage.missing) == 2_048  # one record per node of the pod, 8 GPUs for 120 h each
    assert rated.charge.amount == Money(Decimal("1250000000.00"))
    assert rated.credit is not None
    assert rated.credit.amount == Money(Decimal("-125000000.00"))
    (invoice,) = invoice_run(period("2026-09"), [rated], created_s=BURST[1]).invoices
    assert invoice.id == "INV-anthropic-2026-09"
    assert [line.kind for line in invoice.lines] == [LineKind.CHARGE, LineKind.SLA_CREDIT]
    assert invoice.total == Money(Decimal("1125000000.00"))
