"""Fixtures for the integration tests: the session's throwaway PostgreSQL server,
and empty ledger databases on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.pg import PgServer, pg_server

__all__ = ["ledger_db_url", "pg_server"]


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database (no schema yet): a SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()
