"""The invoice run (billing/invoicing.py): one invoice per tenant, re-runs issue
nothing, late events become credit notes or debits, prepayments drawn within bounds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pytest

from neocloud.billing.invoicing import RatedLease, invoice_run, rate_lease
from neocloud.billing.rating import signed_price
from neocloud.domain.billing import (
    CreditNote,
    Invoice,
    InvoiceRuleError,
    InvoiceState,
    LineKind,
    Period,
    change_invoice_state,
    next_period,
    period,
)
from neocloud.domain.health import Health
from neocloud.domain.leases import Lease
from neocloud.domain.money import Money
from tests.billing_builders import a_lease, at, history, whole

JAN = period("2027-01")
FEB = next_period(JAN)
TERM = (at(2027, 1, 1), at(2027, 3, 1))


def _rated(leases: Sequence[Lease], p: Period, log: tuple[tuple[str, int, Health], ...] = ()) -> list[RatedLease]:
    return [rate_lease(history(le, whole(le, 1, prefix=f"{le.id}n"), log), p, signed_price(le, ())) for le in leases]


def _issue(invoices: Sequence[Invoice]) -> list[Invoice]:
    return [change_invoice_state(i, InvoiceState.ISSUED, at_s=0, actor="test", reason="run") for i in invoices]


LEASES = (
    a_lease(((*TERM, 8),), lease_id="A1", tenant="acme", price="2.00"),
    a_lease(((*TERM, 8),), lease_id="A2", tenant="acme", price="3.00"),
    a_lease(((*TERM, 8),), lease_id="B1", tenant="bravo", price="2.00"),
)


def test_a_run_issues_one_invoice_per_tenant_with_a_deterministic_id() -> None:
    run = invoice_run(JAN, _rated(LEASES, JAN), created_s=7)
    assert [(i.id, i.tenant) for i in run.invoices] == [("INV-acme-2027-01", "acme"), ("INV-bravo-2027-01", "bravo")]
    acme = run.invoices[0]
    assert [line.lease_id for line in acme.lines] == ["A1", "A2"]
    # 8 GPUs x 744 h at 2.00 and 3.00
    assert acme.total == Money(Decimal("11904.00") + Decimal("17856.00"))
    assert acme.state is InvoiceState.DRAFT
    assert acme.created_s == 7
    assert [(h.from_state, h.to_state, h.actor) for h in acme.history] == [(None, InvoiceState.DRAFT, "billing run")]


def test_running_an_issued_period_again_issues_nothing() -> None:
    issued = _issue(invoice_run(JAN, _rated(LEASES, JAN), created_s=0).invoices)
    again = invoice_run(JAN, _rated(LEASES, JAN), invoices=issued, created_s=1)
    assert again.empty
    assert again.pending == ()


def test_a_late_failure_in_a_closed_period_is_a_credit_note_and_the_invoice_never_changes() -> None:
    issued = _issue(invoice_run(JAN, _rated(LEASES, JAN), created_s=0).invoices)
    before = list(issued)
    late = (("A1n000", at(2027, 1, 10), Health.FAILED), ("A1n000", at(2027, 1, 20), Health.HEALTHY))
    rerated = _rated(LEASES, JAN, late) + _rated(LEASES, FEB, late)
    run = invoice_run(FEB, rerated, invoices=issued, created_s=2)
    assert issued == before
    (note,) = run.credit_notes
    assert (note.id, note.invoice_id, note.period) == ("CN-acme-2027-01-1", "INV-acme-2027-01", "2027-01")
    # 8 GPUs x 240 h missing of 744 h: 67.7% available, below 90%: 100% of 11,904.00 back
    assert note.total == Money(Decimal("11904.00"))
    (line,) = note.lines
    assert line.kind is LineKind.ADJUSTMENT
    assert line.evidence[0].node == "A1n000"
    # the February invoices carry February only
    assert {line.period for i in run.invoices for line in i.lines} == {"2027-02"}


def test_a_closed_period_billed_too_little_gets_a_debit_on_the_next_invoice_pointing_at_it() -> None:
    failed = (("A1n000", at(2027, 1, 10), Health.FAILED),)
    issued = _issue(invoice_run(JAN, _rated(LEASES, JAN, failed), created_s=0).invoices)  # credited 100%
    repaired_late = (*failed, ("A1n000", at(2027, 1, 10, 1), Health.HEALTHY))  # it was back within the hour
    run = invoice_run(FEB, _rated(LEASES, JAN, repaired_late) + _rated(LEASES, FEB), invoices=issued, created_s=3)
    assert run.credit_notes == ()
    acme = next(i for i in run.invoices if i.tenant == "acme")
    (debit,) = [line for line in acme.lines if line.kind is LineKind.ADJUSTMENT]
    assert (debit.lease_id, debit.period) == ("A1", "2027-01")
    assert debit.amount == Money(Decimal("11904.00"))  # the whole credit given back: 99.87% available


def test_a_debit_waits_when_the_open_period_was_issued_already() -> None:
    failed = (("A1n000", at(2027, 1, 10), Health.FAILED),)
    jan = _issue(invoice_run(JAN, _rated(LEASES, JAN, failed), created_s=0).invoices)
    feb = _issue(invoice_run(FEB, _rated(LEASES, FEB), invoices=jan, created_s=0).invoices)
    repaired = (*failed, ("A1n000", at(2027, 1, 10, 1), Health.HEALTHY))
    run = invoice_run(FEB, _rated(LEASES, JAN, repaired) + _rated(LEASES, FEB), invoices=jan + feb, created_s=4)
    assert run.invoices == ()
    assert [(line.lease_id, line.period) for line in run.pending] == [("A1", "2027-01")]
    assert run.pending_tenants == ("acme",)


def test_a_second_correction_of_a_period_gets_the_next_credit_note_number() -> None:
    issued = _issue(invoice_run(JAN, _rated(LEASES, JAN), created_s=0).invoices)
    first = (("B1n000", at(2027, 1, 30), Health.FAILED), ("B1n000", at(2027, 1, 31), Health.HEALTHY))
    first_run = invoice_run(FEB, _rated(LEASES, JAN, first), invoices=issued, created_s=1)
    notes: list[CreditNote] = list(first_run.credit_notes)
    second = (("B1n000", at(2027, 1, 2), Health.FAILED), ("B1n000", at(2027, 1, 31), Health.HEALTHY))
    run = invoice_run(FEB, _rated(LEASES, JAN, second), invoices=issued, credit_notes=notes, created_s=2)
    assert [n.id for n in notes + list(run.credit_notes)] == ["CN-bravo-2027-01-1", "CN-bravo-2027-01-2"]


def test_a_prepayment_is_drawn_within_the_balance_and_the_charges() -> None:
    prepaid = {"acme": Money(Decimal("20000.00")), "bravo": Money(Decimal("50000.00"))}
    jan = invoice_run(JAN, _rated(LEASES, JAN), prepaid=prepaid, created_s=0).invoices
    acme, bravo = jan
    assert acme.lines[-1].kind is LineKind.PREPAYMENT
    assert acme.lines[-1].amount == Money(Decimal("-20000.00"))  # the whole balance: less than 29,760 due
    assert acme.total == Money(Decimal("9760.00"))
    assert bravo.lines[-1].amount == Money(Decimal("-11904.00"))  # all that is due: less than the balance
    assert bravo.total == Money(Decimal("0.00"))
    feb = invoice_run(FEB, _rated(LEASES, FEB), invoices=_issue(jan), prepaid=prepaid, created_s=0).invoices
    acme_feb, bravo_feb = feb
    assert all(line.kind is not LineKind.PREPAYMENT for line in acme_feb.lines)  # nothing left
    assert bravo_feb.lines[-1].amount == Money(Decimal("-10752.00"))  # 8 x 672 h x 2.00, of 38,096.00 left


def test_a_lease_that_ran_nothing_in_the_period_puts_no_line_on_the_invoice() -> None:
    later = replace(LEASES[0], contract=(replace(LEASES[0].contract[0], start_s=FEB.start_s),))
    run = invoice_run(JAN, _rated([later, LEASES[1]], JAN), created_s=0)
    assert [line.lease_id for line in run.invoices[0].lines] == ["A2"]


def test_an_earlier_period_whose_draft_waits_is_not_debited_again_on_the_next_invoice() -> None:
    jan_drafts = invoice_run(JAN, _rated(LEASES, JAN), created_s=0).invoices  # drafted, never issued
    run = invoice_run(FEB, _rated(LEASES, JAN) + _rated(LEASES, FEB), invoices=jan_drafts, created_s=1)
    assert {line.period for i in run.invoices for line in i.lines} == {"2027-02"}
    voided = [change_invoice_state(i, InvoiceState.VOID, at_s=2, actor="t", reason="discarded") for i in jan_drafts]
    rebilled = invoice_run(FEB, _rated(LEASES, JAN) + _rated(LEASES, FEB), invoices=voided, created_s=3)
    debits = [line for i in rebilled.invoices for line in i.lines if line.kind is LineKind.ADJUSTMENT]
    assert [(d.lease_id, d.period) for d in debits] == [("A1", "2027-01"), ("A2", "2027-01"), ("B1", "2027-01")]


def test_a_tenant_whose_leases_are_priced_in_two_currencies_is_refused_with_both_named() -> None:
    euro = replace(LEASES[1], request=replace(LEASES[1].request, price_per_gpu_hour=Money(Decimal("2.00"), "EUR")))
    with pytest.raises(InvoiceRuleError, match=r"tenant acme: 2027-01's lines are in EUR, USD"):
        invoice_run(JAN, _rated([LEASES[0], euro], JAN), created_s=0)


def test_a_late_credit_for_a_period_billed_only_on_a_waiting_draft_points_at_that_draft() -> None:
    acme = LEASES[:1]
    feb = invoice_run(FEB, _rated(acme, JAN) + _rated(acme, FEB), created_s=1).invoices  # January as a debit
    assert [(x.kind, x.period) for x in feb[0].lines][-1] == (LineKind.ADJUSTMENT, "2027-01")
    late = (("A1n000", at(2027, 1, 10), Health.FAILED), ("A1n000", at(2027, 1, 20), Health.HEALTHY))
    run = invoice_run(next_period(FEB), _rated(acme, JAN, late), invoices=feb, created_s=2)  # the draft waits
    (note,) = run.credit_notes
    assert (note.invoice_id, note.period, note.total) == ("INV-acme-2027-02", "2027-01", Money(Decimal("11904.00")))
