"""Billing: metering delivered-healthy capacity against the contract, rating it from the
price-book version a lease was signed at, SLA credits, invoices and credit notes.

A pure core like ``leasing`` and ``economics``: values in, values out; no framework,
no wall clock, no store. docs/billing.md explains the model and its invariants.
"""

from neocloud.billing.invoicing import (
    Correction,
    InvoiceRun,
    RatedLease,
    corrections,
    credit_note_id,
    invoice_id,
    invoice_run,
    rate_lease,
)
from neocloud.billing.metering import LeaseHistory, Usage, meter, meter_all
from neocloud.billing.rating import rate, signed_price
from neocloud.billing.sla import CreditTier, SlaTerms, default_terms, sla_credit

__all__ = [
    "Correction",
    "CreditTier",
    "InvoiceRun",
    "LeaseHistory",
    "RatedLease",
    "SlaTerms",
    "Usage",
    "corrections",
    "credit_note_id",
    "default_terms",
    "invoice_id",
    "invoice_run",
    "meter",
    "meter_all",
    "rate",
    "rate_lease",
    "signed_price",
    "sla_credit",
]
