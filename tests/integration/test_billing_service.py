"""The billing service's lifecycle and reads on every store: every edge of the invoice
transition table through the service (the others refused), voiding an issued invoice
with its credit note, tenant isolation, deposits, and exports that add up."""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.domain.billing import INVOICE_TRANSITIONS, InvoiceRuleError, InvoiceState
from neocloud.domain.changes import EventQuery
from neocloud.domain.clock import ManualClock
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.services.billing import BillingService
from neocloud.services.billing_export import invoice_csv, invoice_document
from neocloud.services.leasing import LeasingService
from neocloud.services.visibility import Viewer
from tests.integration.stores import STORE_KINDS, store_factory
from tests.invoice_builders import IS, a_line, an_invoice, usd

ACME, BETA = Viewer("acme"), Viewer("beta")


@pytest.fixture(params=STORE_KINDS)
def billing(request: pytest.FixtureRequest) -> BillingService:
    store = store_factory(request.param, request)()
    clock = ManualClock(datetime(2027, 2, 3, tzinfo=UTC))
    leasing = LeasingService(store, clock)
    leasing.init(build_fleet(preset("demo")), actor="test")
    for tenant in ("acme", "beta"):
        leasing.add_tenant(tenant, actor="test")
    ids = (f"DEP-{k}" for k in itertools.count(1))
    return BillingService(store, leasing, clock, new_deposit_id=lambda: next(ids))  # type: ignore[arg-type]


def stored(billing: BillingService, *invoices: object) -> None:
    with billing.store.writing() as w:
        for invoice in invoices:
            w.add_invoice(invoice)  # type: ignore[arg-type]


MOVES = {IS.ISSUED: BillingService.issue, IS.PAID: BillingService.pay}


def move(billing: BillingService, invoice_id: str, target: InvoiceState) -> object:
    if target is IS.VOID:
        return billing.void(invoice_id, actor="ops", reason="test").invoice
    if target is IS.DRAFT:  # no use case leads back to a draft
        raise InvoiceRuleError(f"invoice {invoice_id}: cannot go back to draft")
    return MOVES[target](billing, invoice_id, actor="ops", reason="test")


def put_in(billing: BillingService, invoice_id: str, state: InvoiceState) -> None:
    """An invoice stored as a draft and walked to ``state`` along the table."""
    stored(billing, an_invoice(invoice_id, f"t-{invoice_id}", state=IS.DRAFT))
    for step in {IS.DRAFT: [], IS.ISSUED: [IS.ISSUED], IS.PAID: [IS.ISSUED, IS.PAID], IS.VOID: [IS.VOID]}[state]:
        move(billing, invoice_id, step)


def test_every_edge_of_the_table_goes_through_the_service_and_every_other_is_refused(billing: BillingService):
    for k, (start, target) in enumerate(itertools.product(IS, IS)):
        invoice_id = f"INV-{k}"
        put_in(billing, invoice_id, start)
        before = billing.invoice(invoice_id)
        if (start, target) in INVOICE_TRANSITIONS:
            after = move(billing, invoice_id, target)
            assert after == billing.invoice(invoice_id)
            assert billing.invoice(invoice_id).state is target
            assert billing.invoice(invoice_id).history[-1].reason == "test"
        else:
            with pytest.raises(InvoiceRuleError):
                move(billing, invoice_id, target)
            assert billing.invoice(invoice_id) == before  # nothing written


def test_a_state_change_needs_a_reason_and_keeps_the_actor_and_the_time(billing: BillingService):
    stored(billing, an_invoice())
    with pytest.raises(RequestError, match="reason: required"):
        billing.pay("INV-1", actor="ops", reason=" ")
    paid = billing.pay("INV-1", actor="alice", reason="wire received 2027-02-03")
    assert paid.history[-1].actor == "alice"
    assert paid.history[-1].at_s == int(datetime(2027, 2, 3, tzinfo=UTC).timestamp())
    events = billing.leasing.events(EventQuery(kind="billing.invoice"))
    assert [(e.event.kind, e.event.tenant, e.event.before) for e in events] == [
        ("billing.invoice.paid", "acme", {"state": "issued"})
    ]


def test_voiding_an_issued_invoice_issues_a_credit_note_giving_back_what_it_billed(billing: BillingService):
    invoice = an_invoice()  # charges 1234.56 + 0.01, an SLA credit of -12.35
    stored(billing, invoice)
    voided = billing.void("INV-1", actor="ops", reason="billed the wrong tenant")
    assert voided.invoice.state is IS.VOID
    note = voided.credit_note
    assert note is not None
    assert note.invoice_id == "INV-1"
    assert note.total == invoice.total == usd("1222.22")
    assert {(x.lease_id, x.amount) for x in note.lines} == {("L-1", usd("1222.21")), ("L-2", usd("0.01"))}
    assert billing.credit_notes(ACME).items == [note]
    assert billing.credit_notes(BETA).items == []


def test_voiding_a_draft_gives_nothing_back(billing: BillingService):
    stored(billing, an_invoice(state=IS.DRAFT))
    voided = billing.void("INV-1", actor="ops", reason="discarded")
    assert voided.credit_note is None
    assert billing.credit_notes().items == []


def test_a_tenant_sees_its_own_invoices_only_and_another_tenants_is_not_found(billing: BillingService):
    stored(billing, an_invoice(), an_invoice("INV-2", "beta"))
    assert [i.id for i in billing.invoices(ACME).items] == ["INV-1"]
    assert [i.id for i in billing.invoices().items] == ["INV-1", "INV-2"]
    assert billing.invoice("INV-1", ACME).tenant == "acme"
    with pytest.raises(NotFound, match="no invoice 'INV-2'"):
        billing.invoice("INV-2", ACME)
    with pytest.raises(NotFound, match="no invoice 'INV-404'"):
        billing.invoice("INV-404", ACME)  # the same words as for one that does not exist
    with pytest.raises(NotFound):
        billing.invoices(ACME, tenant="beta")


def test_invoices_come_a_page_at_a_time_each_once(billing: BillingService):
    stored(billing, *(an_invoice(f"INV-{k}", f"t{k:02d}") for k in range(7)))
    seen, cursor = [], None
    for _ in range(10):
        got = billing.invoices(limit=3, cursor=cursor)
        seen += [i.id for i in got.items]
        cursor = got.next_cursor
        if cursor is None:
            break
    assert seen == [f"INV-{k}" for k in range(7)]


def test_deposits_are_recorded_for_known_tenants_in_the_minor_unit(billing: BillingService):
    made = billing.deposit("acme", usd("5000000.00"), actor="ops", note="prepaid Q1")
    assert billing.deposits(ACME) == [made]
    assert billing.deposits(BETA) == []
    with pytest.raises(NotFound):
        billing.deposit("nobody", usd("1.00"), actor="ops")
    for bad, words in ((usd("0"), "more than zero"), (usd("1.005"), "minor unit")):
        with pytest.raises(RequestError, match=words):
            billing.deposit("acme", bad, actor="ops")
    assert len(billing.deposits()) == 1
    assert billing.deposit("acme", Money(Decimal("1E+3")), actor="ops").amount.amount.as_tuple().exponent == -2


def test_a_deposit_too_large_to_sum_exactly_is_refused_naming_the_amount_and_writes_nothing(billing: BillingService):
    for bad in ("1E+999999", "1" + "0" * 30, "9" * 26 + ".99"):  # the first two once crashed rounding (a 500)
        with pytest.raises(RequestError, match=r"amount: .* is more than the largest deposit, 1,000,000,000,000,000"):
            billing.deposit("acme", usd(bad), actor="ops")
    assert billing.deposits() == []
    assert billing.deposit("acme", usd("1000000000000000"), actor="ops").amount == usd("1000000000000000.00")


def test_the_csv_export_adds_up_to_the_total_and_the_json_to_the_invoice(billing: BillingService):
    invoice = an_invoice(lines=(*an_invoice().lines, a_line("L-3", "99999999.99")))
    rows = list(csv.DictReader(io.StringIO(invoice_csv(invoice))))
    lines, total = rows[:-1], rows[-1]
    assert total["kind"] == "total"
    assert sum(Decimal(r["amount"]) for r in lines) == Decimal(total["amount"]) == invoice.total.amount
    assert [r["kind"] for r in lines] == [x.kind.value for x in invoice.lines]
    assert lines[1]["shortfall_gpu_s"] == str(8 * 3600 + 4 * 10)
    doc = json.loads(json.dumps(invoice_document(invoice)))
    assert Decimal(doc["total"]) == sum(Decimal(x["amount"]) for x in doc["lines"]) == invoice.total.amount
    assert doc["start"] == "2027-01-01T00:00:00Z"
    assert doc["lines"][1]["evidence"][0] == {
        "node": "n-1",
        "start": "1970-01-01T00:00:10Z",
        "end": "1970-01-01T01:00:10Z",
        "gpus": 8,
        "cause": "failed",
    }
