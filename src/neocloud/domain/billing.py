"""Billing's values: the period, invoices and their lines with evidence, credit notes,
and the invoice lifecycle as a transition table.

These are the shapes the billing core (``neocloud.billing``) computes and the stores
persist; nothing here rates or meters. Amounts are :class:`Money` rounded once per
line by :func:`~neocloud.domain.money.round_money`; a total is the sum of its lines.

Signs: on an invoice a charge or an adjustment (a debit for an earlier period) is
positive, an SLA credit or a prepayment drawn is negative. A credit note's lines are
positive amounts given back, so what a tenant owes over all time is the sum of its
invoices minus the sum of its credit notes.

Lifecycle: draft -> issued -> paid, with void from draft (discarded) or from issued
(withdrawn in full, a credit note of its total beside it). An issued invoice's lines
never change: a correction is a credit note or a debit line on a later invoice that
points at the period it corrects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from neocloud.domain.errors import DomainError, RequestError
from neocloud.domain.money import Money

_LABEL = re.compile(r"^(\d{4})-(\d{2})$")
#: Periods billed: a year from 2000 to 2999 (a bound against typos, not a policy).
MIN_YEAR, MAX_YEAR = 2000, 2999
#: The default billing time zone: periods are calendar months in UTC unless a tenant's
#: contract states another IANA zone.
DEFAULT_TZ = "UTC"


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month in a time zone: ``[start_s, end_s)`` in epoch seconds.

    ``label`` is ``YYYY-MM``; a month in ``America/Chicago`` starts at local midnight
    on the 1st, so its seconds differ from the same label in UTC."""

    label: str
    tz: str
    start_s: int
    end_s: int

    @property
    def seconds(self) -> int:
        return self.end_s - self.start_s

    def clip(self, start_s: int, end_s: int) -> tuple[int, int] | None:
        """``[start_s, end_s)`` inside the period, or None when they do not overlap."""
        lo, hi = max(start_s, self.start_s), min(end_s, self.end_s)
        return (lo, hi) if lo < hi else None


def period(label: str, tz: str = DEFAULT_TZ, *, field: str = "period") -> Period:
    """The period ``label`` (``2027-01``) in ``tz``; :class:`RequestError` naming
    ``field`` (or ``tz``) and the problem otherwise."""
    match = _LABEL.match(label.strip())
    if match is None:
        raise RequestError([f"{field}: {label!r} is not a month written YYYY-MM, like 2027-01"])
    year, month = int(match[1]), int(match[2])
    problems = []
    if not 1 <= month <= 12:
        problems.append(f"{field}: month {month:02d} of {label!r} is not 01 to 12")
    if not MIN_YEAR <= year <= MAX_YEAR:
        problems.append(f"{field}: year {year} is not {MIN_YEAR} to {MAX_YEAR}")
    zone = _zone(tz, problems)
    if problems or zone is None:
        raise RequestError(problems)
    return _month(year, month, zone, tz)


def period_of(t_s: int, tz: str = DEFAULT_TZ) -> Period:
    """The period holding instant ``t_s`` in ``tz``."""
    problems: list[str] = []
    zone = _zone(tz, problems)
    if zone is None:
        raise RequestError(problems)
    local = datetime.fromtimestamp(t_s, zone)
    return _month(local.year, local.month, zone, tz)


def next_period(p: Period) -> Period:
    """The month after ``p``, in the same zone."""
    return period_of(p.end_s, p.tz)


def _zone(tz: str, problems: list[str]) -> ZoneInfo | None:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"tz: {tz!r} is not an IANA time zone name such as UTC or America/Chicago")
        return None


def _month(year: int, month: int, zone: ZoneInfo, tz: str) -> Period:
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=zone)
    return Period(f"{year:04d}-{month:02d}", tz, int(start.timestamp()), int(end.timestamp()))


class InvoiceState(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PAID = "paid"
    VOID = "void"


IS = InvoiceState

#: Legal invoice transitions and why each exists. Anything absent is refused.
INVOICE_TRANSITIONS: dict[tuple[InvoiceState, InvoiceState], str] = {
    (IS.DRAFT, IS.ISSUED): "the invoice run closed the period and sent it: from now on its lines never change",
    (IS.DRAFT, IS.VOID): "discarded before it was sent",
    (IS.ISSUED, IS.PAID): "the tenant's payment of the total was received",
    (IS.ISSUED, IS.VOID): "withdrawn in full: a credit note of its total is issued beside it",
}


class InvoiceRuleError(DomainError):
    """An invoice operation its rules do not allow; the message says why."""


class LineKind(StrEnum):
    """What an invoice or credit-note line is for."""

    CHARGE = "charge"  # a committed fee or rated usage for the period (positive)
    SLA_CREDIT = "sla_credit"  # the computed credit for a shortfall below the contract's SLA (negative)
    PREPAYMENT = "prepayment"  # prepaid money drawn down against the period's charges (negative)
    ADJUSTMENT = "adjustment"  # a correction of an earlier period: a debit on an invoice, a credit on a note


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why GPUs were missing: ``gpus`` of ``node`` over ``[start_s, end_s)``, because
    the node was ``cause`` (a health state such as ``failed``, or ``unreplaced`` when a
    booked node left the lease without a replacement)."""

    node: str
    start_s: int
    end_s: int
    gpus: int
    cause: str

    @property
    def gpu_s(self) -> int:
        return self.gpus * (self.end_s - self.start_s)


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line: ``amount`` (rounded once) for ``gpu_s`` GPU-seconds of ``lease_id`` in
    ``period`` (for an adjustment, the period it corrects), with the evidence behind an
    SLA credit."""

    kind: LineKind
    lease_id: str
    period: str
    description: str
    gpu_s: int
    amount: Money
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True, slots=True)
class InvoiceChange:
    from_state: InvoiceState | None
    to_state: InvoiceState
    at_s: int
    actor: str
    reason: str


@dataclass(frozen=True, slots=True)
class Invoice:
    """One tenant's invoice for one period (at most one per tenant and period)."""

    id: str
    tenant: str
    period: Period
    currency: str
    lines: tuple[InvoiceLine, ...]
    state: InvoiceState
    created_s: int
    history: tuple[InvoiceChange, ...] = ()

    @property
    def total(self) -> Money:
        return _sum(self.lines, self.currency)


@dataclass(frozen=True, slots=True)
class CreditNote:
    """Money given back on an issued invoice ``invoice_id`` for ``period``: its lines
    are positive amounts credited, each naming the lease and why."""

    id: str
    tenant: str
    invoice_id: str
    period: str
    currency: str
    lines: tuple[InvoiceLine, ...]
    reason: str
    created_s: int

    @property
    def total(self) -> Money:
        return _sum(self.lines, self.currency)


def change_invoice_state(invoice: Invoice, target: InvoiceState, *, at_s: int, actor: str, reason: str) -> Invoice:
    """``invoice`` moved to ``target``; :class:`InvoiceRuleError` on an illegal edge."""
    if (invoice.state, target) not in INVOICE_TRANSITIONS:
        allowed = sorted(t.value for (f, t) in INVOICE_TRANSITIONS if f is invoice.state)
        raise InvoiceRuleError(
            f"invoice {invoice.id}: cannot go from {invoice.state.value} to {target.value}; "
            f"allowed from {invoice.state.value}: {', '.join(allowed) or 'none (final state)'}"
        )
    record = InvoiceChange(invoice.state, target, at_s, actor, reason)
    return replace(invoice, state=target, history=(*invoice.history, record))


def _sum(lines: tuple[InvoiceLine, ...], currency: str) -> Money:
    for line in lines:
        if line.amount.currency != currency:
            raise InvoiceRuleError(f"line for {line.lease_id} is in {line.amount.currency}, the document in {currency}")
    return Money(sum((line.amount.amount for line in lines), Decimal(0)), currency)


class DuplicateInvoice(InvoiceRuleError):
    """A second invoice for a tenant and period: refused by the code and by the
    database's unique rule on ``(tenant, period)``."""


class PeriodNotEnded(InvoiceRuleError):
    """An invoice run over a period that has not ended yet (a preview may run)."""


@dataclass(frozen=True, slots=True)
class Deposit:
    """Money ``tenant`` paid ahead (a positive ``amount``), drawn down by the
    prepayment lines of its later invoices. Deposits are appended, never changed."""

    id: str
    tenant: str
    amount: Money
    at_s: int
    actor: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    """Invoices of ``tenant``, ``period`` (a label) and ``state``; ``None`` matches all."""

    tenant: str | None = None
    period: str | None = None
    state: InvoiceState | None = None

    def matches(self, invoice: Invoice) -> bool:
        return (
            (self.tenant is None or invoice.tenant == self.tenant)
            and (self.period is None or invoice.period.label == self.period)
            and (self.state is None or invoice.state is self.state)
        )


def history_problems(invoice: Invoice) -> list[str]:
    """What is wrong with ``invoice``'s history as a store would keep it: it starts as
    a draft (``None -> draft``), each change leaves the state the one before reached
    along :data:`INVOICE_TRANSITIONS`, and it ends in ``invoice.state``."""
    state: InvoiceState | None = None
    problems = []
    for k, change in enumerate(invoice.history):
        legal = (
            change.from_state is None and change.to_state is IS.DRAFT
            if k == 0
            else (change.from_state is state and (change.from_state, change.to_state) in INVOICE_TRANSITIONS)
        )
        if not legal:
            was = "nothing" if change.from_state is None else change.from_state.value
            problems.append(f"history[{k}]: {was} -> {change.to_state.value} does not follow the transition table")
        state = change.to_state
    if (state or IS.DRAFT) is not invoice.state:
        problems.append(f"state: {invoice.state.value} is not where its history ends ({(state or IS.DRAFT).value})")
    return problems
