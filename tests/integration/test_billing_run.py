"""The invoice run through the service, on memory, SQLite and PostgreSQL: one invoice per
tenant issued in one transaction, nothing new on a re-run, refused before the period
ends unless previewed, a late health report for a closed period credited on the re-run,
prepayments drawn, and the sums that must hold (invoices minus credit notes)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.domain.billing import InvoiceQuery, InvoiceState, LineKind, PeriodNotEnded
from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.errors import RequestError
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.services.billing import BillingService
from neocloud.services.leasing import LeasingService
from neocloud.services.visibility import Viewer
from tests.integration.stores import STORE_KINDS, store_factory

HOUR, DAY = 3600, 86_400
HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}


def t(*args: int) -> int:
    return to_s(datetime(*args, tzinfo=UTC))


JAN_1, FEB_1, MAR_1 = t(2027, 1, 1), t(2027, 2, 1), t(2027, 3, 1)


class World:
    """Two tenants with one reserved H100 lease each over January and February 2027 at
    an explicit $2.00 / GPU-h: acme 8 GPUs (one node), beta 16."""

    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.clock = ManualClock(datetime(2026, 12, 20, tzinfo=UTC))
        store = store_factory(kind, request)()
        ids = iter(f"L-{k}" for k in range(1, 100))
        self.leasing = LeasingService(store, self.clock, new_id=lambda: next(ids))  # type: ignore[arg-type]
        self.leasing.init(build_fleet(preset("demo", HEALTHY)), actor="test")
        deposits = iter(f"DEP-{k}" for k in range(1, 100))
        self.billing = BillingService(store, self.leasing, self.clock, new_deposit_id=lambda: next(deposits))  # type: ignore[arg-type]
        for tenant, gpus in (("acme", 8), ("beta", 16)):
            self.leasing.add_tenant(tenant, actor="test")
            shape = Shape(("H100",), gpus=gpus, locality=Locality.BLOCK)
            self.leasing.create(LeaseRequest(tenant, shape, JAN_1, MAR_1, Money(Decimal("2.00"))), actor="test")

    def at(self, t_s: int) -> None:
        self.clock.set(datetime.fromtimestamp(t_s, UTC))

    def node_of(self, tenant: str) -> str:
        lease = self.leasing.leases(tenant=tenant)[0]
        return next(b.node for b in self.leasing.lease_bookings(lease.id) if b.holder == lease.id)


@pytest.fixture(params=STORE_KINDS)
def world(request: pytest.FixtureRequest) -> World:
    return World(request.param, request)


def owed(billing: BillingService, tenant: str) -> Decimal:
    """What ``tenant`` owes over all time: the invoices it was sent minus its credit notes."""
    invoices = billing.store.invoices(InvoiceQuery(tenant=tenant))
    sent = [i for i in invoices if any(c.to_state is InvoiceState.ISSUED for c in i.history)]  # a voided draft: never
    billed = sum((i.total.amount for i in sent), Decimal(0))
    return billed - sum((n.total.amount for n in billing.store.credit_notes(tenant)), Decimal(0))


def test_a_run_issues_one_invoice_per_tenant_for_the_month(world: World):
    world.at(FEB_1 + HOUR)
    done = world.billing.run("2027-01", actor="ops")
    assert [(i.tenant, i.state, i.total) for i in done.invoices] == [
        ("acme", InvoiceState.ISSUED, Money(Decimal("11904.00"))),  # 8 GPUs x 744 h x $2.00
        ("beta", InvoiceState.ISSUED, Money(Decimal("23808.00"))),
    ]
    stored = world.billing.invoice("INV-acme-2027-01")
    assert stored == done.invoices[0]
    assert [c.to_state for c in stored.history] == [InvoiceState.DRAFT, InvoiceState.ISSUED]
    assert stored.lines[0].gpu_s == 8 * 744 * HOUR
    kinds = [e.event.kind for e in world.leasing.events(EventQuery(kind="billing."))]
    assert kinds == ["billing.invoice.issued", "billing.invoice.issued", "billing.run"]


def test_running_a_period_again_issues_nothing_new(world: World):
    world.at(FEB_1 + HOUR)
    first = world.billing.run("2027-01", actor="ops")
    world.at(FEB_1 + 2 * HOUR)
    again = world.billing.run("2027-01", actor="ops")
    assert again.invoices == ()
    assert again.credit_notes == ()
    assert world.billing.store.invoices(InvoiceQuery()) == list(first.invoices)
    assert world.billing.store.credit_notes() == []


def test_a_run_before_the_month_ends_is_refused_but_a_preview_writes_nothing(world: World):
    world.at(FEB_1 - 1)
    with pytest.raises(PeriodNotEnded, match=r"^2027-01 ends 2027-02-01 00:00 UTC"):
        world.billing.run("2027-01", actor="ops")
    with pytest.raises(PeriodNotEnded, match="2027-01 ends 2027-02-01 00:00 America/Chicago"):
        world.billing.run("2027-01", "America/Chicago", actor="ops")
    preview = world.billing.run("2027-01", actor="ops", dry_run=True)
    assert preview.dry_run
    assert [(i.tenant, i.state) for i in preview.invoices] == [
        ("acme", InvoiceState.DRAFT),
        ("beta", InvoiceState.DRAFT),
    ]
    assert world.billing.store.invoices(InvoiceQuery()) == []
    assert world.leasing.events(EventQuery(kind="billing.")) == []


def test_bad_periods_and_zones_are_refused_naming_the_field(world: World):
    world.at(MAR_1)
    for label, tz, words in (
        ("2027-13", "UTC", "period: month 13"),
        ("Jan", "UTC", "period: 'Jan'"),
        ("2027-01", "Mars/Olympus", "tz:"),
    ):
        with pytest.raises(RequestError, match=words):
            world.billing.run(label, tz, actor="ops")


def test_the_zone_of_the_run_is_recorded_on_each_invoice(world: World):
    world.at(MAR_1)
    done = world.billing.run("2027-01", "America/Chicago", actor="ops")
    assert {i.period.tz for i in done.invoices} == {"America/Chicago"}
    assert world.billing.invoice("INV-acme-2027-01").period.start_s == JAN_1 + 6 * HOUR  # local midnight, CST


def test_a_late_health_report_for_a_closed_period_is_credited_on_the_re_run(world: World):
    world.at(FEB_1 + HOUR)
    world.billing.run("2027-01", actor="ops")
    issued = world.billing.invoice("INV-acme-2027-01")
    node = world.node_of("acme")
    world.at(FEB_1 + 6 * HOUR)  # reported on Feb 1, dated Jan 31 12:00: 12 h of 8 GPUs missing in January
    world.leasing.set_health(node, Health.FAILED, at_s=FEB_1 - 12 * HOUR, actor="ops", reason="late report")
    again = world.billing.run("2027-01", actor="ops")
    assert again.invoices == ()
    [note] = again.credit_notes
    assert note.invoice_id == "INV-acme-2027-01"
    assert note.tenant == "acme"
    # availability 1 - 12/744 = 98.39% < the 99% target: 10% of the period's fee [R99][R101]
    assert note.total == Money(Decimal("1190.40"))
    assert world.billing.invoice("INV-acme-2027-01") == issued  # the issued invoice never changes
    assert world.billing.store.credit_notes("acme") == [note]
    assert owed(world.billing, "acme") == Decimal("11904.00") - Decimal("1190.40")
    assert world.billing.run("2027-01", actor="ops").credit_notes == ()  # once


def test_a_prepayment_is_drawn_down_by_the_next_invoices(world: World):
    world.billing.deposit("acme", Money(Decimal("15000.00")), actor="ops", note="prepaid")
    world.at(MAR_1 + HOUR)
    jan = world.billing.run("2027-01", actor="ops").invoices[0]
    feb = world.billing.run("2027-02", actor="ops").invoices[0]
    assert [x.amount for x in jan.lines if x.kind is LineKind.PREPAYMENT] == [Money(Decimal("-11904.00"))]
    assert jan.total == Money(Decimal("0.00"))
    assert [x.amount for x in feb.lines if x.kind is LineKind.PREPAYMENT] == [Money(Decimal("-3096.00"))]
    assert feb.total == Money(Decimal("10752.00") - Decimal("3096.00"))  # 8 x 672 h x $2.00, less what was left


def test_a_tenant_reads_only_its_own_invoices_from_a_run(world: World):
    world.at(FEB_1 + HOUR)
    world.billing.run("2027-01", actor="ops")
    assert [i.id for i in world.billing.invoices(Viewer("beta")).items] == ["INV-beta-2027-01"]


def test_the_next_months_run_corrects_a_closed_month_too(world: World):
    world.at(FEB_1 + HOUR)
    world.billing.run("2027-01", actor="ops")
    world.at(FEB_1 + 6 * HOUR)
    world.leasing.set_health(world.node_of("acme"), Health.FAILED, at_s=FEB_1 - 12 * HOUR, actor="ops", reason="late")
    world.at(MAR_1 + HOUR)
    feb = world.billing.run("2027-02", actor="ops")
    assert [(n.id, n.period, n.total) for n in feb.credit_notes] == [
        ("CN-acme-2027-01-1", "2027-01", Money(Decimal("1190.40")))
    ]
    assert [i.id for i in feb.invoices] == ["INV-acme-2027-02", "INV-beta-2027-02"]


def test_two_runs_at_once_issue_each_invoice_once(world: World):
    world.at(FEB_1 + HOUR)
    start = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        start.wait()
        try:
            results.append(world.billing.run("2027-01", actor="ops"))
        except Exception as e:  # what a losing run raised is its result
            results.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    issued = sorted(len(r.invoices) for r in results if not isinstance(r, Exception))
    assert issued == [0, 2], results  # one run issued both; the other, under the lock after it, nothing
    assert [i.id for i in world.billing.store.invoices(InvoiceQuery())] == ["INV-acme-2027-01", "INV-beta-2027-01"]


def test_a_draft_run_keeps_drafts_to_review_that_issue_sends_and_a_voided_draft_is_billed_next_month(world: World):
    world.at(FEB_1 + HOUR)
    drafted = world.billing.run("2027-01", actor="ops", draft=True)
    assert [(i.id, i.state) for i in drafted.invoices] == [
        ("INV-acme-2027-01", InvoiceState.DRAFT),
        ("INV-beta-2027-01", InvoiceState.DRAFT),
    ]
    again = world.billing.run("2027-01", actor="ops")
    assert (again.invoices, again.waiting) == ((), ("INV-acme-2027-01", "INV-beta-2027-01"))
    sent = world.billing.issue("INV-acme-2027-01", actor="ops", reason="reviewed")
    assert sent.lines == drafted.invoices[0].lines
    assert [c.to_state for c in sent.history] == [InvoiceState.DRAFT, InvoiceState.ISSUED]
    assert world.billing.run("2027-01", actor="ops").waiting == ("INV-beta-2027-01",)
    world.billing.void("INV-beta-2027-01", actor="ops", reason="the contract starts later")
    world.at(MAR_1 + HOUR)
    feb = world.billing.run("2027-02", actor="ops")
    beta = next(i for i in feb.invoices if i.tenant == "beta")
    debits = [(x.kind, x.period, x.amount) for x in beta.lines if x.kind is LineKind.ADJUSTMENT]
    assert debits == [(LineKind.ADJUSTMENT, "2027-01", Money(Decimal("23808.00")))]  # January, never issued
    assert owed(world.billing, "beta") == Decimal("23808.00") + Decimal("21504.00")  # 16 x 672 h x $2.00


def test_a_run_in_another_zone_than_earlier_invoices_is_refused_naming_tz(world: World):
    world.at(MAR_1 + 7 * HOUR)  # March 1, 01:00 in Chicago
    world.billing.run("2027-01", "America/Chicago", actor="ops")
    with pytest.raises(RequestError, match="tz: earlier invoices were billed in America/Chicago, not UTC"):
        world.billing.run("2027-02", actor="ops")  # Feb in UTC would bill Jan 31 18:00 to Feb 1 00:00 CST twice
    assert [i.id for i in world.billing.run("2027-02", "America/Chicago", actor="ops").invoices] == [
        "INV-acme-2027-02",
        "INV-beta-2027-02",
    ]


def test_a_draft_waiting_to_be_issued_holds_the_prepayment_it_drew_so_a_later_run_cannot_draw_it_again(world: World):
    world.billing.deposit("acme", Money(Decimal("15000.00")), actor="ops", note="prepaid")
    world.at(MAR_1 + HOUR)
    world.billing.run("2027-01", actor="ops", draft=True)  # January's draft draws 11,904.00 and waits for review
    feb = next(i for i in world.billing.run("2027-02", actor="ops").invoices if i.tenant == "acme")
    assert [x.amount for x in feb.lines if x.kind is LineKind.PREPAYMENT] == [Money(Decimal("-3096.00"))]
    world.billing.issue("INV-acme-2027-01", actor="ops", reason="reviewed")
    sent = world.billing.store.invoices(InvoiceQuery(tenant="acme"))
    drawn = sum((-x.amount.amount for i in sent for x in i.lines if x.kind is LineKind.PREPAYMENT), Decimal(0))
    assert drawn == Decimal("15000.00")  # never more than was prepaid


def test_a_voided_draft_gives_back_the_prepayment_it_held_to_the_next_run(world: World):
    world.billing.deposit("acme", Money(Decimal("15000.00")), actor="ops", note="prepaid")
    world.at(MAR_1 + HOUR)
    world.billing.run("2027-01", actor="ops", draft=True)
    world.billing.void("INV-acme-2027-01", actor="ops", reason="the contract starts later")
    feb = next(i for i in world.billing.run("2027-02", actor="ops").invoices if i.tenant == "acme")
    assert [x.amount for x in feb.lines if x.kind is LineKind.PREPAYMENT] == [Money(Decimal("-15000.00"))]


def test_a_debit_on_a_draft_waiting_to_be_issued_is_not_billed_again_by_the_next_months_run(world: World):
    world.at(FEB_1 + HOUR)
    world.billing.run("2027-01", actor="ops")
    world.billing.void("INV-acme-2027-01", actor="ops", reason="re-issued by contract")  # a credit note of 11,904.00
    world.at(MAR_1 + HOUR)
    feb = next(i for i in world.billing.run("2027-02", actor="ops", draft=True).invoices if i.tenant == "acme")
    assert [(x.period, x.amount) for x in feb.lines if x.kind is LineKind.ADJUSTMENT] == [
        ("2027-01", Money(Decimal("11904.00")))  # January billed again, on February's draft
    ]
    world.at(t(2027, 4, 1) + HOUR)
    march = world.billing.run("2027-03", actor="ops")  # February's draft still waits for review
    assert [i.id for i in march.invoices if i.tenant == "acme"] == []  # nothing of January to bill a second time
    world.billing.issue("INV-acme-2027-02", actor="ops", reason="reviewed")
    assert owed(world.billing, "acme") == Decimal("11904.00") + Decimal("10752.00")  # 8 x (744 + 672) h x $2.00
