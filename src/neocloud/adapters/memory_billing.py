"""Billing's documents in memory: the reference the SQL stores are tested against.

The committed documents live in a :class:`BillingBook`; a write transaction stages
its writes in a :class:`BillingDraft` laid over them, which checks what the database's
constraints and triggers check (one invoice per tenant and period, histories along the
transition table, guarded state changes, ids written once) and is kept only when the
transaction commits. Nothing here changes an invoice's lines: documents are frozen
dataclasses, replaced whole only to move an invoice's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from neocloud.domain.billing import (
    INVOICE_TRANSITIONS,
    CreditNote,
    Deposit,
    DuplicateInvoice,
    Invoice,
    InvoiceChange,
    InvoiceQuery,
    InvoiceRuleError,
    history_problems,
)
from neocloud.domain.changes import StoreError


@dataclass(slots=True)
class BillingBook:
    """Committed invoices (by id), credit notes and deposits (in the order written)."""

    invoices: dict[str, Invoice] = field(default_factory=dict)
    notes: dict[str, CreditNote] = field(default_factory=dict)
    deposit_list: dict[str, Deposit] = field(default_factory=dict)
    #: (tenant, period label) -> invoice id: the unique rule's index
    held: dict[tuple[str, str], str] = field(default_factory=dict)

    def draft(self) -> BillingDraft:
        return BillingDraft(self)

    def keep(self, draft: BillingDraft) -> None:
        self.invoices.update(draft.invoices_written)
        self.held.update(draft.held_written)
        self.notes.update(draft.notes_written)
        self.deposit_list.update(draft.deposits_written)

    # -- reads -----------------------------------------------------------------------
    def invoices_matching(self, query: InvoiceQuery) -> list[Invoice]:
        return sorted(
            (i for i in self.invoices.values() if query.matches(i)), key=lambda i: (i.period.label, i.tenant, i.id)
        )

    def invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices.get(invoice_id)

    def credit_notes(self, tenant: str | None = None, invoice_id: str | None = None) -> list[CreditNote]:
        found = (
            n
            for n in self.notes.values()
            if (tenant is None or n.tenant == tenant) and (invoice_id is None or n.invoice_id == invoice_id)
        )
        return sorted(found, key=lambda n: (n.created_s, n.id))

    def credit_note(self, note_id: str) -> CreditNote | None:
        return self.notes.get(note_id)

    def deposits(self, tenant: str | None = None) -> list[Deposit]:
        found = (d for d in self.deposit_list.values() if tenant is None or d.tenant == tenant)
        return sorted(found, key=lambda d: (d.at_s, d.id))


class BillingDraft:
    """One transaction's billing writes over ``book``; reads see them."""

    def __init__(self, book: BillingBook) -> None:
        self._book = book
        self.invoices_written: dict[str, Invoice] = {}
        self.held_written: dict[tuple[str, str], str] = {}
        self.notes_written: dict[str, CreditNote] = {}
        self.deposits_written: dict[str, Deposit] = {}

    def view(self) -> BillingBook:
        """The committed documents with this transaction's laid over them (for reads:
        a copy of the indexes; the writes below look single keys up instead)."""
        b = self._book
        return BillingBook(
            {**b.invoices, **self.invoices_written},
            {**b.notes, **self.notes_written},
            {**b.deposit_list, **self.deposits_written},
            {**b.held, **self.held_written},
        )

    def _invoice(self, invoice_id: str) -> Invoice | None:
        return self.invoices_written.get(invoice_id) or self._book.invoices.get(invoice_id)

    def add_invoice(self, invoice: Invoice) -> None:
        problems = history_problems(invoice)
        if problems:
            raise InvoiceRuleError(f"invoice {invoice.id}: {'; '.join(problems)}")
        key = (invoice.tenant, invoice.period.label)
        held = self.held_written.get(key) or self._book.held.get(key)
        if held is not None:
            raise DuplicateInvoice(
                f"tenant {invoice.tenant!r} already has invoice {held} for {invoice.period.label}; "
                "the database allows one per tenant and period (invoices_one_per_tenant_period)"
            )
        if self._invoice(invoice.id) is not None:
            raise StoreError(f"invoice {invoice.id}: an invoice with this id exists")
        self.invoices_written[invoice.id] = invoice
        self.held_written[key] = invoice.id

    def change_invoice(self, invoice_id: str, change: InvoiceChange) -> None:
        if change.from_state is None or (change.from_state, change.to_state) not in INVOICE_TRANSITIONS:
            was = "nothing" if change.from_state is None else change.from_state.value
            raise InvoiceRuleError(
                f"invoice {invoice_id}: {was} -> {change.to_state.value} is not in the transition table"
            )
        now = self._invoice(invoice_id)
        if now is None or now.state is not change.from_state:
            shown = "no such invoice" if now is None else f"it is {now.state.value}"
            raise InvoiceRuleError(f"invoice {invoice_id}: not {change.from_state.value} any more ({shown})")
        self.invoices_written[invoice_id] = replace(now, state=change.to_state, history=(*now.history, change))

    def add_credit_note(self, note: CreditNote) -> None:
        if note.id in self.notes_written or note.id in self._book.notes:
            raise StoreError(f"credit note {note.id}: a credit note with this id exists")
        if self._invoice(note.invoice_id) is None:
            raise StoreError(f"credit note {note.id}: no invoice {note.invoice_id} (a foreign key)")
        self.notes_written[note.id] = note

    def add_deposit(self, deposit: Deposit) -> None:
        if deposit.id in self.deposits_written or deposit.id in self._book.deposit_list:
            raise StoreError(f"deposit {deposit.id}: a deposit with this id exists")
        self.deposits_written[deposit.id] = deposit
