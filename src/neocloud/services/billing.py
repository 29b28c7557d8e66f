"""Billing's use cases: the invoice run, invoices and credit notes for a viewer, their
lifecycle (issue, pay, void), prepayments, and exports.

Every write is one transaction through the store's :class:`~neocloud.services.ports.BillingWriter`
under its write lock: the documents and their events commit together or not at all.
State changes go through :func:`~neocloud.domain.billing.change_invoice_state` (the
transition table, with a reason and an actor) and are stored as guarded writes: the
store changes the state only if the invoice is still in the state this service read.
Voiding an issued invoice issues, in the same transaction, a credit note giving back
every lease-period it billed. A tenant sees its own documents only: another tenant's
is "not found", in the words used for one that does not exist.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from neocloud.billing import (
    InvoiceRun,
    LeaseHistory,
    RatedLease,
    Usage,
    credit_note_id,
    credit_share,
    invoice_run,
    meter,
    rate_lease,
    signed_price,
    terms_of,
)
from neocloud.domain.billing import (
    DEFAULT_TZ,
    CreditNote,
    Deposit,
    Invoice,
    InvoiceLine,
    InvoiceQuery,
    InvoiceState,
    LineKind,
    Period,
    PeriodNotEnded,
    change_invoice_state,
    next_period,
    period,
    period_of,
)
from neocloud.domain.changes import Change, Event
from neocloud.domain.clock import Clock, to_s
from neocloud.domain.credits import describe_credits
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.leases import Lease
from neocloud.domain.money import Money, round_money
from neocloud.domain.names import note_problems, reason_problems
from neocloud.economics.pricebook import Price, PriceBook, PriceRefused
from neocloud.services.billing_export import invoice_document
from neocloud.services.billing_inputs import BILLED_STATES, billed_leases, lease_histories, rate_periods
from neocloud.services.catalog import Page, page
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import BillingReads, BillingStore, BillingWriter
from neocloud.services.visibility import OPERATOR, Viewer

IS = InvoiceState
#: Line kinds that bill usage (a prepayment drawn is the tenant's own money, not usage).
USAGE = frozenset({LineKind.CHARGE, LineKind.SLA_CREDIT, LineKind.ADJUSTMENT})
NOTE_MAX = 500  # characters of a deposit's note (a bound against pasted files, not a policy)
#: The largest deposit: a bound that keeps every sum of prepayments exact in Decimal's
#: default 28 digits (and rounding from raising), not a policy: 80,000 times the largest
#: monthly fee the price book takes (economics/pricebook.py MAX_MONTHLY_FEE).
MAX_DEPOSIT = Decimal(10**15)


def new_deposit_id() -> str:
    return f"DEP-{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True, slots=True)
class BillingRun:
    """What a run issued for ``period`` (with ``dry_run``: what it would issue, as
    drafts; nothing written): invoices, credit notes, the debit lines that wait for a
    tenant's next open invoice, and the month's stored drafts it left to be issued."""

    period: Period
    invoices: tuple[Invoice, ...]
    credit_notes: tuple[CreditNote, ...]
    pending: tuple[InvoiceLine, ...] = ()
    dry_run: bool = False
    waiting: tuple[str, ...] = ()  # the month's drafts already stored, still to be issued or voided


@dataclass(frozen=True, slots=True)
class SlaMonth:
    """One month of a lease's SLA, metered, rated and credited as the invoice run does
    (:func:`~neocloud.billing.rate_lease`): ``closed`` once the month has ended, else
    the month so far (``usage.until_s``, now). ``share`` is the share of the charge
    the availability earns as a credit; ``credit`` the credit line's amount (negative,
    zero when none); ``charge`` and ``credit`` are ``None`` when the lease cannot be
    priced (``LeaseSla.refused`` says why)."""

    period: Period
    closed: bool
    usage: Usage
    target_pct: Decimal
    share: Decimal
    charge: Money | None
    credit: Money | None


@dataclass(frozen=True, slots=True)
class LeaseSla:
    """A lease's SLA month by month in the billing zone ``tz``, from its start to now."""

    lease: Lease
    tz: str
    months: tuple[SlaMonth, ...]
    refused: str | None = None  # why the lease could not be priced (no card for its signed version)

    @property
    def terms(self) -> str:
        """The SLA the lease was signed with, in one line (its target, tiers and cap)."""
        r = self.lease.request
        return describe_credits(r.sla_availability_pct, r.sla_credit_tiers, r.sla_credit_cap)


@dataclass(frozen=True, slots=True)
class Voided:
    """An invoice voided, and the credit note issued beside it (``None`` for a draft:
    it was never sent, so there is nothing to give back)."""

    invoice: Invoice
    credit_note: CreditNote | None


class BillingService:
    def __init__(
        self,
        store: BillingStore,
        leasing: LeasingService,
        clock: Clock,
        *,
        new_deposit_id: Callable[[], str] = new_deposit_id,
    ) -> None:
        """``leasing``: the ledger (leases, bookings, node health, tenants) the run bills."""
        self.store = store
        self.leasing = leasing
        self.clock = clock
        self.new_deposit_id = new_deposit_id

    # -- the run ---------------------------------------------------------------------------
    def run(
        self, label: str, tz: str = DEFAULT_TZ, *, actor: str, dry_run: bool = False, draft: bool = False
    ) -> BillingRun:
        """Bill the month ``label`` in zone ``tz``: one invoice per tenant that has none
        for it yet, issued (``draft``: kept as drafts to review, each sent by
        :meth:`issue`); the credit notes that closed periods need now (a late health
        report, a price fix); written in one transaction with their events. Running it
        again issues nothing new (and the database refuses a second invoice for a
        tenant and period); a tenant whose draft for the month waits is left to it.
        Refused (:class:`PeriodNotEnded`) before the month ends, unless ``dry_run``:
        the drafts it would issue, nothing written."""
        p = period(label, tz)
        now_s = self._now()
        if now_s < p.end_s and not dry_run:
            raise PeriodNotEnded(
                f"{p.label} ends {_local(p.end_s, p.tz)}: bill it from then on, or preview it (dry run)"
            )
        periods = self._periods_to_rate(p)
        leases = billed_leases(self.leasing.leases(), periods)
        rated = rate_periods(lease_histories(self.leasing, leases), periods, self._versions())
        if dry_run:
            found, _ = _core_run(p, rated, self.store, now_s, actor)
            return BillingRun(p, found.invoices, found.credit_notes, found.pending, dry_run=True)
        with self.store.writing() as w:  # the documents read, decided on and written under the lock
            found, waiting = _core_run(p, rated, w, now_s, actor)
            new = tuple(i if draft else _issued(i, p, now_s, actor) for i in found.invoices if i.id not in waiting)
            _write_run(w, BillingRun(p, new, found.credit_notes, found.pending), now_s, actor)
        return BillingRun(p, new, found.credit_notes, found.pending, waiting=tuple(sorted(waiting)))

    def preview(self, viewer: Viewer = OPERATOR, tz: str | None = None) -> BillingRun:
        """The current month so far as the run would bill it if the month ended now: a
        dry run metered to now (a wholesale fee is the month's share up to now), of the
        viewer's leases only (a tenant: its own; nothing of another tenant's is rated),
        with the credit notes closed months would need. Nothing is written. ``tz``:
        the billing zone (default: the zone of the invoices stored, else UTC)."""
        now_s = self._now()
        p = period_of(now_s, tz or self.zone())
        periods = self._periods_to_rate(p)
        leases = billed_leases(self.leasing.leases(viewer=viewer), periods)
        rated = rate_periods(lease_histories(self.leasing, leases), periods, self._versions(), until_s=now_s)
        found, _ = _core_run(p, rated, self.store, now_s, "preview")
        mine = tuple(i for i in found.invoices if _sees(viewer, i.tenant))
        notes = tuple(n for n in found.credit_notes if _sees(viewer, n.tenant))
        return BillingRun(p, mine, notes, (), dry_run=True)

    def lease_sla(self, lease_id: str, viewer: Viewer = OPERATOR) -> LeaseSla:
        """The lease's SLA month by month, from the month it starts to the month now
        (that one so far): contracted and delivered GPU-seconds, availability, the
        target and the credit earned, by the invoice run's own metering and credit
        (:func:`~neocloud.billing.rate_lease`). Another tenant's lease is
        :class:`NotFound`, as a missing one. A lease that never billed (a hold, a
        lease cancelled or expired before its start) or has not started has no months."""
        lease = next((le for le in self.leasing.leases(viewer=viewer) if le.id == lease_id), None)
        if lease is None:
            raise NotFound(f"no lease {lease_id!r}")
        tz, now_s = self.zone(lease.tenant), self._now()
        end_s = min(now_s, lease.end_s)
        if lease.state not in BILLED_STATES or lease.start_s >= end_s:
            return LeaseSla(lease, tz, ())
        [history] = lease_histories(self.leasing, [lease])
        try:
            price = signed_price(lease, self._versions())
        except PriceRefused as e:
            return LeaseSla(lease, tz, _sla_months(history, tz, end_s, now_s, None), refused=str(e))
        return LeaseSla(lease, tz, _sla_months(history, tz, end_s, now_s, price))

    def zone(self, tenant: str | None = None) -> str:
        """The billing time zone: the one the stored invoices were billed in (a run
        refuses a second zone, so any one tells), else UTC. With ``tenant``, its own
        invoices are read first (a page's cost follows its tenant's history)."""
        stored = self.store.invoices(InvoiceQuery(tenant)) if tenant else []
        stored = stored or self.store.invoices(InvoiceQuery())
        return stored[0].period.tz if stored else DEFAULT_TZ

    def _versions(self) -> list[PriceBook]:
        return self.leasing.pricing.versions() if self.leasing.pricing is not None else []

    def _periods_to_rate(self, p: Period) -> list[Period]:
        """``p``, and every earlier period some tenant was invoiced for (re-rated on the
        current history: a correction of a closed period appears on this run). The
        zone is the one earlier invoices were billed in: months of two zones would
        leave hours between them unbilled, or bill them twice."""
        invoiced = self.store.invoices(InvoiceQuery())
        zones = sorted({i.period.tz for i in invoiced} - {p.tz})
        if zones:
            raise RequestError(
                [
                    f"tz: earlier invoices were billed in {', '.join(zones)}, not {p.tz}; months in two zones "
                    "would leave the hours between them unbilled or billed twice"
                ]
            )
        before = {i.period.label: i.period for i in invoiced if i.period.label < p.label}
        return [*sorted(before.values(), key=lambda q: q.label), p]

    # -- reads -----------------------------------------------------------------------
    def invoices(
        self,
        viewer: Viewer = OPERATOR,
        *,
        tenant: str | None = None,
        period: str | None = None,
        state: InvoiceState | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Invoice]:
        """Invoices the viewer may see, by period then tenant, a page at a time."""
        query = InvoiceQuery(viewer.scope(tenant), period, state)
        return page(self.store.invoices(query), _invoice_key, limit, cursor)

    def invoice(self, invoice_id: str, viewer: Viewer = OPERATOR) -> Invoice:
        """One invoice; another tenant's is :class:`NotFound`, as a missing one."""
        found = self.store.invoice(invoice_id)
        if found is None or not _sees(viewer, found.tenant):
            raise NotFound(f"no invoice {invoice_id!r}")
        return found

    def credit_notes(
        self,
        viewer: Viewer = OPERATOR,
        *,
        tenant: str | None = None,
        invoice_id: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[CreditNote]:
        """Credit notes the viewer may see (on ``invoice_id`` if given), oldest first."""
        notes = self.store.credit_notes(viewer.scope(tenant), invoice_id)
        return page(notes, lambda n: f"{n.created_s:015d}|{n.id}", limit, cursor)

    def credit_note(self, note_id: str, viewer: Viewer = OPERATOR) -> CreditNote:
        found = self.store.credit_note(note_id)
        if found is None or not _sees(viewer, found.tenant):
            raise NotFound(f"no credit note {note_id!r}")
        return found

    def deposits(self, viewer: Viewer = OPERATOR, *, tenant: str | None = None) -> list[Deposit]:
        return self.store.deposits(viewer.scope(tenant))

    # -- lifecycle (operator) -----------------------------------------------------------
    def issue(self, invoice_id: str, *, actor: str, reason: str) -> Invoice:
        """Send a draft: from now on its lines never change."""
        return self._move(invoice_id, IS.ISSUED, actor, reason)[0]

    def pay(self, invoice_id: str, *, actor: str, reason: str) -> Invoice:
        """Record the tenant's payment of an issued invoice's total."""
        return self._move(invoice_id, IS.PAID, actor, reason)[0]

    def void(self, invoice_id: str, *, actor: str, reason: str) -> Voided:
        """Discard a draft, or withdraw an issued invoice in full: a credit note giving
        back every lease-period it billed is issued in the same transaction."""
        invoice, note = self._move(invoice_id, IS.VOID, actor, reason)
        return Voided(invoice, note)

    def deposit(self, tenant: str, amount: Money, *, actor: str, note: str = "") -> Deposit:
        """Record a prepayment of ``tenant``; later invoices draw it down."""
        problems = note_problems("note", note, NOTE_MAX)
        if amount.amount <= 0:
            problems.append(f"amount: {amount} must be more than zero")
        elif amount.amount > MAX_DEPOSIT:
            problems.append(f"amount: {amount} is more than the largest deposit, {MAX_DEPOSIT:,} {amount.currency}")
        elif round_money(amount.amount, amount.currency) != amount.amount:
            problems.append(f"amount: {amount} has more decimal places than {amount.currency}'s minor unit")
        if problems:
            raise RequestError(problems)
        amount = Money(round_money(amount.amount, amount.currency), amount.currency)  # 1E+3 is kept as 1000.00
        if tenant not in self.leasing.tenants():
            raise NotFound(f"no tenant {tenant!r}")
        with self.store.writing() as w:
            other = next((d.amount.currency for d in w.deposits(tenant) if d.amount.currency != amount.currency), None)
            if other is not None:
                raise RequestError([f"amount: {tenant}'s prepayments are in {other}, not {amount.currency}"])
            made = Deposit(self.new_deposit_id(), tenant, amount, self._now(), actor, note)
            w.add_deposit(made)
            after = {"id": made.id, "amount": str(amount.amount), "currency": amount.currency, "note": note}
            w.write(Change(events=(Event("billing.deposit", made.id, made.at_s, actor, tenant, after=after),)))
        return made

    # -- helpers -----------------------------------------------------------------------
    def _move(
        self, invoice_id: str, target: InvoiceState, actor: str, reason: str
    ) -> tuple[Invoice, CreditNote | None]:
        problems = reason_problems(reason) if reason.strip() else ["reason: required: say why, for the history"]
        if problems:
            raise RequestError(problems)
        with self.store.writing() as w:
            now = w.invoice(invoice_id)
            if now is None:
                raise NotFound(f"no invoice {invoice_id!r}")
            moved = change_invoice_state(now, target, at_s=self._now(), actor=actor, reason=reason)
            w.change_invoice(invoice_id, moved.history[-1])
            note = _withdrawal(w, moved) if target is IS.VOID and now.state is IS.ISSUED else None
            events = [_state_event(now, moved)]
            if note is not None:
                w.add_credit_note(note)
                events.append(note_event(note, actor))
            w.write(Change(events=tuple(events)))
        return moved, note

    def _now(self) -> int:
        return to_s(self.clock.now())


def note_event(note: CreditNote, actor: str) -> Event:
    after = {"invoice": note.invoice_id, "period": note.period, "total": str(note.total.amount), "reason": note.reason}
    return Event("billing.credit_note", note.id, note.created_s, actor, note.tenant, after=after)


def invoice_event(invoice: Invoice, actor: str) -> Event:
    """The event of an invoice a run issued."""
    after = {"period": invoice.period.label, "state": invoice.state.value, "total": str(invoice.total.amount)}
    return Event(
        f"billing.invoice.{invoice.state.value}", invoice.id, invoice.created_s, actor, invoice.tenant, after=after
    )


def _state_event(before: Invoice, after: Invoice) -> Event:
    change = after.history[-1]
    return Event(
        f"billing.invoice.{after.state.value}",
        after.id,
        change.at_s,
        change.actor,
        after.tenant,
        before={"state": before.state.value},
        after={"state": after.state.value, "reason": change.reason},
    )


def _withdrawal(w: BillingWriter, invoice: Invoice) -> CreditNote:
    """The credit note beside a voided issued invoice: per lease and period it billed,
    the net of its usage lines, given back (the prepayment it drew comes back to the
    tenant as part of that credit)."""
    net: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for line in invoice.lines:
        if line.kind in USAGE:
            net[(line.lease_id, line.period)] += line.amount.amount
    lines = tuple(
        InvoiceLine(
            LineKind.ADJUSTMENT,
            lease_id,
            label,
            f"{invoice.id} voided: {label} given back in full",
            0,
            Money(amount, invoice.currency),
        )
        for (lease_id, label), amount in sorted(net.items())
        if amount
    )
    n = 1 + sum(1 for c in w.credit_notes(invoice.tenant) if c.period == invoice.period.label)
    change = invoice.history[-1]
    return CreditNote(
        credit_note_id(invoice.tenant, invoice.period.label, n),
        invoice.tenant,
        invoice.id,
        invoice.period.label,
        invoice.currency,
        lines,
        f"{invoice.id} voided: {change.reason}",
        change.at_s,
    )


def _sla_months(history: LeaseHistory, tz: str, end_s: int, now_s: int, price: Price | None) -> tuple[SlaMonth, ...]:
    """Each month of ``history.lease`` from its start to ``end_s`` (the lease's end or
    now), rated to ``now_s`` as the run rates it (unpriced: metered only)."""
    lease = history.lease
    terms = terms_of(lease.request)
    months = []
    p = period_of(lease.start_s, tz)
    while p.start_s < end_s:
        if price is None:
            usage, charge, credit = meter(history, p, now_s), None, None
        else:
            rated = rate_lease(history, p, price, terms, until_s=now_s)
            usage, charge = rated.usage, rated.charge.amount
            credit = rated.credit.amount if rated.credit else Money(Decimal(0), charge.currency)
        months.append(
            SlaMonth(p, p.end_s <= now_s, usage, terms.target_pct, credit_share(usage, terms), charge, credit)
        )
        p = next_period(p)
    return tuple(months)


def _core_run(
    p: Period, rated: Sequence[RatedLease], reads: BillingReads, now_s: int, actor: str
) -> tuple[InvoiceRun, set[str]]:
    """The core's run on the documents issued so far and each tenant's prepayments, and
    the ids of the month's stored drafts that wait to be issued or voided."""
    prepaid: dict[str, Money] = {}
    for d in reads.deposits():
        was = prepaid.get(d.tenant)
        prepaid[d.tenant] = d.amount if was is None else Money(was.amount + d.amount.amount, was.currency)
    invoices, notes = reads.invoices(InvoiceQuery()), reads.credit_notes()
    waiting = {i.id for i in invoices if i.period.label == p.label and i.state is IS.DRAFT}
    found = invoice_run(p, rated, invoices=invoices, credit_notes=notes, prepaid=prepaid, created_s=now_s, actor=actor)
    return found, waiting


def _write_run(w: BillingWriter, run: BillingRun, now_s: int, actor: str) -> None:
    """A run's invoices and credit notes with their events, and the run's own event."""
    for invoice in run.invoices:
        w.add_invoice(invoice)
    for note in run.credit_notes:
        w.add_credit_note(note)
    events = [*(invoice_event(i, actor) for i in run.invoices), *(note_event(n, actor) for n in run.credit_notes)]
    p = run.period
    counts = {"invoices": len(run.invoices), "credit_notes": len(run.credit_notes), "pending": len(run.pending)}
    events.append(Event("billing.run", p.label, now_s, actor, after={"period": p.label, "tz": p.tz, **counts}))
    w.write(Change(events=tuple(events)))


def _issued(draft: Invoice, p: Period, now_s: int, actor: str) -> Invoice:
    """A run's draft (its history starts with its creation) moved to issued along the table."""
    return change_invoice_state(draft, IS.ISSUED, at_s=now_s, actor=actor, reason=f"issued by the {p.label} run")


def _local(t_s: int, tz: str) -> str:
    """``2027-02-01 00:00 UTC``: an instant as the wall clock of ``tz`` shows it."""
    return f"{datetime.fromtimestamp(t_s, ZoneInfo(tz)):%Y-%m-%d %H:%M} {tz}"


def _sees(viewer: Viewer, tenant: str) -> bool:
    return viewer.tenant is None or viewer.tenant == tenant


def _invoice_key(invoice: Invoice) -> str:
    return f"{invoice.period.label}|{invoice.tenant}|{invoice.id}"


__all__ = [
    "BillingRun",
    "BillingService",
    "LeaseSla",
    "SlaMonth",
    "Voided",
    "invoice_document",
    "invoice_event",
    "note_event",
]
