"""A request sent with an ``Idempotency-Key`` books at most once, whatever happens.

The key is claimed in the booking's own transaction, under the write lock. The same
bodies run on every store; crashes, a full disk and two server processes on the real
databases. A SQLite file that cannot be written is named in the error.
"""

from __future__ import annotations

import functools
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from neocloud import bootstrap
from neocloud.adapters.db.store import SqlStore, open_store
from neocloud.api.app import create_app
from neocloud.domain.access import Role
from neocloud.domain.changes import IdempotentResult, StoreError
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import RequestError, Unplaceable
from neocloud.services.idempotency import Claim, request_hash, run_once
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import LedgerStore
from neocloud.services.pricing import PricingService
from tests.builders import a_fleet
from tests.integration.stores import STORE_KINDS, Faulty, store_factory

START = datetime(2027, 3, 1, tzinfo=UTC)
DAY = 86_400
TENANT = "acme"
SCOPE = "key-1"  # the API key's id


def init(store: LedgerStore) -> LeasingService:
    """A fleet of four 8-GPU H100 nodes, one tenant and the seeded price book (for the
    servers' POSTs; this bare service itself prices nothing)."""
    svc = LeasingService(store, ManualClock(START))
    svc.init(build_fleet(a_fleet()), actor="test")
    svc.add_tenant(TENANT, actor="test")
    # in force since 2020: the servers of these tests run on the wall clock, before START
    PricingService(store, ManualClock(datetime(2020, 1, 1, tzinfo=UTC))).seed("test")
    return svc


def request(window: int, gpus: int = 8) -> LeaseRequest:
    """A lease in the ``window``-th month after START (each key books its own window)."""
    t0 = to_s(START) + window * 31 * DAY
    return LeaseRequest(
        TENANT, Shape(("H100",), gpus=gpus, locality=Locality.ANYWHERE), t0, t0 + 30 * DAY, Money(Decimal("2"))
    )


def keyed_create(svc: LeasingService, key: str, wanted: LeaseRequest) -> tuple[IdempotentResult, bool]:
    """``POST /v1/leases`` with an ``Idempotency-Key``, below the HTTP layer: the
    result's body is the booked lease's id."""
    fingerprint = request_hash("POST", "/v1/leases", repr(wanted))
    claim = Claim(SCOPE, key, fingerprint, 201, render=lambda booked: booked[0].id)
    return run_once(claim, lambda c: svc.create(wanted, actor="test", claim=c))


def leases_in(svc: LeasingService, wanted: LeaseRequest) -> list[str]:
    return [x.id for x in svc.leases() if x.request.start_s == wanted.start_s]


@pytest.fixture(params=STORE_KINDS)
def make(request: pytest.FixtureRequest) -> Callable[[], LedgerStore]:
    return store_factory(request.param, request)


# -- the claim, on every store ---------------------------------------------------------
def test_a_retry_replays_the_first_booking_and_books_nothing(make: Callable[[], LedgerStore]) -> None:
    svc = init(make())
    first, replayed_first = keyed_create(svc, "k", request(1))
    again, replayed_again = keyed_create(svc, "k", request(1))
    assert (replayed_first, replayed_again) == (False, True)
    assert again == first
    assert leases_in(svc, request(1)) == [first.body]


def test_a_key_used_for_another_request_is_refused_naming_the_header(make: Callable[[], LedgerStore]) -> None:
    svc = init(make())
    keyed_create(svc, "k", request(1))
    with pytest.raises(RequestError, match="Idempotency-Key: this key was already used for a different request"):
        keyed_create(svc, "k", request(2))
    assert leases_in(svc, request(2)) == []


def test_a_refused_request_keeps_nothing_so_its_key_may_be_retried(make: Callable[[], LedgerStore]) -> None:
    svc = init(make())
    svc.create(request(1, gpus=32), actor="other")  # the whole fleet, in window 1
    with pytest.raises(Unplaceable):
        keyed_create(svc, "k", request(1))
    svc.cancel(svc.leases()[0].id, actor="other")
    result, replayed = keyed_create(svc, "k", request(1))
    assert not replayed
    assert result.body in leases_in(svc, request(1))


def test_a_result_that_cannot_be_kept_leaves_no_lease_and_the_retry_books_once(
    make: Callable[[], LedgerStore],
) -> None:
    store = make()
    init(store)
    faulty = LeasingService(Faulty(store, fails="keep_result"), ManualClock(START))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="disk is full"):
        keyed_create(faulty, "k", request(1))
    svc = LeasingService(store, ManualClock(START))
    assert leases_in(svc, request(1)) == []
    result, replayed = keyed_create(svc, "k", request(1))
    assert not replayed
    assert leases_in(svc, request(1)) == [result.body]


# -- kill -9 between any two statements -------------------------------------------------
@pytest.fixture
def db_url(ledger_db_url: str) -> str:
    """A SQLite file or a PostgreSQL database holding the small fleet and the tenant."""
    store = open_store(ledger_db_url)
    init(store)
    store.close()
    return ledger_db_url


def test_a_booking_killed_between_any_two_statements_then_retried_leaves_exactly_one_lease(db_url: str) -> None:
    """Kill -9 the booking process just before its 1st, 2nd, ... SQL statement (COMMIT
    included), until one runs to the end; after each, the client's retry with the same
    key must leave exactly one lease: booked by the retry if the kill came before the
    commit, replayed if the booking committed."""
    parent = open_store(db_url)
    svc = LeasingService(parent, ManualClock(START))
    for statement in itertools.count(1):
        assert statement < 100, "the booking never ran to its end"
        key, wanted = f"crash-{statement}", request(statement)
        parent.close()  # nothing of the parent's pool goes into the child
        killed = _book_in_a_child_killed_at(db_url, key, wanted, statement)
        result, replayed = keyed_create(svc, key, wanted)
        assert leases_in(svc, wanted) == [result.body], f"killed before statement {statement}"
        assert replayed is not killed, f"killed before statement {statement}"
        if not killed:
            break
    assert statement > 8  # the kills really fell inside the transaction


def _book_in_a_child_killed_at(url: str, key: str, wanted: LeaseRequest, statement: int) -> bool:
    """In a forked child: the keyed booking, which SIGKILLs itself just before its
    ``statement``-th SQL statement. Whether it was killed (else it finished)."""
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            store = open_store(url)
            svc = LeasingService(store, ManualClock(START))
            svc.tenants()  # the cached view is built before the count starts
            _kill_at(store, statement)
            keyed_create(svc, key, wanted)
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        assert os.WTERMSIG(status) == signal.SIGKILL
        return True
    assert os.WEXITSTATUS(status) == 0, "the child failed (its traceback is above)"
    return False


def _kill_at(store: SqlStore, statement: int) -> None:
    """SIGKILL this process just before its ``statement``-th SQL statement from now on:
    SQLite reports every statement (each row of a batch, COMMIT included) to a trace
    callback; on PostgreSQL every cursor call, and the commit, are counted."""
    count = itertools.count(1)

    def tick(*_: object) -> None:
        if next(count) == statement:
            os.kill(os.getpid(), signal.SIGKILL)

    class Counting(psycopg.Cursor):  # type: ignore[type-arg]
        def execute(self, *args: Any, **kwargs: Any) -> Any:
            tick()
            return super().execute(*args, **kwargs)

        def executemany(self, *args: Any, **kwargs: Any) -> Any:
            tick()
            return super().executemany(*args, **kwargs)

    def arm(dbapi_connection: Any, *_: object) -> None:
        if store.dialect == "sqlite":
            dbapi_connection.set_trace_callback(tick)
        else:
            dbapi_connection.cursor_factory = Counting

    event.listen(store.engine, "checkout", arm)
    if store.dialect == "postgresql":
        event.listen(store.engine, "commit", tick)


# -- a disk that fills mid-request --------------------------------------------------------
def test_a_disk_that_fills_mid_request_leaves_one_lease_or_none_and_the_retry_books_once(tmp_path: Path) -> None:
    """SQLite's ``max_page_count`` stands for the disk. Before each keyed POST
    /v1/leases the disk is full: only the room left inside the file's pages remains,
    so whichever table needs a new page first (bookings, leases, events, kept results)
    fails the request. It either books (201) or fails with nothing booked (503); once
    the disk has room again the retry leaves exactly one lease for the key."""
    url = f"sqlite:///{tmp_path / 'full.db'}"
    services = bootstrap.services(url, ManualClock(START))
    init(services.leasing.store)
    _, token = services.keys.create(role=Role.TENANT, tenant=TENANT, actor="test", known_tenants={TENANT})
    store = services.leasing.store
    assert isinstance(store, SqlStore)
    disk = _Disk(store)
    client = TestClient(create_app(services))
    statuses = []
    for window in range(1, 25):
        body = _lease_body(window)
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"full-{window}"}
        disk.full = True
        first = client.post("/v1/leases", json=body, headers=headers)
        disk.full = False
        assert first.status_code in (201, 503), first.text
        statuses.append(first.status_code)
        retry = client.post("/v1/leases", json=body, headers=headers)
        assert retry.status_code == 201, retry.text
        assert retry.headers.get("idempotent-replayed") == ("true" if first.status_code == 201 else None)
        assert leases_in(services.leasing, request(window)) == [retry.json()["id"]]
    assert {201, 503} <= set(statuses)  # some requests fit in the full disk, some did not


class _Disk:
    """A SQLite database whose file may not grow while ``full``."""

    def __init__(self, store: SqlStore) -> None:
        self.full = False
        event.listen(store.engine, "checkout", self._apply)

    def _apply(self, dbapi_connection: Any, *_: object) -> None:
        cursor = dbapi_connection.cursor()
        try:
            used = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {used if self.full else 2**30}")
        finally:
            cursor.close()


def _lease_body(window: int) -> dict[str, Any]:
    t0 = START + timedelta(days=31 * window)
    return {"gpus": 8, "models": ["H100"], "start": t0.isoformat(), "end": (t0 + timedelta(days=30)).isoformat()}


# -- concurrent retries across two server processes --------------------------------------
CONCURRENT = 64
ROUNDS = 20
STARTUP_S = 60.0


def test_concurrent_same_key_posts_across_two_worker_processes_book_exactly_once(db_url: str) -> None:
    """64 clients send one POST /v1/leases with one key at once to ``serve --workers 2``,
    20 rounds with a new key each: every round books exactly one lease; one answer
    books it and every other answer replays it (the same lease, marked replayed)."""
    services = bootstrap.services(db_url, ManualClock(START))
    _, token = services.keys.create(role=Role.TENANT, tenant=TENANT, actor="test", known_tenants={TENANT})
    with _server(db_url, workers=2) as base:
        for window in range(1, ROUNDS + 1):
            headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"round-{window}"}
            # each client its own connection: one httpx pool shared by 64 threads can race on
            # its own sockets (EBADF), which says nothing about the server
            post = functools.partial(
                httpx.post, f"{base}/v1/leases", json=_lease_body(window), headers=headers, timeout=60
            )
            answers = _at_once(CONCURRENT, post)
            assert {a.status_code for a in answers} == {201}, [a.text for a in answers if a.status_code != 201]
            booked = leases_in(services.leasing, request(window))
            assert len(booked) == 1, f"round {window}: {len(booked)} leases for one key"
            assert {a.json()["id"] for a in answers} == set(booked)
            assert sorted(a.headers.get("idempotent-replayed", "") for a in answers) == [""] + ["true"] * (
                CONCURRENT - 1
            )


def _at_once(n: int, call: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """``call()`` from ``n`` threads released together; every answer."""
    start = threading.Barrier(n)
    answers: list[httpx.Response] = []
    failures: list[BaseException] = []

    def one() -> None:
        start.wait()
        try:
            answers.append(call())
        except BaseException as e:
            failures.append(e)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    return answers


@contextmanager
def _server(url: str, workers: int) -> Iterator[str]:
    """``neocloud serve --workers N`` on 127.0.0.1 and a free port; its base URL once it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "neocloud.cli.main", "serve", "--db", url, "--port", str(port)]
    proc = subprocess.Popen([*command, "--workers", str(workers)], stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            assert proc.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not answer"
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# -- a SQLite file that cannot be written ---------------------------------------------------
@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_a_read_only_wal_or_shm_file_is_named_in_the_error(suffix: str) -> None:
    """SQLite says only "attempt to write a readonly database"; the store names the file.
    The write is tried by an unprivileged user: root may write any file."""
    if os.geteuid() != 0:
        pytest.skip("needs root, to leave a file of another user in the database's folder")
    folder = Path(tempfile.mkdtemp(prefix="neocloud-ro-"))  # not under pytest's root-only tmp folder
    db = folder / "ledger.db"
    try:
        store = open_store(f"sqlite:///{db}")
        init(store)
        store.close()  # this process keeps no connection: its forked child starts clean
        with _reader(db):  # another process keeps the -wal and -shm files in place
            message = _write_as_another_user(folder, db, read_only=folder / f"ledger.db{suffix}")
    finally:
        shutil.rmtree(folder)
    assert "attempt to write a readonly database" in message, message
    assert f"({db}{suffix}: not writable by this process's user" in message, message


@contextmanager
def _reader(db: Path) -> Iterator[None]:
    """A process holding a read connection to ``db``."""
    script = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('SELECT * FROM ledger_meta').fetchall(); "
        "print('ready', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        yield
    finally:
        proc.communicate(timeout=30)


def _write_as_another_user(folder: Path, db: Path, read_only: Path) -> str:
    """The error of a write to ``db`` by a forked child running as ``nobody``, who owns
    the folder and the database's files except ``read_only`` (root's, mode 0644: a file
    left by a command run as root). A file of its own SQLite would simply chmod back."""
    nobody = pwd.getpwnam("nobody")
    for path in [folder, *folder.iterdir()]:
        if path != read_only:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    readable, writable = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            LeasingService(open_store(f"sqlite:///{db}"), ManualClock(START)).add_tenant("globex", actor="test")
            os.write(writable, b"no error")
        except StoreError as e:
            os.write(writable, str(e).encode())
        except BaseException:
            os.write(writable, traceback.format_exc().encode())
        os._exit(0)
    os.close(writable)
    with os.fdopen(readable, "rb") as answer:
        message = answer.read().decode()
    os.waitpid(pid, 0)
    return message
