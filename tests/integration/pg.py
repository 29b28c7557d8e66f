"""A throwaway PostgreSQL server for the tests, from Debian's packages.

One server per test session (per xdist worker): ``initdb`` into a temporary
folder owned by the ``postgres`` user (the server refuses to run as root, so as
root the tools run through ``runuser -u postgres --``), listening only on
127.0.0.1 on a free port with its unix socket in that folder, durability off
(fsync) since the data is thrown away. Each store gets a database of its own.

Without the binaries the PostgreSQL tests are skipped with the reason, unless
``NEOCLOUD_REQUIRE_PG=1`` (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from neocloud.devtools.pgserver import PgServer, find_bin_dir, start_server, stop_server

REQUIRE_ENV = "NEOCLOUD_REQUIRE_PG"
__all__ = ["PgServer", "pg_server"]


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL tests are required here ({REQUIRE_ENV}=1) but cannot run: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        _unavailable("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        raise AssertionError("unreachable")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        _unavailable("running as root and runuser is missing (the server refuses to run as root)")
    try:
        server = start_server(bin_dir)
    except (subprocess.CalledProcessError, RuntimeError, OSError) as e:
        detail = e.stderr if isinstance(e, subprocess.CalledProcessError) else str(e)
        _unavailable(f"could not start a server from {bin_dir}: {detail}")
        raise AssertionError("unreachable") from e
    try:
        yield server
    finally:
        stop_server(server)
