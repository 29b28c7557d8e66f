"""Invoices, credit notes and their lines with defaults, for the billing store and service tests."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from neocloud.domain.billing import (
    CreditNote,
    Evidence,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceState,
    LineKind,
    Period,
    period,
)
from neocloud.domain.money import Money

IS = InvoiceState
JAN = period("2027-01")
FEB = period("2027-02", "America/Chicago")
DRAFTED = InvoiceChange(None, IS.DRAFT, 100, "run", "drafted by the 2027-01 run")
ISSUED = InvoiceChange(IS.DRAFT, IS.ISSUED, 100, "run", "issued by the 2027-01 run")


def usd(text_: str) -> Money:
    return Money(Decimal(text_), "USD")


def a_line(lease: str = "L-1", amount: str = "1000.00", kind: LineKind = LineKind.CHARGE, **kw: object) -> InvoiceLine:
    line = InvoiceLine(kind, lease, "2027-01", f"{kind.value} for {lease}", 3600 * 64, usd(amount))
    return replace(line, **kw)  # type: ignore[arg-type]


def an_invoice(
    invoice_id: str = "INV-1", tenant: str = "acme", p: Period = JAN, state: IS = IS.ISSUED, **kw: object
) -> Invoice:
    evidence = (Evidence("n-1", 10, 3610, 8, "failed"), Evidence("n-2", 50, 60, 4, "unreplaced"))
    lines = (
        a_line(amount="1234.56"),
        a_line(amount="-12.35", kind=LineKind.SLA_CREDIT, evidence=evidence),
        a_line("L-2", "0.01", gpu_s=1),
    )
    history = (DRAFTED,) if state is IS.DRAFT else (DRAFTED, ISSUED)
    invoice = Invoice(invoice_id, tenant, p, "USD", lines, IS.DRAFT if state is IS.DRAFT else IS.ISSUED, 100, history)
    return replace(invoice, **kw)  # type: ignore[arg-type]


def a_note(note_id: str = "CN-1", invoice_id: str = "INV-1") -> CreditNote:
    lines = (a_line(amount="12.35", kind=LineKind.ADJUSTMENT, description="late failure report on n-1"),)
    return CreditNote(note_id, "acme", invoice_id, "2027-01", "USD", lines, "a late health report", 200)
