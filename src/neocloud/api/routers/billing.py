"""Billing: invoice runs and deposits (operator), invoices and credit notes (a tenant
reads its own; another tenant's is 404), and an invoice's state changes (operator).

Illegal state changes and a run over a period that has not ended are 409; an invoice
is exported as JSON (its document) or CSV (``/v1/invoices/{id}.csv`` or ``?format=csv``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from neocloud.api.auth import OperatorDep, PrincipalDep, ServicesDep
from neocloud.api.schemas import MAX_CURSOR, PROBLEMS, PageOut, paged
from neocloud.api.schemas_billing import (
    CreditNoteOut,
    DepositIn,
    DepositOut,
    InvoiceOut,
    ReasonIn,
    RunIn,
    RunOut,
    VoidedOut,
)
from neocloud.domain.billing import InvoiceState, period
from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money
from neocloud.services.billing_export import invoice_csv
from neocloud.services.visibility import Viewer

router = APIRouter(tags=["billing"], responses=PROBLEMS)
CSV = "text/csv; charset=utf-8"
_CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "One row per line, then the total."}
}

Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="next_cursor of the previous page.")]
Tenant = Annotated[str | None, Query(description="Operator: only this tenant's.")]


_PREVIEW: dict[int | str, dict[str, Any]] = {
    200: {"model": RunOut, "description": "A dry run: the drafts it would issue; nothing written."}
}


@router.post("/v1/billing/runs", status_code=201, response_model=RunOut, responses=_PREVIEW)
def run(body: RunIn, who: OperatorDep, svc: ServicesDep, response: Response) -> RunOut:
    """Issue the period's invoices and the credit notes its corrections need; again,
    nothing new. 409 before the period ends, unless ``dry_run`` (200, nothing written)."""
    done = svc.billing.run(body.period, body.tz, actor=who.actor, dry_run=body.dry_run, draft=body.draft)
    if done.dry_run:
        response.status_code = 200
    return RunOut.of(done)


@router.post("/v1/billing/deposits", status_code=201, response_model=DepositOut)
def deposit(body: DepositIn, who: OperatorDep, svc: ServicesDep) -> DepositOut:
    """Record a tenant's prepayment; its later invoices draw it down."""
    try:
        amount = Decimal(body.amount)
    except InvalidOperation:
        raise RequestError([f"amount: {body.amount!r} is not a number"]) from None
    if not amount.is_finite():
        raise RequestError([f"amount: {body.amount!r} is not a finite number"])
    made = svc.billing.deposit(body.tenant, Money(amount, body.currency), actor=who.actor, note=body.note)
    return DepositOut.of(made)


@router.get("/v1/invoices", response_model=PageOut[InvoiceOut])
def invoices(
    *,
    who: PrincipalDep,
    svc: ServicesDep,
    tenant: Tenant = None,
    month: Annotated[str | None, Query(alias="period", description="Only this month, YYYY-MM.")] = None,
    state: InvoiceState | None = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Invoices by period, then tenant, a page at a time; a tenant sees its own."""
    label = None if month is None else period(month).label
    found = svc.billing.invoices(Viewer.of(who), tenant=tenant, period=label, state=state, limit=limit, cursor=cursor)
    return paged(found, InvoiceOut.of)


@router.get("/v1/invoices/{invoice_id}.csv", response_class=Response, responses=_CSV_RESPONSE)
def invoice_as_csv(invoice_id: str, who: PrincipalDep, svc: ServicesDep) -> Response:
    """The invoice as CSV: one row per line, then a ``total`` row (the sum of the lines)."""
    return Response(invoice_csv(svc.billing.invoice(invoice_id, Viewer.of(who))), media_type=CSV)


@router.get("/v1/invoices/{invoice_id}", response_model=InvoiceOut, responses=_CSV_RESPONSE)
def invoice(
    invoice_id: str, who: PrincipalDep, svc: ServicesDep, format: Literal["json", "csv"] = "json"
) -> InvoiceOut | Response:
    """One invoice with its lines, the evidence behind each SLA credit and its history
    (``format=csv``: as ``{id}.csv``); another tenant's is 404."""
    found = svc.billing.invoice(invoice_id, Viewer.of(who))
    if format == "csv":
        return Response(invoice_csv(found), media_type=CSV)
    return InvoiceOut.of(found)


@router.post("/v1/invoices/{invoice_id}/issue", response_model=InvoiceOut)
def issue(invoice_id: str, body: ReasonIn, who: OperatorDep, svc: ServicesDep) -> InvoiceOut:
    """Send a draft; 409 from any other state."""
    return InvoiceOut.of(svc.billing.issue(invoice_id, actor=who.actor, reason=body.reason))


@router.post("/v1/invoices/{invoice_id}/pay", response_model=InvoiceOut)
def pay(invoice_id: str, body: ReasonIn, who: OperatorDep, svc: ServicesDep) -> InvoiceOut:
    """Record the payment of an issued invoice; 409 from any other state."""
    return InvoiceOut.of(svc.billing.pay(invoice_id, actor=who.actor, reason=body.reason))


@router.post("/v1/invoices/{invoice_id}/void", response_model=VoidedOut)
def void(invoice_id: str, body: ReasonIn, who: OperatorDep, svc: ServicesDep) -> VoidedOut:
    """Discard a draft, or withdraw an issued invoice with a credit note of what it
    billed; 409 once paid or void."""
    done = svc.billing.void(invoice_id, actor=who.actor, reason=body.reason)
    note = None if done.credit_note is None else CreditNoteOut.of(done.credit_note)
    return VoidedOut(invoice=InvoiceOut.of(done.invoice), credit_note=note)


@router.get("/v1/credit-notes", response_model=PageOut[CreditNoteOut])
def credit_notes(
    *,
    who: PrincipalDep,
    svc: ServicesDep,
    tenant: Tenant = None,
    invoice_id: Annotated[str | None, Query(description="Only those on this invoice.")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Credit notes, oldest first; a tenant sees its own."""
    found = svc.billing.credit_notes(Viewer.of(who), tenant=tenant, invoice_id=invoice_id, limit=limit, cursor=cursor)
    return paged(found, CreditNoteOut.of)


@router.get("/v1/credit-notes/{note_id}", response_model=CreditNoteOut)
def credit_note(note_id: str, who: PrincipalDep, svc: ServicesDep) -> CreditNoteOut:
    """One credit note; another tenant's is 404."""
    return CreditNoteOut.of(svc.billing.credit_note(note_id, Viewer.of(who)))
