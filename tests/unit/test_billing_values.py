"""Billing's values (domain/billing.py): calendar periods in a time zone, and the
invoice lifecycle as a table."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from neocloud.domain.billing import (
    INVOICE_TRANSITIONS,
    Invoice,
    InvoiceLine,
    InvoiceRuleError,
    InvoiceState,
    LineKind,
    change_invoice_state,
    next_period,
    period,
    period_of,
)
from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money


def _s(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_a_utc_period_is_the_calendar_month() -> None:
    p = period("2027-02")
    assert (p.start_s, p.end_s) == (_s(2027, 2, 1), _s(2027, 3, 1))
    assert p.seconds == 28 * 86_400


def test_a_local_period_starts_at_local_midnight_and_counts_the_dst_hour() -> None:
    p = period("2027-03", "America/Chicago")
    assert p.start_s == _s(2027, 3, 1, 6)  # CST is UTC-6
    assert p.end_s == _s(2027, 4, 1, 5)  # CDT is UTC-5
    assert p.seconds == (31 * 24 - 1) * 3600


def test_periods_tile_time_without_gaps() -> None:
    p = period("2027-11", "Europe/Berlin")
    for _ in range(14):
        q = next_period(p)
        assert q.start_s == p.end_s
        assert period_of(q.start_s, q.tz) == q
        assert period_of(q.start_s - 1, q.tz) == p
        p = q
    assert p.label == "2029-01"


@pytest.mark.parametrize(
    ("label", "tz", "problem"),
    [
        ("2027-13", "UTC", "period: month 13 of '2027-13' is not 01 to 12"),
        ("2027-1", "UTC", "period: '2027-1' is not a month written YYYY-MM"),
        ("1999-12", "UTC", "period: year 1999 is not 2000 to 2999"),
        ("2027-01", "Mars/Olympus", "tz: 'Mars/Olympus' is not an IANA time zone name"),
    ],
)
def test_a_bad_period_names_the_field_and_the_problem(label: str, tz: str, problem: str) -> None:
    with pytest.raises(RequestError) as e:
        period(label, tz)
    assert problem in str(e.value)


def _invoice(state: InvoiceState = InvoiceState.DRAFT) -> Invoice:
    line = InvoiceLine(LineKind.CHARGE, "L-1", "2027-01", "fee", 3600, Money(Decimal("2.35")))
    credit = InvoiceLine(LineKind.SLA_CREDIT, "L-1", "2027-01", "credit", 0, Money(Decimal("-0.24")))
    return Invoice("INV-1", "acme-ai", period("2027-01"), "USD", (line, credit), state, 0)


def test_an_invoice_total_is_the_sum_of_its_lines() -> None:
    assert _invoice().total == Money(Decimal("2.11"))


def test_a_line_in_another_currency_is_refused() -> None:
    bad = InvoiceLine(LineKind.CHARGE, "L-2", "2027-01", "fee", 1, Money(Decimal(1), "EUR"))
    with pytest.raises(InvoiceRuleError, match="EUR"):
        _ = Invoice("INV-2", "acme-ai", period("2027-01"), "USD", (bad,), InvoiceState.DRAFT, 0).total


@pytest.mark.parametrize("edge", list(INVOICE_TRANSITIONS))
def test_every_edge_of_the_table_is_legal_and_recorded(edge: tuple[InvoiceState, InvoiceState]) -> None:
    moved = change_invoice_state(_invoice(edge[0]), edge[1], at_s=5, actor="op", reason="r")
    assert moved.state is edge[1]
    assert moved.history[-1].from_state is edge[0]
    assert moved.lines == _invoice().lines


@pytest.mark.parametrize(
    "edge",
    [(a, b) for a in InvoiceState for b in InvoiceState if (a, b) not in INVOICE_TRANSITIONS],
)
def test_every_edge_outside_the_table_is_refused(edge: tuple[InvoiceState, InvoiceState]) -> None:
    with pytest.raises(InvoiceRuleError, match="cannot go from"):
        change_invoice_state(_invoice(edge[0]), edge[1], at_s=5, actor="op", reason="r")


def test_paid_and_void_are_final() -> None:
    finals = {s for s in InvoiceState if not any(f is s for f, _ in INVOICE_TRANSITIONS)}
    assert finals == {InvoiceState.PAID, InvoiceState.VOID}
