"""Store factories shared by the persistence tests: every store runs the same test bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from neocloud.adapters.db.store import SqlStore, open_store
from neocloud.adapters.memory import MemoryStore
from neocloud.domain.changes import StoreError
from neocloud.services.ports import LedgerStore
from tests.integration.pg import PgServer

StoreFactory = Callable[[], LedgerStore]

#: The stores every service test runs on (pytest ids).
STORE_KINDS = ("memory", "sqlite", "postgres")


def memory_store() -> LedgerStore:
    return MemoryStore()


def sqlite_store(tmp_path: Path, name: str = "ledger.db") -> SqlStore:
    return open_store(f"sqlite:///{tmp_path / name}")


def postgres_store(server: PgServer) -> SqlStore:
    """A store on a new, empty database of the session's server."""
    return open_store(server.create_database())


def store_factory(kind: str, request: pytest.FixtureRequest) -> StoreFactory:
    """Makes stores of ``kind`` for one test; SQL stores are closed when it ends.
    Each call gives a new, empty store (a new file or a new database)."""
    if kind == "memory":
        return memory_store
    sql: list[SqlStore] = []
    request.addfinalizer(lambda: [s.close() for s in sql])
    if kind == "sqlite":
        tmp_path: Path = request.getfixturevalue("tmp_path")

        def make_sqlite() -> LedgerStore:
            sql.append(sqlite_store(tmp_path, f"ledger-{len(sql)}.db"))
            return sql[-1]

        return make_sqlite
    if kind == "postgres":
        server: PgServer = request.getfixturevalue("pg_server")

        def make_postgres() -> LedgerStore:
            sql.append(postgres_store(server))
            return sql[-1]

        return make_postgres
    raise ValueError(f"unknown store kind {kind!r}; known: {', '.join(STORE_KINDS)}")


class Faulty:
    """A store whose write transactions fail at one writer operation (``fails``, e.g.
    ``"keep_result"``), as a full disk or a lost connection would there; the rest is
    the real store. The transaction around the failure must leave nothing behind."""

    def __init__(self, store: LedgerStore, fails: str) -> None:
        self._store = store
        self._fails = fails

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    @contextmanager
    def writing(self) -> Iterator[Any]:
        with self._store.writing() as writer:
            yield _FaultyWriter(writer, self._fails)


class _FaultyWriter:
    def __init__(self, writer: Any, fails: str) -> None:
        self._writer = writer
        self._fails = fails

    def __getattr__(self, name: str) -> Any:
        if name != self._fails:
            return getattr(self._writer, name)

        def fail(*args: object) -> None:
            raise StoreError(f"cannot {name}: database or disk is full")

        return fail
