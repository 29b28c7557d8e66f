"""Billing: metering delivered-healthy capacity against the contract, rating it from the
price-book version a lease was signed at, SLA credits, invoices and credit notes.

A pure core like ``leasing`` and ``economics``: values in, values out; no framework,
no wall clock, no store. docs/billing.md explains the model and its invariants.
"""

from neocloud.billing.invoicing import (
    Correction,
    InvoiceRun,
    RatedLease,
    billed_by_lease,
    corrections,
    credit_note_id,
    invoice_id,
    invoice_run,
    prepaid_balances,
    rate_lease,
    was_issued,
)
from neocloud.billing.metering import CONTRACTED_STATES, LeaseHistory, Usage, meter, meter_all
from neocloud.billing.rating import COMMITTED_TIERS, rate, signed_price
from neocloud.billing.sla import CreditTier, SlaTerms, credit_share, default_terms, sla_credit, terms_of, terms_problems

__all__ = [
    "COMMITTED_TIERS",
    "CONTRACTED_STATES",
    "Correction",
    "CreditTier",
    "InvoiceRun",
    "LeaseHistory",
    "RatedLease",
    "SlaTerms",
    "Usage",
    "billed_by_lease",
    "corrections",
    "credit_note_id",
    "credit_share",
    "default_terms",
    "invoice_id",
    "invoice_run",
    "meter",
    "meter_all",
    "prepaid_balances",
    "rate",
    "rate_lease",
    "signed_price",
    "sla_credit",
    "terms_of",
    "terms_problems",
    "was_issued",
]
