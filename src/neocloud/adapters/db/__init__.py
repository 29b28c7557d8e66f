"""The ledger store on SQL databases (SQLite, PostgreSQL) with Alembic migrations."""
