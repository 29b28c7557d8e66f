"""The dashboard's billing pages: the invoices and credit notes a viewer may see, the
current month so far as a preview (a dry run metered to now: nothing is written), one
invoice with its lines, the evidence behind each SLA credit and its credit notes, and
its JSON and CSV downloads. A tenant sees its own documents only; another tenant's
invoice is the 404 page, as one that does not exist.

The lease page's billing section (its SLA month by month, its amendments) is rendered
by ``web/routes.py`` from :meth:`BillingService.lease_sla`; the rows it shows are
built by the pure helpers here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from neocloud.domain.billing import Invoice, LineKind
from neocloud.domain.errors import NotFound
from neocloud.domain.leases import Amendment, Segment
from neocloud.services.billing_export import invoice_csv, invoice_document
from neocloud.services.catalog import Page
from neocloud.services.visibility import Viewer
from neocloud.web.routes import _not_found, _now, _page, _services, signed_in, templates

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
MAX_PAGES = 100  # pages of 1,000 documents read for one page view (a bound, not a policy)
PREVIEW_LABEL = "preview: month to date, not issued"


@router.get("/invoices", response_class=HTMLResponse)
def invoices_page(request: Request) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    viewer = Viewer.of(who)
    invoices = _every(lambda cursor: svc.billing.invoices(viewer, limit=1000, cursor=cursor))
    notes = _every(lambda cursor: svc.billing.credit_notes(viewer, limit=1000, cursor=cursor))
    preview = svc.billing.preview(viewer)
    return _page(
        request,
        "invoices.html",
        who,
        invoices=sorted(invoices, key=lambda i: (i.period.label, i.tenant), reverse=True),
        notes=notes,
        preview=preview,
        preview_label=PREVIEW_LABEL,
        now_s=_now(svc),
    )


@router.get("/invoices/{invoice_id}.csv", response_model=None)
def invoice_csv_download(request: Request, invoice_id: str) -> Response:
    who = signed_in(request)
    try:
        found = _services(request).billing.invoice(invoice_id, Viewer.of(who))
    except NotFound:
        return _not_found(request, who, f"invoice {invoice_id}")
    return _download(invoice_csv(found), "text/csv; charset=utf-8", f"{found.id}.csv")


@router.get("/invoices/{invoice_id}.json", response_model=None)
def invoice_json_download(request: Request, invoice_id: str) -> Response:
    who = signed_in(request)
    try:
        found = _services(request).billing.invoice(invoice_id, Viewer.of(who))
    except NotFound:
        return _not_found(request, who, f"invoice {invoice_id}")
    return _download(json.dumps(invoice_document(found), indent=2), "application/json", f"{found.id}.json")


@router.get("/invoices/{invoice_id}", response_class=HTMLResponse)
def invoice_page(request: Request, invoice_id: str) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    viewer = Viewer.of(who)
    try:
        found = svc.billing.invoice(invoice_id, viewer)
    except NotFound:
        return _not_found(request, who, f"invoice {invoice_id}")
    notes = _every(lambda cursor: svc.billing.credit_notes(viewer, invoice_id=found.id, limit=1000, cursor=cursor))
    return _page(request, "invoice.html", who, invoice=found, notes=notes, credits=credit_lines(found))


# -- view helpers (pure) -----------------------------------------------------------------
def gpu_hours(gpu_s: int) -> str:
    """GPU-seconds as GPU-hours for display: ``1,488`` or ``1,487.75``."""
    hours = Decimal(gpu_s) / 3600
    return f"{hours:,.0f}" if hours == hours.to_integral_value() else f"{hours:,.2f}"


def money(amount: Decimal) -> str:
    """An amount as it was rounded (once, where its line was made), with thousands
    separators: ``-1,234.50``. Never rounded again for display."""
    return f"{amount:,}"


def share(availability: float | None) -> str:
    """Availability for display (``99.9871%``); ``-`` when the SLA counted nothing."""
    return "-" if availability is None else f"{availability * 100:.4f}%"


def credit_lines(invoice: Invoice) -> list[tuple[int, str, tuple[str, ...]]]:
    """The SLA credit lines with evidence: (line number, lease, causes)."""
    return [
        (k, line.lease_id, tuple(sorted({e.cause for e in line.evidence})))
        for k, line in enumerate(invoice.lines, start=1)
        if line.kind is LineKind.SLA_CREDIT and line.evidence
    ]


@dataclass(frozen=True, slots=True)
class AmendmentRow:
    kind: str
    at_s: int
    effective_s: int
    reason: str
    gpus_before: int
    gpus_after: int
    end_before_s: int | None
    end_after_s: int | None
    nodes: str  # ``out -> in`` pairs of a swap; ``out -> released`` for a shrink


def amendment_rows(amendments: Sequence[Amendment]) -> list[AmendmentRow]:
    """A lease's amendments, oldest first, with the GPUs contracted at the instant each
    takes effect before and after it, and the contract's end before and after."""
    return [
        AmendmentRow(
            a.kind.value,
            a.at_s,
            a.effective_s,
            a.reason,
            _gpus_at(a.before, a.effective_s),
            _gpus_at(a.after, a.effective_s),
            max((s.end_s for s in a.before), default=None),
            max((s.end_s for s in a.after), default=None),
            ", ".join(f"{out} -> {new or 'released'}" for out, new in a.nodes),
        )
        for a in amendments
    ]


def _gpus_at(contract: Sequence[Segment], t_s: int) -> int:
    return sum(s.gpus for s in contract if s.start_s <= t_s < s.end_s)


def _every(fetch: Callable[[str | None], Page[T]]) -> list[T]:
    """Every item of a paged read, a bounded number of pages."""
    out: list[T] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        found = fetch(cursor)
        out.extend(found.items)
        cursor = found.next_cursor
        if cursor is None:
            break
    return out


def _download(body: str, media_type: str, filename: str) -> Response:
    response = Response(body, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


templates.env.globals["gpu_hours"] = gpu_hours
templates.env.globals["money"] = money
templates.env.globals["availability"] = share
