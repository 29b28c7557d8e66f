"""Fixtures for the integration tests: the session's throwaway PostgreSQL server,
empty ledger databases on SQLite and PostgreSQL, and the CLI tests' initialised
ledger (a module may define its own ``fleet_file`` or ``ledger`` instead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.pg import PgServer, pg_server
from tests.integration.test_cli_ledger import HEALTHY_ONLY, Ledger, run

__all__ = ["ledger_db_url", "pg_server"]


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database (no schema yet): a SQLite file or a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    server: PgServer = request.getfixturevalue("pg_server")
    return server.create_database()


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo fleet, every node healthy, as a fleet file."""
    path = tmp_path_factory.mktemp("fleet") / "f.yaml"
    assert run("fleet", "generate", "demo", "-o", path, *HEALTHY_ONLY).exit_code == 0
    return path


@pytest.fixture
def ledger(tmp_path: Path, fleet_file: Path) -> Ledger:
    """A fresh SQLite database with the healthy demo fleet and tenant ``acme``."""
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    led.ok("init", "--fleet", fleet_file)
    led.ok("tenant", "add", "acme")
    return led
