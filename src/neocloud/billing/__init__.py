"""Billing: metering delivered-healthy capacity against the contract, rating it from the
price-book version a lease was signed at, SLA credits, invoices and credit notes.

A pure core like ``leasing`` and ``economics``: values in, values out; no framework,
no wall clock, no store. docs/billing.md explains the model and its invariants.
"""
