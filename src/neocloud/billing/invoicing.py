"""The invoice run: what to issue for a period, and how closed periods are corrected.

An invoice run for period P (:func:`invoice_run`), given every lease-period rated on
the current history and the documents issued so far:

1. **Drafts.** One invoice per tenant that has no invoice for P yet (id
   ``INV-<tenant>-<P>``, :func:`invoice_id`): its leases' charge and SLA credit lines
   for P, the debits for earlier periods (step 2), and the prepayment drawn (step 3).
   A tenant that already has P's invoice gets no second one: re-running a period issues
   nothing new.
2. **Corrections** (:func:`corrections`). A tenant-period is closed once its invoice
   was issued (and any period before P is, unless its draft still waits to be issued
   or voided: the draft bills it). For each lease of a closed period, what was
   billed for it (its lines on the period's invoice, plus adjustment debits on later
   invoices, and on drafts waiting to be issued, that point at the period, less
   credit-note lines for it) is compared with the period re-rated on the current
   history. Billed too much: a credit note for the period (``CN-<tenant>-<period>-<n>``,
   one per run that finds a difference), its lines the amounts given back. Billed too
   little: an ``adjustment`` debit line on the tenant's open invoice, pointing at the
   corrected period (pending when P's invoice was issued already: the next period's
   run places it). Equal: nothing. An issued invoice never changes.
3. **Prepayment.** A tenant's balance (what it prepaid less what issued invoices and
   drafts still waiting drew) is drawn against the draft's amount due as a negative
   ``prepayment`` line: never more than the balance, never more than what is due.

Nothing here reads a clock or invents an id: ``created_s`` is an input, ids derive
from tenant and period. Money is exact: every line was rounded once where it was made
(:mod:`neocloud.billing.rating`), so differences and totals are sums of cents.

The invariant this keeps, for any order in which health events and amendments arrive:
the sum of issued invoices minus credit notes, prepayments aside, equals the usage
rated on the final history (once the last run's debits are placed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from neocloud.billing.metering import LeaseHistory, Usage, meter
from neocloud.billing.rating import rate
from neocloud.billing.sla import SlaTerms, sla_credit, terms_of
from neocloud.domain.billing import (
    CreditNote,
    Invoice,
    InvoiceChange,
    InvoiceLine,
    InvoiceRuleError,
    InvoiceState,
    LineKind,
    Period,
)
from neocloud.domain.money import Money
from neocloud.economics.pricebook import Price

#: Lines that are usage (a charge, its credit, a correction of one); a prepayment is
#: money paid in advance, not usage.
USAGE_KINDS = frozenset({LineKind.CHARGE, LineKind.SLA_CREDIT, LineKind.ADJUSTMENT})


@dataclass(frozen=True, slots=True)
class RatedLease:
    """One lease's period metered and rated: the charge and the SLA credit (if any)."""

    usage: Usage
    charge: InvoiceLine
    credit: InvoiceLine | None = None

    @property
    def lease_id(self) -> str:
        return self.usage.lease_id

    @property
    def tenant(self) -> str:
        return self.usage.tenant

    @property
    def period(self) -> str:
        return self.usage.period.label

    @property
    def lines(self) -> tuple[InvoiceLine, ...]:
        """The lines an invoice carries for it: the charge (when there is anything to
        charge) and the credit."""
        charged = self.charge.gpu_s or self.charge.amount.amount
        return (*((self.charge,) if charged else ()), *((self.credit,) if self.credit else ()))

    @property
    def net(self) -> Decimal:
        """Charge plus credit (negative): what the lease owes for the period."""
        return sum((line.amount.amount for line in self.lines), Decimal(0))


def rate_lease(
    history: LeaseHistory, period: Period, price: Price, terms: SlaTerms | None = None, *, until_s: int | None = None
) -> RatedLease:
    """Meter, rate and credit one lease for ``period`` at ``price`` (the price it was
    signed at, :func:`~neocloud.billing.rating.signed_price`) under ``terms`` (default:
    the lease's own, :func:`~neocloud.billing.sla.terms_of` its request: the tiers and
    cap it was signed with). With
    ``until_s``: the period so far, ``[period.start_s, until_s)`` (a month-to-date
    preview; a wholesale fee is the share of the calendar month up to then)."""
    usage = meter(history, period, until_s)
    charge = rate(history.lease, usage, price)
    sla = terms if terms is not None else terms_of(history.lease.request)
    return RatedLease(usage, charge, sla_credit(usage, charge, sla))


@dataclass(frozen=True, slots=True)
class Correction:
    """What closed periods need now: credit notes to issue, and debit lines per tenant
    for its next open invoice."""

    credit_notes: tuple[CreditNote, ...] = ()
    debits: Mapping[str, tuple[InvoiceLine, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class InvoiceRun:
    """What a run issues: new draft invoices, credit notes, and the debits that wait
    for a tenant's next open invoice (its invoice for the period was issued already)."""

    period: Period
    invoices: tuple[Invoice, ...]
    credit_notes: tuple[CreditNote, ...]
    pending: tuple[InvoiceLine, ...] = ()
    pending_tenants: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when the run issues nothing."""
        return not (self.invoices or self.credit_notes)


def invoice_id(tenant: str, period: str) -> str:
    """THE id of a tenant's invoice for a period: ``INV-<tenant>-<YYYY-MM>``."""
    return f"INV-{tenant}-{period}"


def credit_note_id(tenant: str, period: str, n: int) -> str:
    """The id of the ``n``-th (from 1) credit note correcting a tenant's period."""
    return f"CN-{tenant}-{period}-{n}"


def invoice_run(
    period: Period,
    rated: Sequence[RatedLease],
    *,
    invoices: Sequence[Invoice] = (),
    credit_notes: Sequence[CreditNote] = (),
    prepaid: Mapping[str, Money] | None = None,
    created_s: int,
    actor: str = "billing run",
) -> InvoiceRun:
    """The run for ``period`` (module docstring). ``rated``: every lease-period to bill
    or check, on the current history: ``period``'s, and those of each closed period to
    check (a period none of whose leases is given is not checked);
    ``invoices`` and ``credit_notes``: the documents stored so far (``period``'s drafts
    are ignored: the run replaces them; another period's waiting draft counts as billed,
    :func:`holds`: it is sent as it is); ``prepaid``: each tenant's prepayments received in total;
    ``actor``: who ran it, in each draft's first history record."""
    existing = {(i.tenant, i.period.label) for i in invoices if i.state is not InvoiceState.DRAFT}
    drafted = {(i.tenant, i.period.label) for i in invoices if i.state is InvoiceState.DRAFT}
    open_now: list[RatedLease] = []
    to_check: list[RatedLease] = []
    for r in rated:
        if r.period == period.label and (r.tenant, period.label) not in existing:
            open_now.append(r)
        elif r.period < period.label and (r.tenant, r.period) in drafted:
            continue  # an earlier period's draft still waits to be issued or voided: it bills that period
        elif r.period <= period.label:
            to_check.append(r)
    rerated = {r.period for r in to_check}
    checked_periods = {(r.tenant, r.period) for r in to_check} | {key for key in existing if key[1] in rerated}
    kept = [i for i in invoices if not (i.state is InvoiceState.DRAFT and i.period.label == period.label)]
    fix = corrections(to_check, kept, credit_notes, checked=checked_periods, created_s=created_s)
    lines: dict[str, list[InvoiceLine]] = defaultdict(list)
    for r in open_now:
        lines[r.tenant] += r.lines
    pending: list[InvoiceLine] = []
    pending_tenants: list[str] = []
    for tenant, debits in fix.debits.items():
        if (tenant, period.label) in existing:
            pending += debits
            pending_tenants += [tenant] * len(debits)
        else:
            lines[tenant] += debits
    balances = prepaid_balances(prepaid or {}, kept)  # this period's stored drafts are the ones a run replaces
    drafts = tuple(
        _draft(
            tenant,
            period,
            tuple(tenant_lines),
            balances.get(tenant),
            InvoiceChange(None, InvoiceState.DRAFT, created_s, actor, f"drafted by the {period.label} run"),
        )
        for tenant, tenant_lines in sorted(lines.items())
        if tenant_lines
    )
    return InvoiceRun(period, drafts, fix.credit_notes, tuple(pending), tuple(pending_tenants))


def corrections(
    rerated: Sequence[RatedLease],
    invoices: Sequence[Invoice],
    credit_notes: Sequence[CreditNote],
    *,
    checked: Iterable[tuple[str, str]] | None = None,
    created_s: int,
) -> Correction:
    """Credit notes and debit lines that bring what was billed for each closed
    tenant-period in ``checked`` (default: those of ``rerated``) to ``rerated``. A lease
    billed in a checked period but absent from ``rerated`` is re-rated at zero."""
    wanted = set(checked) if checked is not None else {(r.tenant, r.period) for r in rerated}
    billed = billed_by_lease(invoices, credit_notes)
    now: dict[tuple[str, str, str], RatedLease] = {(r.tenant, r.period, r.lease_id): r for r in rerated}
    keys = sorted({k for k in billed if k[:2] in wanted} | {k for k in now if k[:2] in wanted})
    back: dict[tuple[str, str], list[InvoiceLine]] = defaultdict(list)
    debits: dict[str, list[InvoiceLine]] = defaultdict(list)
    for key in keys:
        tenant, label, lease_id = key
        was = billed.get(key)
        r = now.get(key)
        currency = _currency(r, was)
        delta = (r.net if r else Decimal(0)) - (was.amount if was else Decimal(0))
        if not delta:
            continue
        evidence = r.credit.evidence if r and r.credit else ()
        text = f"correction of {label}: re-rated on the current history"
        line = InvoiceLine(LineKind.ADJUSTMENT, lease_id, label, text, 0, Money(abs(delta), currency), evidence)
        if delta > 0:
            debits[tenant].append(line)
        else:
            back[(tenant, label)].append(line)
    notes = tuple(
        _credit_note(tenant, label, tuple(lines), invoices=invoices, notes=credit_notes, created_s=created_s)
        for (tenant, label), lines in sorted(back.items())
    )
    return Correction(notes, {t: tuple(ls) for t, ls in sorted(debits.items())})


@dataclass(frozen=True, slots=True)
class Billed:
    """What was billed for one lease-period so far (net of credit notes), in ``currency``."""

    amount: Decimal
    currency: str


def billed_by_lease(
    invoices: Sequence[Invoice], credit_notes: Sequence[CreditNote]
) -> dict[tuple[str, str, str], Billed]:
    """Per (tenant, period, lease): the usage lines of issued invoices and of drafts
    waiting to be issued (:func:`holds`) that point at the period (its own invoice's and
    later debits) less its credit-note lines. A waiting draft counts: it is sent as it
    is, so a run that billed its debits again would bill them twice."""
    out: dict[tuple[str, str, str], Billed] = {}

    def add(tenant: str, line: InvoiceLine, sign: int) -> None:
        key = (tenant, line.period, line.lease_id)
        was = out.get(key)
        if was is not None and was.currency != line.amount.currency:
            raise InvoiceRuleError(f"lease {line.lease_id} in {line.period} is billed in two currencies")
        base = was.amount if was else Decimal(0)
        out[key] = Billed(base + sign * line.amount.amount, line.amount.currency)

    for invoice in invoices:
        if holds(invoice):
            for line in invoice.lines:
                if line.kind in USAGE_KINDS:
                    add(invoice.tenant, line, 1)
    for note in credit_notes:
        for line in note.lines:
            add(note.tenant, line, -1)
    return out


def was_issued(invoice: Invoice) -> bool:
    """True for an invoice that was issued (issued, paid, or void after issue)."""
    if invoice.state in (InvoiceState.ISSUED, InvoiceState.PAID):
        return True
    return any(change.to_state is InvoiceState.ISSUED for change in invoice.history)


def holds(invoice: Invoice) -> bool:
    """True for an invoice whose lines bill the tenant: one that was issued, or a draft
    waiting to be issued (a voided draft, never issued, bills nothing)."""
    return was_issued(invoice) or invoice.state is InvoiceState.DRAFT


def prepaid_balances(prepaid: Mapping[str, Money], invoices: Sequence[Invoice]) -> dict[str, Money]:
    """Each tenant's prepayment not drawn yet: what it prepaid less the prepayment
    lines of its issued invoices and of its drafts waiting to be issued (a draft holds
    what it drew: another period's run drawing it too would draw more than was
    prepaid). A voided draft, never issued, gives its part back."""
    out = dict(prepaid)
    for invoice in invoices:
        if not holds(invoice) or invoice.tenant not in out:
            continue
        drawn = sum((-line.amount.amount for line in invoice.lines if line.kind is LineKind.PREPAYMENT), Decimal(0))
        left = out[invoice.tenant]
        out[invoice.tenant] = Money(left.amount - drawn, left.currency)
    return out


def _draft(
    tenant: str, period: Period, lines: tuple[InvoiceLine, ...], balance: Money | None, drafted: InvoiceChange
) -> Invoice:
    currencies = {line.amount.currency for line in lines}
    if len(currencies) != 1:
        raise InvoiceRuleError(f"tenant {tenant}: {period.label}'s lines are in {', '.join(sorted(currencies))}")
    currency = currencies.pop()
    ordered = sorted(lines, key=_line_order)
    due = sum((line.amount.amount for line in ordered), Decimal(0))
    if balance is not None and balance.currency == currency and balance.amount > 0 and due > 0:
        draw = min(balance.amount, due)
        text = f"prepayment drawn: {draw} of {balance.amount} {currency} left"
        ordered.append(InvoiceLine(LineKind.PREPAYMENT, "", period.label, text, 0, Money(-draw, currency)))
    return Invoice(
        invoice_id(tenant, period.label),
        tenant,
        period,
        currency,
        tuple(ordered),
        InvoiceState.DRAFT,
        drafted.at_s,
        (drafted,),
    )


_KIND_ORDER = {LineKind.CHARGE: 0, LineKind.SLA_CREDIT: 1, LineKind.ADJUSTMENT: 2, LineKind.PREPAYMENT: 3}


def _line_order(line: InvoiceLine) -> tuple[int, str, str, int]:
    adjustment = line.kind is LineKind.ADJUSTMENT
    return (int(adjustment), line.period, line.lease_id, _KIND_ORDER[line.kind])


def _credit_note(
    tenant: str,
    label: str,
    lines: tuple[InvoiceLine, ...],
    *,
    invoices: Sequence[Invoice],
    notes: Sequence[CreditNote],
    created_s: int,
) -> CreditNote:
    """A credit note for the tenant's period, on the invoice that billed it (the period's
    own, else the last one carrying a line for the period, a waiting draft included: a
    period billed only as a debit on a draft has no invoice of its own to point at)."""
    mine = [i for i in invoices if i.tenant == tenant and holds(i)]
    own = next((i for i in mine if i.period.label == label), None)
    carrier = own or next((i for i in reversed(mine) if any(ln.period == label for ln in i.lines)), None)
    target = carrier.id if carrier is not None else invoice_id(tenant, label)
    n = 1 + sum(1 for c in notes if c.tenant == tenant and c.period == label)
    currency = lines[0].amount.currency
    reason = f"{label} re-rated on the current history: billed more than delivered and contracted"
    return CreditNote(credit_note_id(tenant, label, n), tenant, target, label, currency, lines, reason, created_s)


def _currency(r: RatedLease | None, was: Billed | None) -> str:
    if r is not None:
        return r.charge.amount.currency
    assert was is not None
    return was.currency
