"""Concurrent writers and crashes on real databases: never more booked than exists.

16 writers (threads, then processes) race to book overlapping capacity on the same
database; afterwards no node is held twice, the GPUs booked never exceed the fleet,
and every writer that lost got a clear refusal. A booking process killed with
SIGKILL at random moments leaves either the whole lease or nothing.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from neocloud import bootstrap
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Unplaceable

START = datetime(2027, 3, 1, tzinfo=UTC)
DAY = 86_400
WRITERS = 16
HEALTHY_DEMO = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
H100_GPUS = 512  # demo-west: 64 H100 nodes


def init_db(url: str) -> None:
    svc = bootstrap.leasing_service(url, ManualClock(START))
    svc.init(build_fleet(preset("demo", HEALTHY_DEMO)), actor="test")
    for k in range(WRITERS):
        svc.add_tenant(f"t{k}", actor="test")


def request(tenant: str, gpus: int, offset_days: int = 1) -> LeaseRequest:
    t0 = to_s(START) + offset_days * DAY
    shape = Shape(("H100",), gpus=gpus, locality=Locality.ANYWHERE)
    return LeaseRequest(tenant, shape, t0, t0 + 30 * DAY, Money(Decimal("2.35")))


def try_book(url: str, tenant: str, gpus: int, attempts: int) -> tuple[int, int]:
    """Book ``attempts`` leases of ``gpus``; (booked, refused). Any other error fails the test."""
    svc = bootstrap.leasing_service(url, ManualClock(START))
    booked = refused = 0
    for _ in range(attempts):
        try:
            svc.create(request(tenant, gpus), actor=tenant)
            booked += 1
        except Unplaceable:
            refused += 1
    return booked, refused


def check_ledger(url: str) -> int:
    """No node held twice at once; returns the GPUs booked at the leases' shared window."""
    svc = bootstrap.leasing_service(url, ManualClock(START))
    spans: dict[str, list[tuple[int, int]]] = {}
    gpus = 0
    for lease in svc.leases():
        view = svc.show(lease.id)
        assert {b.node for b in view.bookings}, lease.id
        gpus += lease.gpus
        for b in view.bookings:
            spans.setdefault(b.node, []).append((b.start_s, b.end_s))
    for node, intervals in spans.items():
        intervals.sort()
        for (_, e1), (s2, _) in itertools.pairwise(intervals):
            assert e1 <= s2, f"node {node} held twice"
    return gpus


def test_sixteen_threads_never_book_more_than_exists(ledger_db_url: str) -> None:
    init_db(ledger_db_url)
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda k: try_book(ledger_db_url, f"t{k}", 64, 2), range(WRITERS)))
    booked = sum(b for b, _ in results)
    refused = sum(r for _, r in results)
    assert booked == H100_GPUS // 64
    assert booked + refused == WRITERS * 2
    assert check_ledger(ledger_db_url) == H100_GPUS


def _process_writer(url: str, tenant: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    out.put(try_book(url, tenant, 32, 2))


def test_sixteen_processes_never_book_more_than_exists(ledger_db_url: str) -> None:
    init_db(ledger_db_url)
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_process_writer, args=(ledger_db_url, f"t{k}", queue)) for k in range(WRITERS)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    booked = sum(b for b, _ in results)
    assert booked == H100_GPUS // 32
    assert sum(r for _, r in results) == WRITERS * 2 - booked
    assert check_ledger(ledger_db_url) == H100_GPUS


KILL_SCRIPT = """
import sys
from tests.integration.test_concurrency import try_book
print("ready", flush=True)
try_book(sys.argv[1], "t0", 256, 1)
print("done", flush=True)
"""


@pytest.mark.parametrize("seed", range(6))
def test_a_booking_killed_with_sigkill_leaves_the_whole_lease_or_nothing(ledger_db_url: str, seed: int) -> None:
    init_db(ledger_db_url)
    rng = random.Random(seed)
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, ledger_db_url],
        cwd=repo,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(repo)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == b"ready"
    time.sleep(rng.uniform(0.0, 0.6))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    svc = bootstrap.leasing_service(ledger_db_url, ManualClock(START))
    leases = svc.leases()
    assert len(leases) <= 1
    if leases:
        view = svc.show(leases[0].id)
        assert len({b.node for b in view.bookings}) == 256 // 8
    assert check_ledger(ledger_db_url) in (0, 256)
