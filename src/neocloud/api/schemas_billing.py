"""API schemas of billing: invoices with their lines, evidence and history, credit notes,
runs and the bodies of state changes and deposits.

The shapes are ``services/billing_export.py``'s documents (the CLI's ``--json`` and
``invoice export``): amounts are strings (exact decimals), instants ISO 8601 UTC, a
period is its ``YYYY-MM`` label with the IANA zone it is a month in.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from neocloud.api.schemas import Schema
from neocloud.domain.billing import DEFAULT_TZ, CreditNote, Deposit, Invoice
from neocloud.domain.names import REASON_MAX
from neocloud.services.billing import BillingRun
from neocloud.services.billing_export import invoice_document, iso, note_document

Amount = Annotated[str, Field(description="An exact decimal amount, e.g. '1234.56'.", examples=["1234.56"])]


class EvidenceOut(BaseModel):
    """``gpus`` of ``node`` missing over ``[start, end)``, because it was ``cause``."""

    node: str
    start: str
    end: str
    gpus: int
    cause: str


class LineOut(BaseModel):
    kind: str = Field(description="charge, sla_credit, prepayment or adjustment.")
    lease_id: str
    period: str = Field(description="The period billed (for an adjustment, the period it corrects).")
    description: str
    gpu_s: int
    amount: Amount
    evidence: list[EvidenceOut]


class ChangeOut(BaseModel):
    from_: str | None = Field(alias="from")
    to: str
    at: str
    actor: str
    reason: str


class InvoiceOut(BaseModel):
    id: str
    tenant: str
    period: str
    tz: str
    start: str
    end: str
    currency: str
    state: str
    created: str
    total: Amount
    lines: list[LineOut]
    history: list[ChangeOut]

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        return cls.model_validate(invoice_document(invoice))


class CreditNoteOut(BaseModel):
    id: str
    tenant: str
    invoice_id: str
    period: str
    currency: str
    reason: str
    created: str
    total: Amount
    lines: list[LineOut]

    @classmethod
    def of(cls, note: CreditNote) -> CreditNoteOut:
        return cls.model_validate(note_document(note))


class VoidedOut(BaseModel):
    invoice: InvoiceOut
    credit_note: CreditNoteOut | None = Field(description="Given back beside an issued invoice; none for a draft.")


class RunIn(Schema):
    period: str = Field(description="The month to bill, YYYY-MM.", examples=["2027-01"])
    tz: str = Field(DEFAULT_TZ, description="The IANA zone the month is in (recorded on each invoice).")
    dry_run: bool = Field(False, strict=True, description="Preview the drafts; write nothing (any period).")
    draft: bool = Field(False, strict=True, description="Keep the invoices as drafts to review; /issue sends each.")


class RunOut(BaseModel):
    period: str
    tz: str
    dry_run: bool
    invoices: list[InvoiceOut]
    credit_notes: list[CreditNoteOut]
    pending_debits: int = Field(description="Debit lines waiting for the tenant's next open invoice.")
    waiting_drafts: list[str] = Field(description="The month's stored drafts, still to be issued or voided.")

    @classmethod
    def of(cls, run: BillingRun) -> RunOut:
        return cls(
            period=run.period.label,
            tz=run.period.tz,
            dry_run=run.dry_run,
            invoices=[InvoiceOut.of(i) for i in run.invoices],
            credit_notes=[CreditNoteOut.of(n) for n in run.credit_notes],
            pending_debits=len(run.pending),
            waiting_drafts=list(run.waiting),
        )


class ReasonIn(Schema):
    reason: str = Field(min_length=1, max_length=REASON_MAX, description="Why: kept in the invoice's history.")


class DepositIn(Schema):
    tenant: str = Field(min_length=1)
    amount: Amount
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    note: str = ""


class DepositOut(BaseModel):
    id: str
    tenant: str
    amount: Amount
    currency: str
    at: str
    actor: str
    note: str

    @classmethod
    def of(cls, d: Deposit) -> DepositOut:
        return cls(
            id=d.id,
            tenant=d.tenant,
            amount=str(d.amount.amount),
            currency=d.amount.currency,
            at=iso(d.at_s),
            actor=d.actor,
            note=d.note,
        )
