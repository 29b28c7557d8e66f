"""Alembic migrations of the ledger schema (run by ``SqlStore.create_schema``)."""
