"""Invoices and credit notes as documents: JSON-ready dicts (the API's and the CLI's
``--json`` shape, and ``invoice export --format json``) and CSV (one row per line, then
a ``total`` row equal to the sum of the line rows).

Amounts are the exact Decimal text (``"1234.56"``), never a float; instants are ISO
8601 in UTC (``2027-02-01T00:00:00Z``); the period is its label with the IANA zone it
is a month in.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from neocloud.domain.billing import CreditNote, Invoice, InvoiceLine
from neocloud.domain.clock import from_s
from neocloud.domain.money import Money

CSV_COLUMNS = (
    "document",
    "tenant",
    "period",
    "state",
    "line",
    "kind",
    "lease_id",
    "line_period",
    "description",
    "gpu_s",
    "shortfall_gpu_s",
    "amount",
    "currency",
)


def iso(t_s: int) -> str:
    return from_s(t_s).isoformat().replace("+00:00", "Z")


def line_document(line: InvoiceLine) -> dict[str, Any]:
    return {
        "kind": line.kind.value,
        "lease_id": line.lease_id,
        "period": line.period,
        "description": line.description,
        "gpu_s": line.gpu_s,
        "amount": str(line.amount.amount),
        "evidence": [
            {"node": e.node, "start": iso(e.start_s), "end": iso(e.end_s), "gpus": e.gpus, "cause": e.cause}
            for e in line.evidence
        ],
    }


def invoice_document(invoice: Invoice) -> dict[str, Any]:
    p = invoice.period
    return {
        "id": invoice.id,
        "tenant": invoice.tenant,
        "period": p.label,
        "tz": p.tz,
        "start": iso(p.start_s),
        "end": iso(p.end_s),
        "currency": invoice.currency,
        "state": invoice.state.value,
        "created": iso(invoice.created_s),
        "total": str(invoice.total.amount),
        "lines": [line_document(x) for x in invoice.lines],
        "history": [
            {
                "from": None if c.from_state is None else c.from_state.value,
                "to": c.to_state.value,
                "at": iso(c.at_s),
                "actor": c.actor,
                "reason": c.reason,
            }
            for c in invoice.history
        ],
    }


def note_document(note: CreditNote) -> dict[str, Any]:
    return {
        "id": note.id,
        "tenant": note.tenant,
        "invoice_id": note.invoice_id,
        "period": note.period,
        "currency": note.currency,
        "reason": note.reason,
        "created": iso(note.created_s),
        "total": str(note.total.amount),
        "lines": [line_document(x) for x in note.lines],
    }


def invoice_csv(invoice: Invoice) -> str:
    head = (invoice.id, invoice.tenant, invoice.period.label, invoice.state.value)
    return _csv(head, invoice.lines, invoice.total)


def note_csv(note: CreditNote) -> str:
    return _csv((note.id, note.tenant, note.period, "issued"), note.lines, note.total)


def _csv(head: tuple[str, str, str, str], lines: tuple[InvoiceLine, ...], total: Money) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for k, x in enumerate(lines, start=1):
        shortfall = sum(e.gpu_s for e in x.evidence)
        row = (k, x.kind.value, x.lease_id, x.period, x.description, x.gpu_s, shortfall, x.amount.amount)
        writer.writerow((*head, *row, total.currency))
    writer.writerow((*head, "", "total", "", head[2], f"{len(lines)} lines", "", "", total.amount, total.currency))
    return out.getvalue()
