"""Leasing: the pure decisions of the capacity ledger (quote, book, change, heal)."""
