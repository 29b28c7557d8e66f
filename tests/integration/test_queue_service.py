"""Internal pools' live job queues through the store port; the same bodies run on every store."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from neocloud.domain.changes import StoreError
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.health import Health
from neocloud.domain.presets import preset
from neocloud.domain.queue import Entry, Kind, PoolExists, TeamQuota
from neocloud.domain.shape import Shape
from neocloud.domain.spec import build_fleet
from neocloud.services.leasing import LeasingService
from neocloud.services.queue import QueueService
from tests.integration.stores import STORE_KINDS, store_factory

START = datetime(2027, 1, 4, tzinfo=UTC)
DAY = 86_400


class World:
    def __init__(self, kind: str, request: pytest.FixtureRequest) -> None:
        self.clock = ManualClock(START)
        self.store = store_factory(kind, request)()
        self.leasing = LeasingService(self.store, self.clock)
        healthy = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}
        self.leasing.init(build_fleet(preset("demo", healthy)), actor="test")
        self.queues = QueueService(self.store, self.leasing, self.clock)  # type: ignore[arg-type]

    def pool_nodes(self, pool: str) -> set[str]:
        now = to_s(self.clock.now())
        return {b.node for b in self.leasing.bookings(now, now + 1) if b.holder == pool}


@pytest.fixture(params=STORE_KINDS)
def world(request: pytest.FixtureRequest) -> World:
    w = World(request.param, request)
    w.queues.create_pool("train", policy="fifo", placement="firstfit", actor="op")
    now = to_s(w.clock.now())
    w.leasing.assign_pool("train", Shape(("H100",), gpus=16), now, now + 30 * DAY, actor="op")
    return w


def test_a_pool_runs_its_workloads_on_the_nodes_the_ledger_books_to_it(world: World):
    q = world.queues
    a = q.submit("train", name="pretrain-a", team="research", gpus=8, estimate_s=3600)
    b = q.submit("train", name="eval-b", team="evals", gpus=16, estimate_s=600)
    assert (a.state, b.state) == ("queued", "queued")
    q.cycle("train")
    a, b = q.workload("train", 0), q.workload("train", 1)
    assert (a.state, b.state) == ("running", "queued")  # 16 GPUs, 8 in use: FIFO holds b
    assert {n for n, _ in a.nodes} <= world.pool_nodes("train")
    assert a.expected_end_s == pytest.approx(to_s(START) + 3600)
    world.clock.advance(1800)
    q.finish("train", 0)
    q.cycle("train")
    b = q.workload("train", 1)
    assert b.state == "running"
    assert sum(k for _, k in b.nodes) == 16
    view = q.queue("train")
    assert (view.offered_gpus, view.used_gpus) == (16, 16)
    kinds = [e.kind for e in view.recent]
    assert kinds.count(Kind.CAPACITY) == 2  # the pool's two 8-GPU nodes joined at the first cycle
    assert kinds[-3:] == [Kind.FINISH, Kind.START, Kind.CYCLE]


def test_a_second_process_replays_the_journal_to_the_same_queue(world: World):
    q = world.queues
    for k in range(3):
        q.submit("train", name=f"w{k}", team="t", gpus=8, estimate_s=100.0 * (k + 1))
    q.cycle("train")
    world.clock.advance(100)
    q.finish("train", 0)
    q.cycle("train")
    other = QueueService(world.store, world.leasing, world.clock)  # type: ignore[arg-type]
    assert other.queue("train") == q.queue("train")
    other.submit("train", name="late", team="t", gpus=4, estimate_s=10)
    assert [w.name for w in q.queue("train").workloads][-1] == "late"  # the first one catches up


def test_a_node_that_fails_leaves_the_pool_and_its_workload_is_preempted_and_resumes(world: World):
    q = world.queues
    q.submit("train", name="a", team="t", gpus=8, estimate_s=3600)
    q.cycle("train")
    ((node, _),) = q.workload("train", 0).nodes
    world.clock.advance(60)
    world.leasing.set_health(node, Health.FAILED, at_s=None, actor="test", reason="GPU fell off the bus")
    entries = q.cycle("train")
    kinds = [(e.kind, e.job) for e in entries]
    assert (Kind.PREEMPT, 0) in kinds
    assert kinds.index((Kind.PREEMPT, 0)) < kinds.index((Kind.CAPACITY, -1))
    a = q.workload("train", 0)
    assert a.state == "running"  # resumed at once on the pool's other node
    assert a.preemptions == 1
    assert node not in {n for n, _ in a.nodes}
    assert [e.resume for e in entries if e.kind is Kind.START] == [True]


def test_bad_pools_and_workloads_are_refused_naming_the_field(world: World):
    q = world.queues
    with pytest.raises(RequestError) as bad:
        q.create_pool("no spaces", policy="lottery", placement="random", restart_s=-1, actor="op")
    text_ = str(bad.value)
    for field in ("name: 'no spaces'", "policy: 'lottery'", "placement: 'random'", "restart_s: -1 is not"):
        assert field in text_
    with pytest.raises(RequestError, match="quotas: apply to policy fairshare, not fifo"):
        q.create_pool("p2", quotas=(TeamQuota("t", 8),), actor="op")
    with pytest.raises(RequestError, match=r"quotas\[1\]: team 't' has a quota already"):
        q.create_pool("p2", policy="fairshare", quotas=(TeamQuota("t", 8), TeamQuota("t", 4)), actor="op")
    with pytest.raises(PoolExists, match="pool 'train' has a queue already"):
        q.create_pool("train", actor="op")
    with pytest.raises(NotFound, match="pool 'nope' has no queue"):
        q.submit("nope", name="a", team="t", gpus=1, estimate_s=1)
    with pytest.raises(RequestError, match="gpus: 0 is not a whole number from 1"):
        q.submit("train", name="a", team="t", gpus=0, estimate_s=1)
    q.submit("train", name="a", team="t", gpus=1, estimate_s=1)
    with pytest.raises(RequestError, match="workload a: is queued, not running"):
        q.finish("train", 0)
    assert [w.name for w in q.queue("train").workloads] == ["a"]
    assert [p.name for p in q.pools()] == ["train"]


def test_a_journal_entry_is_written_once(world: World):
    world.queues.submit("train", name="a", team="t", gpus=1, estimate_s=1)
    entry = Entry(1, 0.0, Kind.SUBMIT, 0, name="b", team="t", gpus=1, estimate_s=1)
    with (
        pytest.raises(StoreError, match="journal entry 1 was written by another writer first"),
        world.store.writing() as w,
    ):
        w.append_queue("train", [entry])
    assert [e.name for e in world.store.queue_entries("train")] == ["a"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_database_refuses_changing_or_deleting_a_journal_entry(kind: str, request: pytest.FixtureRequest):
    w = World(kind, request)
    w.queues.create_pool("train", actor="op")
    w.queues.submit("train", name="a", team="t", gpus=1, estimate_s=1)
    engine = w.store.engine  # type: ignore[attr-defined]
    for sql in ("UPDATE queue_entries SET job = 5", "DELETE FROM queue_entries"):
        with pytest.raises(Exception, match="queue_append_only"), engine.begin() as conn:
            conn.execute(text(sql))
    assert [e.name for e in w.store.queue_entries("train")] == ["a"]


def test_a_cycle_whose_commit_fails_leaves_no_trace_in_what_readers_see(world: World, monkeypatch):
    q = world.queues
    q.submit("train", name="a", team="t", gpus=8, estimate_s=3600)
    writing = world.store.writing

    @contextmanager
    def failing():
        with writing() as writer:
            yield writer
            raise StoreError("disk full")  # after the cycle applied its decisions, before the commit

    monkeypatch.setattr(world.store, "writing", failing)
    with pytest.raises(StoreError, match="disk full"):
        q.cycle("train")
    monkeypatch.undo()
    assert q.workload("train", 0).state == "queued"  # the start never committed
    assert q.queue("train").used_gpus == 0
    q.cycle("train")
    assert q.workload("train", 0).state == "running"


def test_a_cycle_that_read_the_ledger_before_another_cycle_wrote_reads_it_again(world: World):
    q = world.queues
    q.submit("train", name="a", team="t", gpus=8, estimate_s=3600)
    q.cycle("train")
    ((node, _),) = q.workload("train", 0).nodes
    other = QueueService(world.store, world.leasing, world.clock)  # type: ignore[arg-type]
    ask = world.leasing.pool_capacity
    calls = 0

    def stale_then_fresh(pool: str, at_s: int):
        nonlocal calls
        calls += 1
        answer = ask(pool, at_s)
        if calls == 1:  # between this read and our lock: the node fails, another process cycles
            world.leasing.set_health(node, Health.FAILED, at_s=None, actor="test", reason="ECC errors")
            other.cycle("train")
        return answer

    world.leasing.pool_capacity = stale_then_fresh  # type: ignore[method-assign]
    q.cycle("train")
    assert calls >= 2
    view = q.queue("train")
    assert view.offered_gpus == 8  # the failed node stays out: the stale answer was not applied
    assert node not in {n for w in view.workloads for n, _ in w.nodes}


def test_one_pool_failing_does_not_stop_the_others_cycling(world: World, monkeypatch, caplog):
    q = world.queues
    q.create_pool("a-first", actor="op")
    q.submit("train", name="a", team="t", gpus=8, estimate_s=3600)
    cycle = q.cycle

    def broken(pool: str):
        if pool == "a-first":
            raise RuntimeError("boom")
        return cycle(pool)

    monkeypatch.setattr(q, "cycle", broken)
    q.cycle_all()
    assert q.workload("train", 0).state == "running"
    assert "pool a-first: the cycle failed" in caplog.text
